"""Search filters compiled to record predicates: typed comparisons per property type.

Strings compare case-insensitively, enumerations exactly, numbers and dates numerically (dates
given as epoch ms or ISO 8601), as HubSpot's search does.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from mockcrm.hubspot.bodies import Filter
from mockcrm.hubspot.context import HubSpotMock
from mockcrm.hubspot.errors import validation
from mockcrm.hubspot.schema import ObjectTypeDef
from mockcrm.hubspot.store import Record
from mockcrm.hubspot.values import as_string, compare_key, parse_id

_TOKEN_SPLIT = re.compile(r"[^\w@.+-]+")
Test = Callable[[Record], bool]
Key = float | str | None


def kind_of(mock: HubSpotMock, otype: ObjectTypeDef, name: str) -> str:
    if name in (otype.modified_prop, otype.created_prop, "createdate"):
        return "datetime"
    if name == "hs_object_id":
        return "number"
    prop = mock.portal.schema.prop(otype.name, name)
    if prop is None:
        raise validation(f'Property "{name}" does not exist', context={"propertyName": [name]})
    return "enum" if prop.type == "enumeration" else prop.type


def getter(otype: ObjectTypeDef, name: str, kind: str) -> Callable[[Record], Key]:
    if name == otype.modified_prop:
        return lambda r: float(r.updated_ms)
    if name in (otype.created_prop, "createdate"):
        return lambda r: float(r.created_ms)
    if name == "hs_object_id":
        return lambda r: float(r.id)
    if kind == "enum":
        return lambda r: r.props.get(name)
    return lambda r: _key(kind, r.props.get(name))


def _key(kind: str, raw: str | None) -> Key:
    if raw is None or raw == "":
        return None
    return raw if kind == "enum" else compare_key(kind, raw)


def _operand(kind: str, f: Filter, raw: object) -> Key:
    key = _key(kind, as_string(raw))  # type: ignore[arg-type]
    if key is None:
        raise validation(f"Invalid value {raw!r} for {f.operator} filter on {f.property_name}")
    return key


def compile_filter(mock: HubSpotMock, otype: ObjectTypeDef, f: Filter) -> Test:
    op = f.operator.upper()
    name = f.property_name
    if name.startswith("associations."):
        return _association_test(mock, otype, f)
    kind = kind_of(mock, otype, name)
    get = getter(otype, name, kind)
    if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        present = op == "HAS_PROPERTY"
        return lambda r: (get(r) is not None) == present
    if op in ("IN", "NOT_IN"):
        wanted = {_operand(kind, f, v) for v in f.values}
        keep = op == "IN"
        return lambda r: (get(r) in wanted) == keep
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = as_string(f.value).lower()
        pattern = re.compile(re.escape(token).replace(r"\*", ".*") + r"\Z")
        keep = op == "CONTAINS_TOKEN"
        return lambda r: _has_token(r.props.get(name), token, pattern) == keep
    value = _operand(kind, f, f.value)
    if op == "EQ":
        return lambda r: get(r) == value
    if op == "NEQ":
        return lambda r: get(r) != value
    if op == "BETWEEN":
        high = _operand(kind, f, f.high_value)
        return lambda r: (k := get(r)) is not None and value <= k <= high  # type: ignore[operator]
    compare = {
        "LT": lambda k: k < value,
        "LTE": lambda k: k <= value,
        "GT": lambda k: k > value,
        "GTE": lambda k: k >= value,
    }.get(op)
    if compare is None:
        raise validation(f"Unknown filter operator: {f.operator}")
    return lambda r: (k := get(r)) is not None and type(k) is type(value) and compare(k)


def _has_token(raw: str | None, token: str, pattern: re.Pattern[str]) -> bool:
    if not raw:
        return False
    text = raw.lower()
    if "*" not in token:
        return token == text or token in _TOKEN_SPLIT.split(text) or token in re.split(r"[^\w]+", text)
    return bool(pattern.match(text)) or any(pattern.match(t) for t in _TOKEN_SPLIT.split(text))


def _association_test(mock: HubSpotMock, otype: ObjectTypeDef, f: Filter) -> Test:
    target = mock.portal.schema.resolve(f.property_name.split(".", 1)[1])
    rec_id = parse_id(as_string(f.value).strip())
    if rec_id is None:
        raise validation(f"Invalid record id {f.value!r} for {f.property_name}")
    key = (target.type_id, rec_id)
    linked = {rid for rid, _ in mock.portal.associations.targets(key, otype.type_id)}
    keep = f.operator.upper() != "NEQ"
    return lambda r: (r.id in linked) == keep
