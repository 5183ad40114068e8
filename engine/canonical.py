"""Canonical values (SPEC §3.2): one form per field kind that HubSpot's strings and Salesforce's
typed values both reduce to, so that formatting never looks like a change (that is how echo loops
start), and the conversions back to each side's wire form.

A canonical value is a ``str`` or ``None`` (blank). Strings keep bases trivially storable and
comparable with ``==``. The forms:

- string: trimmed (Salesforce trims text on save, HubSpot does not), CRLF read as LF;
- email and owner: trimmed and lower-cased (HubSpot lower-cases emails on save, Salesforce keeps
  the case);
- number: the shortest decimal of the IEEE double (``"1000"``, ``"0.1"``), because Salesforce
  numbers travel as JSON doubles, so finer precision could never survive a round trip;
- boolean: ``"true"`` / ``"false"``;
- date: ``YYYY-MM-DD``; datetime: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC, whole seconds, because
  Salesforce keeps datetimes to the second and HubSpot's milliseconds would otherwise echo;
- enumeration, state, country: trimmed, translated through the mapping's ``values`` table;
- multi: the items translated, de-duplicated, sorted and joined with ``;``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from engine.mapping import FieldKind, ValueTable

SalesforceValue = str | int | float | bool | None
"""A Salesforce field value as its JSON decodes (dates and datetimes are strings)."""

_NUMBERS = (int, float)
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_TEXT_KINDS = frozenset({FieldKind.ENUMERATION, FieldKind.STATE, FieldKind.COUNTRY})
# Members bound once: an Enum class attribute costs ~0.1 µs, and these run per field per record.
_STRING, _NUMBER, _BOOLEAN = FieldKind.STRING, FieldKind.NUMBER, FieldKind.BOOLEAN
_DATE, _DATETIME, _MULTI = FieldKind.DATE, FieldKind.DATETIME, FieldKind.MULTI


class CanonicalError(ValueError):
    """A value that cannot be read as its field's kind (e.g. ``"abc"`` for a number)."""


def from_hubspot(kind: FieldKind, raw: str | None, table: ValueTable | None = None) -> str | None:
    """The canonical form of a HubSpot property value (always a string on the wire).

    ``table`` is the mapping's translation table (FieldMapping.table), if it has one.
    """
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise CanonicalError(f"HubSpot values are strings, got {type(raw).__name__} {raw!r}")
    text = raw.strip()
    return _PARSE[kind](text, table) if text else None


def from_salesforce(kind: FieldKind, raw: SalesforceValue, table: ValueTable | None = None) -> str | None:
    """The canonical form of a Salesforce field value (typed JSON)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        text = raw.strip()
        return _PARSE[kind](text, table) if text else None
    # A mapping configured without a kind is a string one; its Salesforce side may still be typed,
    # so string accepts booleans and numbers in their canonical spelling rather than failing.
    if isinstance(raw, bool):  # before int: bool is an int subclass
        if kind is _BOOLEAN or kind is _STRING:
            return "true" if raw else "false"
        raise CanonicalError(f"a {kind.value} field cannot hold the boolean {raw!r}")
    if isinstance(raw, _NUMBERS):
        if kind is _NUMBER or kind is _STRING:
            return _number(raw)
        raise CanonicalError(f"a {kind.value} field cannot hold the number {raw!r}")
    raise CanonicalError(f"unexpected Salesforce value {raw!r}")


def to_hubspot(kind: FieldKind, value: str | None, table: ValueTable | None = None) -> str:
    """The string to send HubSpot for a canonical value; ``""`` clears the property."""
    if value is None:
        return ""
    if kind is _DATE:
        # HubSpot's own form for date properties: midnight UTC in epoch milliseconds.
        day = date.fromisoformat(value)
        return str(int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000)
    if kind is _DATETIME:
        return value[:-1] + ".000Z"
    if table is not None and kind in _TEXT_KINDS:
        return table.hubspot_value(value)
    if table is not None and kind is _MULTI:
        return ";".join(table.hubspot_value(item) for item in value.split(";"))
    return value


def to_salesforce(kind: FieldKind, value: str | None) -> SalesforceValue:
    """The typed value to send Salesforce for a canonical value; ``None`` clears the field."""
    if value is None:
        return None
    if kind is _NUMBER:
        number = float(value)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind is _BOOLEAN:
        return value == "true"
    if kind is _DATETIME:
        return value[:-1] + ".000+0000"
    # Dates are already Salesforce's YYYY-MM-DD; text and multi-selects go as they are.
    return value


@lru_cache(maxsize=4096)
def parse_timestamp_ms(text: str) -> int:
    """Epoch milliseconds from a HubSpot (``…Z``, epoch ms) or Salesforce (``…+0000``) timestamp.

    For the records' modification times, which the reconciler compares in two_way conflicts.
    Cached: every record a batch write touches comes back with one stamp (Salesforce's are whole
    seconds), and each is parsed several times on its way (stream, echo check, reconcile).
    """
    stripped = text.strip()
    if stripped.lstrip("-").isdigit():
        return int(stripped)
    return epoch_ms(_parse_datetime(stripped))


def epoch_ms(moment: datetime) -> int:
    """Whole epoch milliseconds, floored like the CRMs' own clocks.

    Integer arithmetic on purpose: ``int(moment.timestamp() * 1000)`` rounds through a double and
    truncates toward zero, which puts a pre-1970 moment one millisecond (and one second, once the
    milliseconds are dropped) after itself.
    """
    return (moment - _EPOCH) // _ONE_MS


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def _number(raw: str | int | float) -> str:
    if isinstance(raw, str):
        try:
            number = float(Decimal(raw))
        except (InvalidOperation, OverflowError) as exc:
            raise CanonicalError(f"{raw!r} is not a number") from exc
    else:
        number = float(raw)
    if not math.isfinite(number):
        raise CanonicalError(f"{raw!r} is not a finite number")
    if number == 0:
        return "0"  # also folds -0
    # repr is the shortest string that reads back as the same double.
    return format(Decimal(repr(number)).normalize(), "f")


def _boolean(text: str) -> str:
    folded = text.casefold()
    if folded in _TRUE:
        return "true"
    if folded in _FALSE:
        return "false"
    raise CanonicalError(f"{text!r} is not a boolean")


def _date(text: str) -> str:
    if text.lstrip("-").isdigit():
        return _from_epoch_ms(int(text)).date().isoformat()
    if len(text) == 10:
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError as exc:
            raise CanonicalError(f"{text!r} is not a date") from exc
    # A datetime mapped to a date (R-MAP-7 allows date ↔ datetime): its UTC day.
    return _parse_datetime(text).date().isoformat()


def _parse_datetime(text: str) -> datetime:
    """An aware UTC datetime from ISO 8601 (``Z``, ``+0000``, ``+00:00``, naive = UTC) or epoch ms."""
    if text.lstrip("-").isdigit():
        return _from_epoch_ms(int(text))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CanonicalError(f"{text!r} is not a datetime") from exc
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _from_epoch_ms(ms: int) -> datetime:
    try:
        return _EPOCH + ms * _ONE_MS
    except OverflowError as exc:
        raise CanonicalError(f"{ms} is out of range for epoch milliseconds") from exc


def _string(text: str, table: ValueTable | None) -> str:
    # Text areas edited in a browser arrive with CRLF on one side and LF on the other.
    return text.replace("\r\n", "\n") if "\r" in text else text


def _lower(text: str, table: ValueTable | None) -> str:
    return text.lower()


def _datetime(text: str, table: ValueTable | None) -> str:
    return _parse_datetime(text).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _option(text: str, table: ValueTable | None) -> str:
    return table.salesforce_value(text) if table is not None else text


def _multi(text: str, table: ValueTable | None) -> str | None:
    items = {_option(item.strip(), table) for item in text.split(";") if item.strip()}
    return ";".join(sorted(items)) if items else None


SELF_CANONICAL = frozenset(
    {FieldKind.STRING, FieldKind.EMAIL, FieldKind.ENUMERATION, FieldKind.STATE, FieldKind.COUNTRY}
)
"""Kinds whose canonical strings read back as themselves from either side when the mapping has
no ``values`` table: a raw value equal to a canonical one is that canonical value (the echo
checks compare such values without converting them; ``test_canonical`` holds it)."""

# The parser per kind, for text that is already trimmed and not blank.
_PARSE: dict[FieldKind, Callable[[str, ValueTable | None], str | None]] = {
    FieldKind.STRING: _string,
    FieldKind.EMAIL: _lower,
    FieldKind.OWNER: _lower,
    FieldKind.NUMBER: lambda text, _: _number(text),
    FieldKind.BOOLEAN: lambda text, _: _boolean(text),
    FieldKind.DATE: lambda text, _: _date(text),
    FieldKind.DATETIME: _datetime,
    FieldKind.ENUMERATION: _option,
    FieldKind.STATE: _option,
    FieldKind.COUNTRY: _option,
    FieldKind.MULTI: _multi,
}
