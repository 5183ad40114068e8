"""Property values: validation and normalisation on write, typed comparison keys for search.

HubSpot stores every value as a string; the property's ``type`` decides what strings are valid and
how search compares them (numbers and dates numerically, strings case-insensitively).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from functools import lru_cache

from mockcrm.clock import hubspot_iso
from mockcrm.hubspot.errors import PropertyProblem
from mockcrm.hubspot.schema import PropertyDef
from mockcrm.hubspot.standard import OWNER_PROPERTY

MAX_STRING = 65_536
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DAY_MS = 86_400_000
_MIN_MS, _MAX_MS = -30_610_224_000_000, 253_402_300_799_999  # 1000-01-01 .. 9999-12-31 (four-digit years)

RawValue = str | int | float | bool | None


def parse_id(text: str) -> int | None:
    """A record id or offset written in ASCII digits, or None. ``str.isdigit`` alone would let
    through other scripts' digits and numbers too long for ``int()``, both of which raise there."""
    if 0 < len(text) <= 18 and text.isascii() and text.isdigit():
        return int(text)
    return None


def as_string(raw: RawValue) -> str:
    """What a JSON value sent for a property means as HubSpot's string form."""
    if isinstance(raw, str):
        return raw
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


@lru_cache(maxsize=4096)
def iso_ms(text: str) -> int | None:
    """Epoch ms of an ISO 8601 datetime or date (naive = UTC), or None."""
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def time_ms(text: str) -> int | None:
    """A datetime or date given as epoch ms or ISO 8601, in epoch ms; None outside years 1-9999
    (four-digit years only) and for anything too long to be a timestamp."""
    t = text.strip()
    number = parse_id(t[1:] if t.startswith("-") else t)
    if number is not None:
        ms: int | None = -number if t.startswith("-") else number
    else:
        ms = iso_ms(t) if len(t) <= 40 else None  # the cache only ever holds short strings
    return ms if ms is not None and _MIN_MS <= ms <= _MAX_MS else None


@lru_cache(maxsize=4096)
def iso_of(ms: int) -> str:
    return hubspot_iso(ms)


def _problem(prop: PropertyDef, code: str, message: str) -> PropertyProblem:
    return PropertyProblem(name=prop.name, error=code, message=message)


def normalize(prop: PropertyDef, raw: RawValue, owners: frozenset[str]) -> str | PropertyProblem:
    """The stored form of ``raw`` for ``prop``, or why HubSpot would refuse it."""
    value = as_string(raw)
    if value == "":
        return ""  # an empty string clears any property
    kind = prop.type
    if kind == "string" or kind == "phone_number":
        if len(value) > MAX_STRING:
            return _problem(prop, "INVALID_LENGTH", f'Property "{prop.name}" value is too long')
        if prop.name == "email" and not _EMAIL.match(value.strip()):
            return _problem(prop, "INVALID_EMAIL", f"Email address {value} is invalid")
        return value
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            return _problem(prop, "INVALID_INTEGER", f"{value} was not a valid number")
        return value.strip()
    if kind == "bool":
        lowered = value.strip().lower()
        if lowered not in ("true", "false"):
            return _problem(prop, "INVALID_BOOLEAN", f"{value} was not a valid boolean")
        return lowered
    if kind == "enumeration":
        return _enumeration(prop, value, owners)
    if kind == "datetime":
        ms = time_ms(value)
        if ms is None:
            return _problem(prop, "INVALID_DATETIME", f"{value} was not a valid datetime")
        return iso_of(ms)
    if kind == "date":
        return _date(prop, value)
    return value


def _enumeration(prop: PropertyDef, value: str, owners: frozenset[str]) -> str | PropertyProblem:
    allowed = owners if prop.name == OWNER_PROPERTY else prop.option_values
    # Checkbox enumerations are multi-selects: several options joined by ';'.
    parts = value.split(";") if prop.field_type == "checkbox" else [value]
    for part in parts:
        if part not in allowed:
            shown = ", ".join(sorted(allowed))
            return _problem(prop, "INVALID_OPTION", f"{part} was not one of the allowed options: [{shown}]")
    return value


def _date(prop: PropertyDef, value: str) -> str | PropertyProblem:
    t = value.strip()
    ms = parse_id(t)
    if ms is not None and ms <= _MAX_MS:
        if ms % _DAY_MS:
            return _problem(prop, "INVALID_DATE", f"{value} is at {iso_of(ms)}, which is not midnight!")
        return datetime.fromtimestamp(ms / 1000, tz=UTC).date().isoformat()
    try:
        return date.fromisoformat(t).isoformat()
    except ValueError:  # also the too-large epoch ms left over from above
        return _problem(prop, "INVALID_DATE", f"{value} was not a valid date")


def compare_key(kind: str, value: str) -> float | str | None:
    """The key search compares and sorts on; None when the value cannot be read as ``kind``."""
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return None
    if kind in ("datetime", "date"):
        ms = time_ms(value)
        return None if ms is None else float(ms)
    return value.lower()
