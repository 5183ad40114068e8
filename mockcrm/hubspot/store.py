"""Records of one object type, with the indexes that keep the hot paths off full scans.

- ``records``: id -> Record (archived records stay, for ``archived=true`` and the dump);
- ``ids``: every id in ascending order (ids only grow), so list paging bisects to ``after``;
- a live-id array with positions, for O(1) random picks (the workload generator) and counts;
- one dict per unique property (value -> id) over live records;
- ``ModifiedIndex``: (last-modified ms, id) pairs sorted, with lazy deletion, so incremental-sync
  searches (``GTE`` on the last-modified property, sorted by it) touch only the records they return.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterable, Iterator

import msgspec

from mockcrm.hubspot.schema import ObjectTypeDef


class Record(msgspec.Struct, gc=False):
    id: int
    props: dict[str, str]
    """User-visible stored properties (system timestamps and ``hs_object_id`` are rendered)."""
    created_ms: int
    updated_ms: int
    archived: bool = False
    archived_ms: int = 0


class ModifiedIndex:
    """Sorted (ms, id) pairs; an entry is live iff the record still has that ``updated_ms``."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, int]] = []
        self._stale = 0

    def add(self, ms: int, rec_id: int) -> None:
        entry = (ms, rec_id)
        if not self.entries or self.entries[-1] <= entry:
            self.entries.append(entry)
        else:  # the clock was moved back (skew tests): keep the order
            bisect.insort(self.entries, entry)

    def retire(self) -> None:
        """One entry went stale (its record was modified again or archived)."""
        self._stale += 1

    def maybe_compact(self, records: dict[int, Record]) -> None:
        if self._stale > 1024 and self._stale * 2 > len(self.entries):
            self.entries = [
                e for e in self.entries if (r := records.get(e[1])) is not None and _live_at(r, e[0])
            ]
            self._stale = 0

    def scan(self, records: dict[int, Record], lo: int, hi: int, reverse: bool = False) -> Iterator[Record]:
        """Live records with lo <= updated_ms <= hi, ordered by (ms, id)."""
        start = bisect.bisect_left(self.entries, (lo, -1))
        stop = bisect.bisect_right(self.entries, (hi, 1 << 62))
        span = range(stop - 1, start - 1, -1) if reverse else range(start, stop)
        entries = self.entries
        for i in span:
            ms, rec_id = entries[i]
            rec = records.get(rec_id)
            if rec is not None and _live_at(rec, ms):
                yield rec


def _live_at(rec: Record, ms: int) -> bool:
    return not rec.archived and rec.updated_ms == ms


class ObjectStore:
    def __init__(self, otype: ObjectTypeDef, unique_props: Iterable[str]) -> None:
        self.otype = otype
        self.records: dict[int, Record] = {}
        self.ids: list[int] = []
        self._live: list[int] = []
        self._live_pos: dict[int, int] = {}
        self.unique: dict[str, dict[str, int]] = {name: {} for name in unique_props}
        self.modified = ModifiedIndex()

    # --- reads -------------------------------------------------------------------------------
    def live_count(self) -> int:
        return len(self._live)

    def get_live(self, rec_id: int) -> Record | None:
        rec = self.records.get(rec_id)
        return rec if rec is not None and not rec.archived else None

    def by_unique(self, prop: str, value: str) -> Record | None:
        index = self.unique.get(prop)
        if index is None:
            return None
        rec_id = index.get(value)
        return None if rec_id is None else self.records[rec_id]

    def pick_live(self, rng: random.Random) -> Record | None:
        if not self._live:
            return None
        return self.records[self._live[rng.randrange(len(self._live))]]

    def iter_from(self, after: int, archived: bool) -> Iterator[Record]:
        """Records with id >= ``after`` in id order, either only live or only archived ones."""
        ids, records = self.ids, self.records
        for i in range(bisect.bisect_left(ids, after), len(ids)):
            rec = records[ids[i]]
            if rec.archived == archived:
                yield rec

    def all_live(self) -> Iterator[Record]:
        return (r for r in self.records.values() if not r.archived)

    # --- writes (callers validate first; these only keep the indexes right) --------------------
    def add_unique(self, prop: str) -> None:
        index: dict[str, int] = {}
        for rec in self.all_live():
            value = rec.props.get(prop)
            if value:
                index.setdefault(value, rec.id)
        self.unique[prop] = index

    def insert(self, rec_id: int, props: dict[str, str], ms: int) -> Record:
        rec = Record(rec_id, props, ms, ms)
        self.records[rec_id] = rec
        self.ids.append(rec_id)
        self._live_pos[rec_id] = len(self._live)
        self._live.append(rec_id)
        for prop, index in self.unique.items():
            value = props.get(prop)
            if value:
                index[value] = rec_id
        self.modified.add(ms, rec_id)
        return rec

    def update(self, rec: Record, changes: dict[str, str], ms: int) -> None:
        props = rec.props
        for prop, value in changes.items():
            index = self.unique.get(prop)
            if index is not None:
                old = props.get(prop)
                if old and index.get(old) == rec.id:
                    del index[old]
                if value:
                    index[value] = rec.id
            if value:
                props[prop] = value
            else:
                props.pop(prop, None)
        self._touch(rec, ms)

    def _touch(self, rec: Record, ms: int) -> None:
        if rec.updated_ms != ms:
            self.modified.retire()
            rec.updated_ms = ms
            self.modified.add(ms, rec.id)
            self.modified.maybe_compact(self.records)

    def archive(self, rec: Record, ms: int) -> None:
        if rec.archived:
            return
        for prop, index in self.unique.items():
            value = rec.props.get(prop)
            if value and index.get(value) == rec.id:
                del index[value]
        rec.archived = True
        rec.archived_ms = ms
        self.modified.retire()
        pos = self._live_pos.pop(rec.id)
        last = self._live.pop()
        if last != rec.id:
            self._live[pos] = last
            self._live_pos[last] = pos
