"""Field-level checks on the values of one create or update, with Salesforce's error codes (B10).

``check_values`` turns the JSON a client sent into stored values (typed, canonical names, blank
strings as null) and collects the per-record errors. A value of the wrong JSON type is not a
per-record error in Salesforce but a failure to deserialize the whole request, so it raises.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime

from mockcrm.salesforce.errors import RecordError, SalesforceError, json_parser_error
from mockcrm.salesforce.ids import key15, to18
from mockcrm.salesforce.schema import STRING_TYPES, FieldDef, SObjectDef

# Close to what Salesforce accepts: local@domain.tld with no spaces and one @.
_EMAIL_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")

RefCheck = Callable[[FieldDef, str], RecordError | None]


def _wrong_type(fd: FieldDef, value: object) -> SalesforceError:
    kind = {
        "boolean": "boolean",
        "int": "int",
        "double": "double",
        "currency": "double",
        "percent": "double",
        "date": "date",
        "datetime": "datetime",
    }.get(fd.type, "String")
    token = (
        "VALUE_STRING"
        if isinstance(value, str)
        else (
            "START_OBJECT"
            if isinstance(value, dict)
            else "START_ARRAY"
            if isinstance(value, list)
            else "VALUE_NUMBER_INT"
            if isinstance(value, int)
            else "VALUE_NUMBER_FLOAT"
        )
    )
    return json_parser_error(
        f"Cannot deserialize instance of {kind} from {token} value {value} or request may be missing a "
        f"required field at [line:1, column:1]"
    )


def salesforce_datetime(dt: datetime) -> str:
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime | None:
    """ISO 8601 with ``Z``, ``+hh:mm`` or ``+hhmm``; naive means UTC, as Salesforce reads it."""
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    elif len(t) > 5 and t[-5] in "+-" and t[-4:].isdigit() and "T" in t:
        t = t[:-2] + ":" + t[-2:]
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def coerce(fd: FieldDef, value: object) -> object:
    """The stored form of ``value`` for field ``fd``; raises JSON_PARSER_ERROR for impossible types."""
    if value is None or value == "":
        return None
    t = fd.type
    if t in STRING_TYPES:
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise _wrong_type(fd, value)
    if t == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _wrong_type(fd, value)
    if t in ("int", "double", "currency", "percent"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _wrong_type(fd, value)
        try:
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(value)
            if t == "int":
                if number != int(number):
                    raise ValueError(value)
                return int(number)
        except (ValueError, OverflowError):  # "abc", 1e999, 10**400, 1.5 for an int
            raise _wrong_type(fd, value) from None
        return number
    if t == "date":
        if isinstance(value, str):
            text = value[:10]
            if _DATE_RE.fullmatch(text):
                try:
                    date.fromisoformat(text)
                except ValueError:
                    raise _wrong_type(fd, value) from None
                return text
        raise _wrong_type(fd, value)
    if t == "datetime":
        if isinstance(value, str):
            dt = parse_datetime(value)
            if dt is not None:
                try:
                    return salesforce_datetime(dt)
                except (ValueError, OverflowError):  # year 9999 pushed past the range by its offset
                    pass
        raise _wrong_type(fd, value)
    if t in ("reference", "id"):
        if isinstance(value, str):
            return value
        raise _wrong_type(fd, value)
    return value


def check_values(
    obj: SObjectDef,
    values: Mapping[str, object],
    *,
    creating: bool,
    ref_check: RefCheck,
    skip: frozenset[str] = frozenset(),
) -> tuple[dict[str, object], list[RecordError]]:
    """Typed, canonical values and the per-record errors (not counting rules and duplicates).

    ``skip`` holds lower-case names the caller handles itself (``attributes``, a collection's ``id``).
    Unknown fields fail the whole request with INVALID_FIELD, as a deserialization error does.
    This runs for every record of every write, so the common case (a string for a text field, sent
    under its canonical name) takes the shortest path.
    """
    clean: dict[str, object] = {}
    errors: list[RecordError] = []
    read_only: list[str] = []
    nulled: list[str] = []
    exact = obj.fields
    plain = obj.plain_text_fields(creating)
    for key, raw in values.items():
        # Fast path: a checkbox, or a non-empty string for a text or email field (see
        # ``plain_text_fields``); anything unusual falls through to the general path.
        limit = plain.get(key)
        if limit is not None:
            if limit == 0:
                if type(raw) is bool:
                    clean[key] = raw
                    continue
            elif type(raw) is str and raw and (limit > 0 or _EMAIL_RE.fullmatch(raw) is not None):
                clean[key] = raw
                if len(raw) > abs(limit):
                    errors.append(
                        RecordError(
                            "STRING_TOO_LONG",
                            f"{exact[key].label}: data value too large: {raw[:80]} (max length={abs(limit)})",
                            [key],
                        )
                    )
                continue
        fd = exact.get(key)
        if fd is None:
            lower = key.lower()
            if lower in skip:
                continue
            fd = obj.by_lower.get(lower)
            if fd is None:
                raise SalesforceError.one(
                    400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}"
                )
        t = fd.type
        if t == "id" and "id" in skip:
            continue
        if not (fd.createable if creating else fd.updateable):
            read_only.append(fd.name)
            continue
        name = fd.name
        if raw.__class__ is str and t in STRING_TYPES:
            value: object = raw or None
        else:
            value = coerce(fd, raw)
        if value is None:
            if t == "boolean":
                value = False  # a checkbox cannot be null
            elif not fd.nillable:
                nulled.append(name)
            clean[name] = value
            continue
        clean[name] = value
        if value.__class__ is not str:
            if (
                fd.precision
                and isinstance(value, int | float)
                and abs(value) >= 10 ** (fd.precision - fd.scale)
            ):
                # More integer digits than the field's precision allows.
                errors.append(
                    RecordError(
                        "NUMBER_OUTSIDE_VALID_RANGE",
                        f"{fd.label}: value outside of valid range on numeric field: {value}",
                        [name],
                    )
                )
            continue
        text = str(value)
        if fd.length and len(text) > fd.length:
            errors.append(
                RecordError(
                    "STRING_TOO_LONG",
                    f"{fd.label}: data value too large: {text[:80]} (max length={fd.length})",
                    [name],
                )
            )
        elif t == "email" and _EMAIL_RE.fullmatch(text) is None:
            errors.append(
                RecordError("INVALID_EMAIL_ADDRESS", f"{fd.label}: invalid email address: {text}", [name])
            )
        elif fd.restricted and text not in fd.picklist:
            errors.append(
                RecordError(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{fd.label}: bad value for restricted picklist field: {text}",
                    [name],
                )
            )
        elif t == "reference" or t == "id":
            err = ref_check(fd, text)
            if err is not None:
                errors.append(err)
            else:
                clean[name] = _to18(text)
    if read_only:
        errors.insert(
            0,
            RecordError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(read_only)}. "
                "Please check the security settings of this "
                "field and verify that it is read/write for your profile or permission set.",
                read_only,
            ),
        )
    if creating:
        missing = [n for n in obj.required_names() if clean.get(n) is None]
    else:
        missing = [n for n in nulled if obj.fields[n].createable or obj.fields[n].updateable]
    if missing:
        errors.append(
            RecordError(
                "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing
            )
        )
    return clean, errors


def _to18(value: str) -> str:
    k = key15(value)
    return to18(k) if k is not None else value
