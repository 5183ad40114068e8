"""SOQL evaluation: resolve names against the sObject's fields, compile WHERE into closures once per
execution, then filter, order (heapq when LIMITed), page and project."""

from __future__ import annotations

import heapq
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from mockcrm.salesforce.soql_lexer import SoqlError, positioned
from mockcrm.salesforce.soql_parser import (
    BoolOp,
    Compare,
    Condition,
    CountAll,
    CountField,
    FieldRef,
    InList,
    Like,
    Literal,
    Not,
    SoqlQuery,
)
from mockcrm.salesforce.soql_values import (
    BOOL,
    RECORD_KEY,
    TEXT,
    FieldInfo,
    Key,
    category,
    literal_key,
    literal_range,
    parse_datetime_literal,
)

Record = Mapping[str, object]
Predicate = Callable[[Record], bool]
SortKey = Callable[[Record], tuple[int, Any]]


class QueryResult(msgspec.Struct):
    total_size: int
    rows: list[dict[str, object]]  # projected: selected fields, canonical names & order; [] for COUNT()


_OPS: dict[str, Callable[[Key, Key], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class _Compiler:
    def __init__(self, query: SoqlQuery, fields: Mapping[str, FieldInfo], now: datetime) -> None:
        self.query = query
        self.text = query.text
        self.fields = fields
        self.now = now

    def resolve(self, ref: FieldRef) -> FieldInfo:
        info = self.fields.get(ref.name.lower())
        if info is not None:
            return info
        if "." in ref.name:
            head = ref.name.split(".", 1)[0]
            detail = (
                f"Didn't understand relationship '{head}' in field path. If you are attempting to use a "
                "custom relationship, be sure to append the '__r' after the custom relationship name. "
                "Please reference your WSDL or the describe call for the appropriate names."
            )
        else:
            detail = (
                f"No such column '{ref.name}' on entity '{self.query.sobject}'. If you are attempting to "
                "use a custom field, be sure to append the '__c' after the custom field name. Please "
                "reference your WSDL or the describe call for the appropriate names."
            )
        raise SoqlError("INVALID_FIELD", positioned(self.text, ref.pos, detail))

    def bad_operator(self, ref: FieldRef, info: FieldInfo) -> SoqlError:
        detail = f"invalid operator on {info.type.lower()} field: {info.name}"
        return SoqlError("INVALID_QUERY_FILTER_OPERATOR", positioned(self.text, ref.pos, detail))

    # -- WHERE -------------------------------------------------------------------------------------
    def condition(self, cond: Condition) -> Predicate:
        if isinstance(cond, BoolOp):
            preds = [self.condition(item) for item in cond.items]
            if cond.op == "AND":
                return lambda r: all(p(r) for p in preds)
            return lambda r: any(p(r) for p in preds)
        if isinstance(cond, Not):
            inner = self.condition(cond.inner)
            return lambda r: not inner(r)
        if isinstance(cond, Compare):
            return self.compare(cond)
        if isinstance(cond, InList):
            return self.in_list(cond)
        return self.like(cond)

    def compare(self, cond: Compare) -> Predicate:
        info = self.resolve(cond.field)
        name = info.name
        key = RECORD_KEY[category(info)]
        op = cond.op
        if category(info) == BOOL and op not in ("=", "!="):
            raise self.bad_operator(cond.field, info)
        if cond.value.kind == "dateliteral":
            low, high = literal_range(self.text, cond.value, info, self.now)
            return _range_predicate(name, key, op, low, high)
        lit = literal_key(self.text, cond.value, info)
        if lit is None:
            # null compares only by (in)equality; an ordering against null matches nothing.
            if op == "=":
                return lambda r: key(r.get(name)) is None
            if op == "!=":
                return lambda r: key(r.get(name)) is not None
            return lambda r: False
        if op == "=":
            return lambda r: key(r.get(name)) == lit
        if op == "!=":
            # Unlike SQL, SOQL's != matches records where the field is null.
            return lambda r: key(r.get(name)) != lit
        fn = _OPS[op]
        return lambda r: (k := key(r.get(name))) is not None and fn(k, lit)

    def in_list(self, cond: InList) -> Predicate:
        info = self.resolve(cond.field)
        name = info.name
        key = RECORD_KEY[category(info)]
        keys: set[Key | None] = set()
        for value in cond.values:
            if value.kind == "dateliteral":
                raise SoqlError(
                    "MALFORMED_QUERY", positioned(self.text, value.pos, f"unexpected token: {value.value!r}")
                )
            keys.add(literal_key(self.text, value, info))
        if cond.negated:
            return lambda r: key(r.get(name)) not in keys
        return lambda r: key(r.get(name)) in keys

    def like(self, cond: Like) -> Predicate:
        info = self.resolve(cond.field)
        if category(info) != TEXT:
            raise self.bad_operator(cond.field, info)
        name = info.name
        matcher = like_matcher(cond.pattern)
        return lambda r: type(v := r.get(name)) is str and v != "" and matcher(v)

    # -- ORDER BY ----------------------------------------------------------------------------------
    def sort_key(self, ref: FieldRef, nulls_first: bool, descending: bool) -> SortKey:
        info = self.resolve(ref)
        name = info.name
        key = RECORD_KEY[category(info)]
        # (rank, value): the rank puts nulls before or after every value; with descending order
        # (reverse=True) the ranks flip meaning, hence the XOR.
        null_rank, value_rank = (0, 1) if nulls_first != descending else (1, 0)

        def sk(r: Record) -> tuple[int, Any]:
            k = key(r.get(name))
            return (null_rank, 0) if k is None else (value_rank, k)

        return sk


def _range_predicate(
    name: str, key: Callable[[object], Key | None], op: str, low: str, high: str
) -> Predicate:
    """A relative date literal is a [low, high) range: '=' means inside it, '<' before it, etc."""

    def get(r: Record) -> str | None:
        k = key(r.get(name))
        return k if isinstance(k, str) else None

    if op == "=":
        return lambda r: (k := get(r)) is not None and low <= k < high
    if op == "!=":
        return lambda r: (k := get(r)) is None or not low <= k < high
    if op == "<":
        return lambda r: (k := get(r)) is not None and k < low
    if op == "<=":
        return lambda r: (k := get(r)) is not None and k < high
    if op == ">":
        return lambda r: (k := get(r)) is not None and k >= high
    return lambda r: (k := get(r)) is not None and k >= low


def like_matcher(pattern: Literal) -> Callable[[str], bool]:
    """Case-insensitive LIKE without backtracking blow-ups.

    The pattern is split on unescaped ``%`` into fixed-length segments (``_`` = any one character);
    the first is anchored at the start, the last at the end, and each middle one is matched at its
    leftmost position — optimal for fixed-length segments, so matching is O(len(value) × len(pattern)).
    """
    value, wild = pattern.value, set(pattern.wildcards)
    segments: list[list[str]] = [[]]
    for i, ch in enumerate(value):
        if i in wild and ch == "%":
            segments.append([])
        elif i in wild:
            segments[-1].append(".")
        else:
            segments[-1].append(re.escape(ch))
    flags = re.IGNORECASE | re.DOTALL
    compiled = [re.compile("".join(seg), flags) for seg in segments]
    lengths = [len(seg) for seg in segments]
    if len(compiled) == 1:
        only = compiled[0]
        return lambda v: only.fullmatch(v) is not None
    first, middle, last = compiled[0], compiled[1:-1], compiled[-1]
    last_len = lengths[-1]

    def match(v: str) -> bool:
        m = first.match(v)
        if m is None:
            return False
        pos = m.end()
        for seg in middle:
            m = seg.search(v, pos)
            if m is None:
                return False
            pos = m.end()
        start = len(v) - last_len
        return start >= pos and last.fullmatch(v, start) is not None

    return match


def _order(records: list[Record], compiler: _Compiler, query: SoqlQuery, limit: int | None) -> list[Record]:
    items = query.order_by
    keys = [compiler.sort_key(o.field, o.nulls_first, o.descending) for o in items]
    if all(o.descending == items[0].descending for o in items):
        descending = items[0].descending

        def key(r: Record) -> tuple[tuple[int, Any], ...]:
            return tuple(k(r) for k in keys)

        single = keys[0] if len(keys) == 1 else key
        if limit is not None and limit < len(records) // 4:
            # nsmallest/nlargest keep the stable order of sorted(): ties stay in input order.
            pick = heapq.nlargest if descending else heapq.nsmallest
            return pick(limit, records, key=single)
        return sorted(records, key=single, reverse=descending)
    # Mixed directions: stable sorts from the least significant key up.
    out = list(records)
    for o, k in reversed(list(zip(items, keys, strict=True))):
        out.sort(key=k, reverse=o.descending)
    return out


def execute(
    query: SoqlQuery,
    records: Iterable[Record],
    fields: Mapping[str, FieldInfo],
    *,
    now: datetime | None = None,
) -> QueryResult:
    """Run ``query`` over ``records`` (the caller chose which are visible); raises SoqlError.

    ``fields`` is keyed by lower-case field name. ``now`` anchors relative date literals (TODAY, …);
    pass the mock clock's time.
    """
    compiler = _Compiler(query, fields, now or datetime.now(UTC))
    columns: list[tuple[str, FieldInfo]] = []  # (output name, field)
    seen: set[str] = set()
    unnamed = 0
    for item in query.select:
        if isinstance(item, FieldRef):
            info = compiler.resolve(item)
            if info.name.lower() in seen:
                raise SoqlError(
                    "MALFORMED_QUERY",
                    positioned(query.text, item.pos, f"duplicate field selected: {info.name}"),
                )
            seen.add(info.name.lower())
            columns.append((info.name, info))
        elif isinstance(item, CountField):
            info = compiler.resolve(item.field)
            if query.select and any(isinstance(other, FieldRef) for other in query.select):
                # Without GROUP BY (unsupported here) plain fields cannot sit next to an aggregate.
                other = next(o for o in query.select if isinstance(o, FieldRef))
                raise SoqlError(
                    "MALFORMED_QUERY",
                    positioned(query.text, other.pos, f"Field must be grouped or aggregated: {other.name}"),
                )
            if item.alias is None:
                out_name = f"expr{unnamed}"
                unnamed += 1
            else:
                out_name = item.alias
            columns.append((out_name, info))
    pred = compiler.condition(query.where) if query.where is not None else None
    # Resolve ORDER BY names even when there is nothing to sort, so bad names always error.
    for o in query.order_by:
        compiler.resolve(o.field)

    matched = [r for r in records if pred(r)] if pred is not None else list(records)

    if any(isinstance(item, CountAll) for item in query.select):
        total = max(0, len(matched) - query.offset)
        if query.limit is not None:
            total = min(total, query.limit)
        return QueryResult(total, [])
    if query.is_aggregate:
        row: dict[str, object] = {}
        for (out_name, info), item in zip(columns, query.select, strict=True):
            if isinstance(item, CountField):
                key = RECORD_KEY[category(info)]
                row[out_name] = sum(1 for r in matched if key(r.get(info.name)) is not None)
        rows = [row][query.offset :]
        if query.limit is not None:
            rows = rows[: query.limit]
        return QueryResult(len(rows), rows)

    end = None if query.limit is None else query.offset + query.limit
    if query.order_by:
        matched = _order(matched, compiler, query, end)
    page = matched[query.offset : end]
    names = [name for name, _ in columns]
    rows = [{n: r.get(n) for n in names} for r in page]
    return QueryResult(len(rows), rows)


def lower_bound(query: SoqlQuery, field_lower: str) -> tuple[str, bool] | None:
    """A candidate filter the server can apply with its own index before calling :func:`execute`.

    When the WHERE is ``field > dt`` / ``field >= dt``, or a top-level AND containing such a term,
    with ``dt`` a datetime literal, returns (normalised ``2024-01-05T10:00:00.000+0000`` string,
    inclusive): only records whose value is > (or >= when inclusive) that string can match. Stored
    values in that same format compare correctly as plain strings. None when there is no such bound.
    """
    where = query.where
    terms = where.items if isinstance(where, BoolOp) and where.op == "AND" else (where,)
    best: tuple[str, bool] | None = None
    for term in terms:
        if not (
            isinstance(term, Compare)
            and term.op in (">", ">=")
            and term.value.kind == "datetime"
            and term.field.name.lower() == field_lower
        ):
            continue
        try:
            bound = (parse_datetime_literal(term.value.value), term.op == ">=")
        except (ValueError, OverflowError):
            return None  # execute() will report the bad literal
        # The tightest bound wins; at equal instants the exclusive one is tighter.
        if best is None or bound[0] > best[0] or (bound[0] == best[0] and not bound[1]):
            best = bound
    return best
