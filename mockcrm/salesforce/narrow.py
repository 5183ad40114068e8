"""Candidate records for a SOQL query, narrowed with the table's indexes before the SOQL engine runs.

The engine filters, orders and limits whatever it is given, so anything here only has to return a
superset of the matches, in any order, except where it truncates: that happens only when the
WHERE is exactly a ``(SystemModstamp, Id)`` keyset condition and the ORDER BY is that same key, so
the matches are precisely a run of the stamp index. Shapes served:

- ``Id``, a unique field or an indexed one (``Email``) ``= 'x'`` / ``IN (…)``, alone or ANDed:
  dictionary lookups;
- a lower bound on SystemModstamp (``>``, ``>=``, ``=``; through AND, and through OR when every
  branch has one): a bisect into the stamp index instead of a scan;
- no WHERE, ``ORDER BY SystemModstamp DESC LIMIT n`` ("the newest change"): the end of the stamp
  index;
- ``WHERE SystemModstamp > X`` or the keyset form
  ``SystemModstamp > X OR (SystemModstamp = X AND Id > 'y')`` with ``ORDER BY SystemModstamp, Id
  LIMIT n``: only the first ``offset + n`` index entries past the key.

The syntax tree is read by attribute: ``soql`` deliberately exports no node types.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Any

from mockcrm.salesforce.ids import key15
from mockcrm.salesforce.soql import SoqlQuery
from mockcrm.salesforce.store import Record, Table
from mockcrm.salesforce.validation import parse_datetime

_STAMP = "systemmodstamp"


def _field(term: Any) -> str:
    name = getattr(getattr(term, "field", None), "name", None)
    return name.lower() if isinstance(name, str) else ""


def _items(term: Any, op: str) -> list[Any] | None:
    if getattr(term, "op", None) == op and hasattr(term, "items"):
        return list(term.items)
    return None


def _stamp_ms(term: Any, ops: tuple[str, ...]) -> int | None:
    """The instant of ``SystemModstamp <op> <datetime>`` when ``term`` is that, else None."""
    if _field(term) != _STAMP or getattr(term, "op", None) not in ops:
        return None
    lit = term.value
    if getattr(lit, "kind", None) != "datetime":
        return None
    dt = parse_datetime(str(lit.value))
    return None if dt is None else round(dt.timestamp() * 1000)


def stamp_floor(where: Any) -> tuple[int, bool] | None:
    """(ms, inclusive): every match has SystemModstamp ≥ ms (> when not inclusive); None if unknown."""
    ms = _stamp_ms(where, (">", ">=", "="))
    if ms is not None:
        return ms, where.op != ">"
    both = _items(where, "AND")
    if both is not None:
        floors: list[tuple[int, bool]] = []
        for t in both:
            f = stamp_floor(t)
            if f is not None:
                floors.append(f)
        return max(floors, key=lambda f: (f[0], not f[1])) if floors else None
    either = _items(where, "OR")
    if either is not None:
        lowest: tuple[int, bool] | None = None
        for t in either:
            f = stamp_floor(t)
            if f is None:
                return None  # one branch without a bound can match anything
            if lowest is None or (f[0], not f[1]) < (lowest[0], not lowest[1]):
                lowest = f
        return lowest
    return None


def _keyset(where: Any) -> tuple[int, str] | None:
    """(X ms, y id15) for ``SystemModstamp > X OR (SystemModstamp = X AND Id > 'y')``."""
    either = _items(where, "OR")
    if either is None or len(either) != 2:
        return None
    for after, tie in (either, either[::-1]):
        x = _stamp_ms(after, (">",))
        inner = _items(tie, "AND")
        if x is None or inner is None or len(inner) != 2:
            continue
        for eq, gt in (inner, inner[::-1]):
            if _stamp_ms(eq, ("=",)) != x or _field(gt) != "id" or getattr(gt, "op", None) != ">":
                continue
            lit = gt.value
            if getattr(lit, "kind", None) == "string" and key15(str(lit.value)) is not None:
                return x, str(lit.value)[:15]
    return None


def _stamp_ordered(query: SoqlQuery) -> bool:
    names = [o.field.name.lower() for o in query.order_by if not o.descending]
    return len(names) == len(query.order_by) and names in ([_STAMP], [_STAMP, "id"])


def _newest_first(query: SoqlQuery) -> bool:
    names = [o.field.name.lower() for o in query.order_by if o.descending]
    return len(names) == len(query.order_by) and names in ([_STAMP], [_STAMP, "id"])


def _newest(table: Table, want: int, include_deleted: bool) -> list[Record]:
    """The ``want`` newest records by SystemModstamp and every other one sharing the last stamp
    taken, so that the engine's own ordering of ties decides among all of them."""
    out: list[Record] = []
    last = None
    for ms, rec in table.newest():
        if len(out) >= want and ms != last:
            break
        if include_deleted or not rec["IsDeleted"]:
            out.append(rec)
            last = ms
    # In creation order (ids sort so), as a scan hands them over: the SOQL engine's sort keeps
    # ties in input order, so ties come out as they would from the whole table.
    return sorted(out, key=lambda r: str(r["Id"]))


def _keyed(table: Table, where: Any) -> list[Record] | None:
    """Records picked by ``Id``/unique-field ``=`` or ``IN`` in the WHERE (alone or ANDed)."""
    for term in _items(where, "AND") or [where]:
        fd = table.sobject.get(_field(term)) if _field(term) else None
        if fd is None or not (fd.type == "id" or fd.name in table.unique or fd.name in table.lookup):
            continue
        if getattr(term, "op", None) == "=":
            literals = [term.value]
        elif getattr(term, "negated", True) is False and hasattr(term, "values"):
            literals = list(term.values)
        else:
            continue
        if any(getattr(lit, "kind", None) != "string" for lit in literals):
            continue
        found: dict[str, Record] = {}
        for lit in literals:
            value = str(lit.value)
            if fd.name in table.lookup:
                keys: Collection[str] = table.find_lookup(fd.name, value) or ()
            else:
                k = key15(value) if fd.type == "id" else table.find_unique(fd.name, value)
                keys = () if k is None else (k,)
            for k in keys:
                rec = table.get(k)
                if rec is not None:
                    found[k] = rec
        # Ids sort in creation order (mockcrm.salesforce.ids): the order a scan of the table gives.
        return [found[k] for k in sorted(found)]
    return None


def candidates(table: Table, query: SoqlQuery, include_deleted: bool) -> Iterable[Record]:
    where: Any = query.where
    if where is None:
        if query.limit is not None and _newest_first(query):
            return _newest(table, query.offset + query.limit, include_deleted)
        return _visible(table.records.values(), include_deleted)
    keyed = _keyed(table, where)
    if keyed is not None:
        return list(_visible(keyed, include_deleted))
    floor = stamp_floor(where)
    if floor is None:
        return _visible(table.records.values(), include_deleted)
    ms, inclusive = floor
    # An exclusive bound starts one millisecond later, so the bound's own records are not counted.
    since = _visible(table.since(ms + (0 if inclusive else 1)), include_deleted)
    if query.limit is None or not _stamp_ordered(query):
        return since
    if _stamp_ms(where, (">", ">=")) is None:
        keyset = _keyset(where)
        if keyset is None:
            return since
        since = _past_key(table, since, *keyset)
    want = query.offset + query.limit
    out: list[Record] = []
    for rec in since:
        if len(out) >= want:
            break
        out.append(rec)
    return out


def _visible(records: Iterable[Record], include_deleted: bool) -> Iterator[Record]:
    if include_deleted:
        yield from records
    else:
        for r in records:
            if not r["IsDeleted"]:
                yield r


def _past_key(table: Table, records: Iterator[Record], x_ms: int, y15: str) -> Iterator[Record]:
    """Skip the records stamped exactly X whose id is not after y (the page already seen)."""
    stamp_of = table.stamp_of
    for rec in records:
        id15 = str(rec["Id"])[:15]
        if stamp_of.get(id15) == x_ms and id15 <= y15:
            continue
        yield rec
