"""SOQL evaluation: resolve names against the sObject's fields, compile WHERE into closures once per
execution, then filter, order (heapq when LIMITed), page and project."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import msgspec

from mockcrm.salesforce.soql_ast import (
    BoolOp,
    Compare,
    Condition,
    CountAll,
    CountField,
    FieldRef,
    FieldsMacro,
    Includes,
    InList,
    Like,
    Not,
    SoqlQuery,
)
from mockcrm.salesforce.soql_lexer import SoqlError, positioned
from mockcrm.salesforce.soql_match import (
    Predicate,
    Record,
    all_of,
    any_of,
    datetime_ordered,
    includes_predicate,
    like_matcher,
    ordered,
    range_predicate,
)
from mockcrm.salesforce.soql_order import SortKey, order_records, sort_key, take_presorted
from mockcrm.salesforce.soql_values import (
    BOOL,
    DATETIME,
    RECORD_KEY,
    TEXT,
    FieldInfo,
    Key,
    category,
    literal_key,
    literal_range,
    parse_datetime_literal,
    picklist_set,
    type_error,
)


class QueryResult(msgspec.Struct):
    total_size: int
    rows: list[dict[str, object]]  # projected: selected fields, canonical names & order; [] for COUNT()


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

    def columns(self) -> list[tuple[str, FieldInfo]]:
        """(output name, field) for each selected column, in order."""
        query = self.query
        columns: list[tuple[str, FieldInfo]] = []
        seen: set[str] = set()
        unnamed = 0
        plain = [item for item in query.select if isinstance(item, (FieldRef, FieldsMacro))]
        for item in query.select:
            if isinstance(item, FieldRef):
                info = self.resolve(item)
                if info.name.lower() in seen:
                    detail = f"duplicate field selected: {info.name}"
                    raise SoqlError("MALFORMED_QUERY", positioned(self.text, item.pos, detail))
                seen.add(info.name.lower())
                columns.append((info.name, info))
            elif isinstance(item, FieldsMacro):
                if item.kind != "STANDARD" and (query.limit is None or query.limit > 200):
                    detail = "The SOQL FIELDS function must have a LIMIT of at most 200"
                    raise SoqlError("MALFORMED_QUERY", positioned(self.text, item.pos, detail))
                for info in self.fields.values():
                    custom = info.name.lower().endswith("__c")
                    wanted = item.kind == "ALL" or custom == (item.kind == "CUSTOM")
                    # Overlaps between FIELDS() and named fields are allowed and listed once.
                    if wanted and info.name.lower() not in seen:
                        seen.add(info.name.lower())
                        columns.append((info.name, info))
            elif isinstance(item, CountField):
                info = self.resolve(item.field)
                if plain:
                    # Without GROUP BY (unsupported here) plain fields cannot sit next to an aggregate.
                    other = plain[0]
                    name = other.name if isinstance(other, FieldRef) else f"FIELDS({other.kind})"
                    detail = f"Field must be grouped or aggregated: {name}"
                    raise SoqlError("MALFORMED_QUERY", positioned(self.text, other.pos, detail))
                out_name = item.alias or f"expr{unnamed}"
                unnamed += item.alias is None
                columns.append((out_name, info))
        return columns

    def bad_operator(self, ref: FieldRef, info: FieldInfo) -> SoqlError:
        detail = f"invalid operator on {info.type.lower()} field: {info.name}"
        return SoqlError("INVALID_QUERY_FILTER_OPERATOR", positioned(self.text, ref.pos, detail))

    # -- WHERE -------------------------------------------------------------------------------------
    def condition(self, cond: Condition) -> Predicate:
        if isinstance(cond, BoolOp):
            preds = [self.condition(item) for item in cond.items]
            return all_of(preds) if cond.op == "AND" else any_of(preds)
        if isinstance(cond, Not):
            inner = self.condition(cond.inner)
            return lambda r: not inner(r)
        if isinstance(cond, Compare):
            return self.compare(cond)
        if isinstance(cond, InList):
            return self.in_list(cond)
        if isinstance(cond, Includes):
            return self.includes(cond)
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
            return range_predicate(name, key, op, low, high)
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
        if category(info) == DATETIME and isinstance(lit, str):
            return datetime_ordered(name, op, lit)
        return ordered(name, key, op, lit)

    def in_list(self, cond: InList) -> Predicate:
        info = self.resolve(cond.field)
        name = info.name
        key = RECORD_KEY[category(info)]
        keys: set[Key | None] = set()
        for value in cond.values:
            if value.kind == "dateliteral":
                raise SoqlError(
                    "MALFORMED_QUERY", positioned(self.text, value.pos, f"unexpected token: '{value.value}'")
                )
            keys.add(literal_key(self.text, value, info))
        if cond.negated:
            return lambda r: key(r.get(name)) not in keys
        return lambda r: key(r.get(name)) in keys

    def includes(self, cond: Includes) -> Predicate:
        info = self.resolve(cond.field)
        if info.type.lower() != "multipicklist":
            detail = f"includes or excludes operator only valid on multipicklist field: {info.name}"
            raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", positioned(self.text, cond.field.pos, detail))
        wanted: list[frozenset[str]] = []
        for value in cond.values:
            if value.kind != "string":
                raise type_error(self.text, value, info)
            wanted.append(picklist_set(value.value))
        return includes_predicate(info.name, wanted, cond.negated)

    def like(self, cond: Like) -> Predicate:
        info = self.resolve(cond.field)
        if category(info) != TEXT:
            raise self.bad_operator(cond.field, info)
        name = info.name
        matcher = like_matcher(cond.pattern)
        return lambda r: type(v := r.get(name)) is str and v != "" and matcher(v)

    # -- ORDER BY ----------------------------------------------------------------------------------
    def sort_key(self, ref: FieldRef, nulls_first: bool, descending: bool) -> SortKey:
        return sort_key(self.resolve(ref), nulls_first, descending)


def _presorted_primary(query: SoqlQuery, compiler: _Compiler, presorted_by: str | None) -> SortKey | None:
    """The first ORDER BY key when the records' given order already is that ordering, else None."""
    if presorted_by is None or not query.order_by or query.is_count or query.is_aggregate:
        return None
    first = query.order_by[0]
    if first.descending or not first.nulls_first:
        return None
    if compiler.resolve(first.field).name.lower() != presorted_by.lower():
        return None
    return compiler.sort_key(first.field, first.nulls_first, first.descending)


def execute(
    query: SoqlQuery,
    records: Iterable[Record],
    fields: Mapping[str, FieldInfo],
    *,
    now: datetime | None = None,
    presorted_by: str | None = None,
) -> QueryResult:
    """Run ``query`` over ``records`` (the caller chose which are visible); raises SoqlError.

    ``fields`` is keyed by lower-case field name. ``now`` anchors relative date literals (TODAY, …);
    pass the mock clock's time.

    ``presorted_by`` (optional, a lower-case field name) promises that ``records`` arrive in ascending
    order of that field, nulls first (e.g. from the server's SystemModstamp index). When the query is
    ``… ORDER BY <that field> [ASC][, …] LIMIT n``, evaluation then stops shortly after the first
    OFFSET+LIMIT matches instead of scanning every record; results are identical.
    """
    compiler = _Compiler(query, fields, now or datetime.now(UTC))
    columns = compiler.columns()
    pred = compiler.condition(query.where) if query.where is not None else None
    # Resolve ORDER BY names even when there is nothing to sort, so bad names always error.
    for o in query.order_by:
        compiler.resolve(o.field)

    end = None if query.limit is None else query.offset + query.limit
    primary = _presorted_primary(query, compiler, presorted_by)
    if primary is not None and end is not None:
        matched = take_presorted(records, pred, primary, end)
    else:
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

    if query.order_by:
        keys = [compiler.sort_key(o.field, o.nulls_first, o.descending) for o in query.order_by]
        matched = order_records(matched, keys, [o.descending for o in query.order_by], end)
    page = matched[query.offset : end]
    names = [name for name, _ in columns]
    rows = [{n: r.get(n) for n in names} for r in page]
    return QueryResult(len(rows), rows)


def lower_bound(query: SoqlQuery, field_lower: str) -> tuple[str, bool] | None:
    """A candidate filter the server can apply with its own index before calling :func:`execute`.

    When the WHERE is ``field > dt`` / ``field >= dt``, or an AND (nested or not) containing such a term,
    with ``dt`` a datetime literal, returns (normalised ``2024-01-05T10:00:00.000+0000`` string,
    inclusive): only records whose value is > (or >= when inclusive) that string can match. Stored
    values in that same format compare correctly as plain strings. None when there is no such bound.
    """
    best: tuple[str, bool] | None = None
    for term in _conjuncts(query.where):
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


def _conjuncts(cond: Condition | None) -> list[Condition]:
    """The terms that must all hold: AND groups are flattened, anything else is one term."""
    if cond is None:
        return []
    if isinstance(cond, BoolOp) and cond.op == "AND":
        return [term for item in cond.items for term in _conjuncts(item)]
    return [cond]
