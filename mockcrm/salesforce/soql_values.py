"""Typed comparison keys for SOQL: how record values and literals of each field type are compared.

Every field type maps to a *category* with two functions: ``record_key`` turns a stored JSON value into a
comparable key (``None`` = null or unusable, so a malformed stored value never raises), and literals
are converted once per query by :func:`literal_key` / :func:`literal_range`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import msgspec

from mockcrm.salesforce.soql_ast import Literal
from mockcrm.salesforce.soql_lexer import SoqlError, positioned


class FieldInfo(msgspec.Struct, frozen=True):
    name: str  # canonical API name, e.g. "LastModifiedDate"
    type: str  # Salesforce describe type (id, reference, string, …, date, datetime)


# Categories.
TEXT = "text"
MULTI = "multipicklist"
ID = "id"
BOOL = "boolean"
NUMBER = "number"
DATE = "date"
DATETIME = "datetime"

_CATEGORY = {
    "id": ID,
    "reference": ID,
    "boolean": BOOL,
    "int": NUMBER,
    "long": NUMBER,
    "double": NUMBER,
    "currency": NUMBER,
    "percent": NUMBER,
    "date": DATE,
    "datetime": DATETIME,
    "multipicklist": MULTI,
}

# The type names Salesforce uses in "must be of type …" messages.
_TYPE_WORD = {TEXT: "string", ID: "id", BOOL: "boolean", DATE: "date", DATETIME: "dateTime"}


def category(field: FieldInfo) -> str:
    """The comparison category of a describe type; unknown/other text-like types compare as text."""
    return _CATEGORY.get(field.type.lower(), TEXT)


Key = str | float | int | bool


# -- record values -> keys --------------------------------------------------------------------------
def _text_key(v: object) -> Key | None:
    # Salesforce stores an empty text value as null, so '' behaves like null everywhere.
    return v.casefold() if type(v) is str and v else None


def _id_key(v: object) -> Key | None:
    # 15-character ids are the case-sensitive identity; 18-character ones add a checksum suffix.
    return v[:15] if type(v) is str and v else None


def _bool_key(v: object) -> Key | None:
    return v if type(v) is bool else None


def _number_key(v: object) -> Key | None:
    return v if type(v) is int or type(v) is float else None


def _date_key(v: object) -> Key | None:
    if type(v) is str and len(v) == 10:
        return v
    if type(v) is str and v:
        return _date_from_any(v)
    return None


def _datetime_key(v: object) -> Key | None:
    # Fast path: records hold "2024-01-05T10:00:00.000+0000"; strings in that exact shape are ordered
    # lexicographically like the instants they denote, so they are their own key.
    if type(v) is str and len(v) == 28 and v.endswith("+0000"):
        return v
    if type(v) is str and v:
        return _datetime_from_any(v)
    return None


@lru_cache(maxsize=4096)
def _datetime_from_any(v: str) -> str | None:
    try:
        dt = datetime.fromisoformat(v.replace("+0000", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return format_instant(dt)
    except (OverflowError, ValueError):
        return None


@lru_cache(maxsize=4096)
def _date_from_any(v: str) -> str | None:
    try:
        return date.fromisoformat(v[:10]).isoformat()
    except ValueError:
        return None


RECORD_KEY: dict[str, Callable[[object], Key | None]] = {
    TEXT: _text_key,
    MULTI: lambda v: _multi_key(v) if type(v) is str and v else None,
    ID: _id_key,
    BOOL: _bool_key,
    NUMBER: _number_key,
    DATE: _date_key,
    DATETIME: _datetime_key,
}


# -- literals -> keys ---------------------------------------------------------------------------------
def format_instant(dt: datetime) -> str:
    """Normalised UTC ``+0000`` form of an aware datetime, comparable with stored values as strings.

    Milliseconds as stored; a sub-millisecond remainder is kept as 6 digits, which still orders
    correctly against the 3-digit stored form because '+' sorts before every digit.
    """
    dt = dt.astimezone(UTC)
    # isoformat pads years below 1000 (strftime's %Y does not on every platform).
    base = dt.replace(tzinfo=None, microsecond=0).isoformat()
    if dt.microsecond % 1000:
        return f"{base}.{dt.microsecond:06d}+0000"
    return f"{base}.{dt.microsecond // 1000:03d}+0000"


_DT_PARTS = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):?(\d{2}))",
    re.ASCII,
)


def parse_datetime_literal(text: str) -> str:
    """``2024-01-05T10:00:00+01:00`` -> ``2024-01-05T09:00:00.000+0000``; ValueError if invalid."""
    m = _DT_PARTS.fullmatch(text)
    if not m:
        raise ValueError(text)
    y, mo, d, h, mi, s, frac, _z, sign, oh, om = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    dt = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, tzinfo=UTC)
    if sign:
        offset = timedelta(hours=int(oh), minutes=int(om))
        if int(oh) > 23 or int(om) > 59:
            raise ValueError(text)
        dt = dt - offset if sign == "+" else dt + offset
    return format_instant(dt)


def type_error(text: str, lit: Literal, field: FieldInfo, cat: str | None = None) -> SoqlError:
    """INVALID_FIELD for a literal of the wrong type, worded as Salesforce does."""
    cat = cat or category(field)
    if cat in (TEXT, ID, MULTI):
        detail = f"value of filter criterion for field '{field.name}' must be of type string and should be enclosed in quotes"  # noqa: E501
    else:
        word = _TYPE_WORD.get(cat) or ("integer" if field.type.lower() in ("int", "long") else "double")
        detail = f"value of filter criterion for field '{field.name}' must be of type {word} and should not be enclosed in quotes"  # noqa: E501
    return SoqlError("INVALID_FIELD", positioned(text, lit.pos, detail))


_ID_CHARS = re.compile(r"[0-9A-Za-z]{15}(?:[A-Za-z0-5]{3})?")
_ID_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def canonical_id(value: str) -> str | None:
    """The case-sensitive 15-character form of a 15- or 18-character id, or None if malformed.

    An 18-character id is case-insensitive: its suffix records which of the first 15 characters are
    upper case, so a lower-cased 18-character id still names the same record.
    """
    if not _ID_CHARS.fullmatch(value):
        return None
    if len(value) == 15:
        return value
    chars = list(value[:15])
    for chunk in range(3):
        flags = _ID_SUFFIX.index(value[15 + chunk].upper())
        for j in range(5):
            c = chars[chunk * 5 + j]
            chars[chunk * 5 + j] = c.upper() if flags >> j & 1 else c.lower()
    return "".join(chars)


def literal_key(text: str, lit: Literal, field: FieldInfo) -> Key | None:
    """The comparison key of a plain literal for ``field`` (None for null); SoqlError on a type clash."""
    cat = category(field)
    if lit.kind == "null":
        return None
    if cat == MULTI:
        # '=' on a multi-select picklist compares the set of selections, in any order.
        if lit.kind != "string":
            raise type_error(text, lit, field, cat)
        return _multi_key(lit.value) or None
    if cat == TEXT:
        if lit.kind != "string":
            raise type_error(text, lit, field, cat)
        return lit.value.casefold() or None
    if cat == ID:
        if lit.kind != "string":
            raise type_error(text, lit, field, cat)
        if not lit.value:
            return None
        canon = canonical_id(lit.value)
        if canon is None:
            raise SoqlError(
                "INVALID_QUERY_FILTER_OPERATOR", positioned(text, lit.pos, f"invalid ID field: {lit.value}")
            )
        return canon
    if cat == BOOL:
        if lit.kind != "boolean":
            raise type_error(text, lit, field, cat)
        return lit.value == "TRUE"
    if cat == NUMBER:
        if lit.kind != "number":
            raise type_error(text, lit, field, cat)
        try:
            return (
                int(lit.value)
                if lit.value.lstrip("+-").isdigit() and len(lit.value) < 19
                else float(lit.value)
            )
        except ValueError:
            raise type_error(text, lit, field, cat) from None
    if cat == DATE:
        if lit.kind != "date":
            raise type_error(text, lit, field, cat)
        try:
            return date.fromisoformat(lit.value).isoformat()
        except ValueError:
            raise SoqlError(
                "MALFORMED_QUERY", positioned(text, lit.pos, f"invalid date: {lit.value}")
            ) from None
    # DATETIME
    if lit.kind != "datetime":
        raise type_error(text, lit, field, cat)
    try:
        return parse_datetime_literal(lit.value)
    except (ValueError, OverflowError):
        raise SoqlError(
            "MALFORMED_QUERY", positioned(text, lit.pos, f"invalid dateTime: {lit.value}")
        ) from None


# -- relative date literals (TODAY, LAST_N_DAYS:n, …) ------------------------------------------------
def _add_months(d: date, months: int) -> date:
    total = d.year * 12 + d.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def _date_range(name: str, n: int, today: date) -> tuple[date, date]:
    """[start, end) in days for a relative date literal; weeks start on Sunday (US locale)."""
    day = timedelta(days=1)
    sunday = today - timedelta(days=(today.weekday() + 1) % 7)
    month = today.replace(day=1)
    year = date(today.year, 1, 1)
    ranges: dict[str, Callable[[], tuple[date, date]]] = {
        "TODAY": lambda: (today, today + day),
        "YESTERDAY": lambda: (today - day, today),
        "TOMORROW": lambda: (today + day, today + 2 * day),
        "LAST_WEEK": lambda: (sunday - 7 * day, sunday),
        "THIS_WEEK": lambda: (sunday, sunday + 7 * day),
        "NEXT_WEEK": lambda: (sunday + 7 * day, sunday + 14 * day),
        "LAST_MONTH": lambda: (_add_months(month, -1), month),
        "THIS_MONTH": lambda: (month, _add_months(month, 1)),
        "NEXT_MONTH": lambda: (_add_months(month, 1), _add_months(month, 2)),
        "LAST_90_DAYS": lambda: (today - 90 * day, today + day),
        "NEXT_90_DAYS": lambda: (today + day, today + 91 * day),
        "THIS_YEAR": lambda: (year, date(today.year + 1, 1, 1)),
        "LAST_YEAR": lambda: (date(today.year - 1, 1, 1), year),
        "NEXT_YEAR": lambda: (date(today.year + 1, 1, 1), date(today.year + 2, 1, 1)),
        "LAST_N_DAYS": lambda: (today - n * day, today + day),
        "NEXT_N_DAYS": lambda: (today + day, today + (n + 1) * day),
        "N_DAYS_AGO": lambda: (today - n * day, today - (n - 1) * day),
        "LAST_N_WEEKS": lambda: (sunday - 7 * n * day, sunday),
        "NEXT_N_WEEKS": lambda: (sunday + 7 * day, sunday + 7 * (n + 1) * day),
    }
    return ranges[name]()


def literal_range(text: str, lit: Literal, field: FieldInfo, now: datetime) -> tuple[str, str]:
    """[low, high) keys of a relative date literal for a date or datetime field."""
    cat = category(field)
    if cat not in (DATE, DATETIME):
        raise type_error(text, lit, field, cat)
    try:
        start, end = _date_range(lit.value, lit.n, now.astimezone(UTC).date())
    except (OverflowError, ValueError):
        raise SoqlError(
            "NUMBER_OUTSIDE_VALID_RANGE", positioned(text, lit.pos, f"invalid date range: {lit.n}")
        ) from None
    if cat == DATE:
        return start.isoformat(), end.isoformat()
    return f"{start.isoformat()}T00:00:00.000+0000", f"{end.isoformat()}T00:00:00.000+0000"


def _multi_key(value: str) -> str:
    return ";".join(sorted(picklist_set(value)))


def picklist_set(value: str) -> frozenset[str]:
    """A multi-select picklist value ("a;b") as a set of case-folded, trimmed items."""
    return frozenset(part.strip().casefold() for part in value.split(";") if part.strip())
