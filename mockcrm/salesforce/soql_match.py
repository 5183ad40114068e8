"""Per-record predicate factories for SOQL comparisons, kept small and specialised because they run
once per candidate record (up to ~1M for the change-stream query)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from mockcrm.salesforce.soql_ast import Literal
from mockcrm.salesforce.soql_values import DATETIME, RECORD_KEY, Key, picklist_set

Record = Mapping[str, object]
Predicate = Callable[[Record], bool]


def ordered(name: str, key: Callable[[object], Key | None], op: str, lit: Key) -> Predicate:
    # One closure per operator: a call through operator.gt per record costs ~30% more.
    if op == "<":
        return lambda r: (k := key(r.get(name))) is not None and k < lit  # type: ignore[operator]
    if op == "<=":
        return lambda r: (k := key(r.get(name))) is not None and k <= lit  # type: ignore[operator]
    if op == ">":
        return lambda r: (k := key(r.get(name))) is not None and k > lit  # type: ignore[operator]
    return lambda r: (k := key(r.get(name))) is not None and k >= lit  # type: ignore[operator]


def datetime_ordered(name: str, op: str, lit: str) -> Predicate:
    """The change-stream filter (``SystemModstamp > …``) over up to 1M records: stored values in the
    canonical ``…000+0000`` form compare as strings inline; anything else goes through the parser."""
    slow = ordered(name, RECORD_KEY[DATETIME], op, lit)

    if op == "<":

        def lt(r: Record) -> bool:
            v = r.get(name)
            if type(v) is str and len(v) == 28 and v[23] == "+":
                return v < lit
            return slow(r)

        return lt
    if op == "<=":

        def le(r: Record) -> bool:
            v = r.get(name)
            if type(v) is str and len(v) == 28 and v[23] == "+":
                return v <= lit
            return slow(r)

        return le
    if op == ">":

        def gt(r: Record) -> bool:
            v = r.get(name)
            if type(v) is str and len(v) == 28 and v[23] == "+":
                return v > lit
            return slow(r)

        return gt

    def ge(r: Record) -> bool:
        v = r.get(name)
        if type(v) is str and len(v) == 28 and v[23] == "+":
            return v >= lit
        return slow(r)

    return ge


def range_predicate(
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


def all_of(preds: list[Predicate]) -> Predicate:
    # Nested closures for short lists: all() over a generator costs a frame per record.
    if len(preds) == 2:
        a, b = preds
        return lambda r: a(r) and b(r)
    if len(preds) == 3:
        a, b, c = preds
        return lambda r: a(r) and b(r) and c(r)
    return lambda r: all(p(r) for p in preds)


def any_of(preds: list[Predicate]) -> Predicate:
    if len(preds) == 2:
        a, b = preds
        return lambda r: a(r) or b(r)
    if len(preds) == 3:
        a, b, c = preds
        return lambda r: a(r) or b(r) or c(r)
    return lambda r: any(p(r) for p in preds)


def includes_predicate(name: str, wanted: list[frozenset[str]], negated: bool) -> Predicate:
    """INCLUDES: some listed set is a subset of the record's selections; EXCLUDES: none is."""

    def has_any(r: Record) -> bool:
        v = r.get(name)
        if type(v) is not str or not v:
            return False
        have = picklist_set(v)
        return any(w <= have for w in wanted)

    if negated:
        return lambda r: not has_any(r)
    return has_any
