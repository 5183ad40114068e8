"""ORDER BY for SOQL: per-field sort keys with Salesforce's null placement, heap selection under LIMIT,
and the early-stopping scan over records that already arrive in index order."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mockcrm.salesforce.soql_match import Predicate, Record
from mockcrm.salesforce.soql_values import DATETIME, RECORD_KEY, FieldInfo, category

SortKey = Callable[[Record], tuple[int, Any]]


def sort_key(info: FieldInfo, nulls_first: bool, descending: bool) -> SortKey:
    """A (rank, value) key: the rank puts nulls before or after every value. Descending sorts use
    reverse=True, which flips what the ranks mean, hence the XOR."""
    name = info.name
    key = RECORD_KEY[category(info)]
    null_rank, value_rank = (0, 1) if nulls_first != descending else (1, 0)

    if category(info) == DATETIME:

        def sk_datetime(r: Record) -> tuple[int, Any]:
            v = r.get(name)
            if type(v) is str and len(v) == 28 and v[23] == "+":  # canonical: its own key
                return (value_rank, v)
            k = key(v)
            return (null_rank, "") if k is None else (value_rank, k)

        return sk_datetime

    def sk(r: Record) -> tuple[int, Any]:
        k = key(r.get(name))
        return (null_rank, 0) if k is None else (value_rank, k)

    return sk


def _combined(keys: Sequence[SortKey]) -> Callable[[Record], Any]:
    # Explicit tuples for the common short lists: a generator per record is markedly slower.
    if len(keys) == 1:
        return keys[0]
    if len(keys) == 2:
        k1, k2 = keys
        return lambda r: (k1(r), k2(r))
    if len(keys) == 3:
        k1, k2, k3 = keys
        return lambda r: (k1(r), k2(r), k3(r))
    return lambda r: tuple(k(r) for k in keys)


def order_records(
    records: list[Record], keys: Sequence[SortKey], descending: Sequence[bool], limit: int | None
) -> list[Record]:
    """``records`` ordered by ``keys`` (each ascending or descending); when ``limit`` is given only the
    first ``limit`` are guaranteed to be returned. Ties keep their input order."""
    if all(d == descending[0] for d in descending):
        combined = _combined(keys)
        if limit is not None and limit < len(records) // 4:
            # nsmallest/nlargest are documented equal to sorted(...)[:n]: stable for ties.
            pick = heapq.nlargest if descending[0] else heapq.nsmallest
            return pick(limit, records, key=combined)
        return sorted(records, key=combined, reverse=descending[0])
    # Mixed directions: stable sorts from the least significant key up.
    out = list(records)
    for key, desc in reversed(list(zip(keys, descending, strict=True))):
        out.sort(key=key, reverse=desc)
    return out


def take_presorted(
    records: Iterable[Record], pred: Predicate | None, primary: SortKey, end: int
) -> list[Record]:
    """From records already in ``primary`` order, the matches that can reach the first ``end`` rows:
    the first ``end`` ones plus any that tie with the last of them (later keys may move those up)."""
    if end <= 0:
        return []
    taken: list[Record] = []
    boundary: tuple[int, Any] | None = None
    for r in records:
        if pred is not None and not pred(r):
            continue
        if boundary is not None and primary(r) != boundary:
            break
        taken.append(r)
        if boundary is None and len(taken) >= end:
            boundary = primary(r)
    return taken
