"""Records of one object type, with the indexes that keep the hot paths off full scans.

- ``records``: id -> Record (archived records stay, for ``archived=true`` and the dump);
- ``ids``: every id in ascending order (ids only grow), so list paging bisects to ``after``;
- a live-id array with positions, for O(1) random picks (the workload generator) and counts;
- one dict per unique property (lower-cased value -> id) over live records: unique values and
  search on them compare case-insensitively, as HubSpot's string comparisons do;
- ``ModifiedIndex``: (last-modified ms, id) of live records in order, so incremental-sync searches
  (``GTE`` on the last-modified property, sorted by it) touch only the records they return.
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


Entry = tuple[int, int]  # (last-modified ms, record id)
_BLOCK = 512


class ModifiedIndex:
    """Live records' (last-modified ms, id) pairs in order, as a list of sorted blocks.

    Blocks keep inserts and deletes cheap anywhere in the order (a plain list would move the whole
    tail), and their lengths give positions, so a range's size and its n-th entry come without
    walking it: an incremental-sync page costs O(blocks + page), not O(records since the watermark).
    """

    def __init__(self) -> None:
        self._blocks: list[list[Entry]] = []
        self._maxes: list[Entry] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def add(self, ms: int, rec_id: int) -> None:
        entry = (ms, rec_id)
        self._len += 1
        if not self._blocks:
            self._blocks.append([entry])
            self._maxes.append(entry)
            return
        i = bisect.bisect_left(self._maxes, entry)
        if i == len(self._maxes):  # the usual case: newer than everything (the clock moves on)
            i -= 1
            self._blocks[i].append(entry)
            self._maxes[i] = entry
        else:
            bisect.insort(self._blocks[i], entry)
        block = self._blocks[i]
        if len(block) > 2 * _BLOCK:
            self._blocks[i : i + 1] = [block[:_BLOCK], block[_BLOCK:]]
            self._maxes[i : i + 1] = [block[_BLOCK - 1], block[-1]]

    def remove(self, ms: int, rec_id: int) -> None:
        entry = (ms, rec_id)
        i = bisect.bisect_left(self._maxes, entry)
        block = self._blocks[i]
        j = bisect.bisect_left(block, entry)
        if j == len(block) or block[j] != entry:
            raise KeyError(entry)
        del block[j]
        self._len -= 1
        if block:
            self._maxes[i] = block[-1]
        else:
            del self._blocks[i]
            del self._maxes[i]

    def position(self, entry: Entry) -> int:
        """How many entries sort before ``entry``."""
        i = bisect.bisect_left(self._maxes, entry)
        if i == len(self._maxes):
            return self._len
        return sum(len(b) for b in self._blocks[:i]) + bisect.bisect_left(self._blocks[i], entry)

    def bounds(self, lo: int, hi: int) -> tuple[int, int]:
        """Positions [start, stop) of the entries with lo <= ms <= hi."""
        return self.position((lo, -1)), self.position((hi, 1 << 62))

    def entries(self, start: int, stop: int, reverse: bool = False) -> Iterator[Entry]:
        """Entries at positions [start, stop), ascending (or descending when ``reverse``); whole
        blocks before the range are skipped by their lengths."""
        if start >= stop:
            return
        blocks = reversed(self._blocks) if reverse else iter(self._blocks)
        pos = self._len if reverse else 0
        for block in blocks:
            n = len(block)
            if reverse:
                pos -= n  # this block holds positions [pos, pos + n)
            if pos < stop and pos + n > start:
                part = block[max(0, start - pos) : min(n, stop - pos)]
                yield from reversed(part) if reverse else part
            if not reverse:
                pos += n
            if (pos <= start) if reverse else (pos >= stop):
                return

    def scan(self, records: dict[int, Record], lo: int, hi: int, reverse: bool = False) -> Iterator[Record]:
        """Live records with lo <= updated_ms <= hi, ordered by (ms, id)."""
        start, stop = self.bounds(lo, hi)
        for _, rec_id in self.entries(start, stop, reverse):
            yield records[rec_id]


class ObjectStore:
    def __init__(self, otype: ObjectTypeDef, unique_props: Iterable[str]) -> None:
        self.otype = otype
        self.records: dict[int, Record] = {}
        self.ids: list[int] = []
        self.archived_ids: list[int] = []
        """Archived ids in order, so listing the (usually few) archived records never walks the live ones."""
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
        rec_id = index.get(value.lower())
        return None if rec_id is None else self.records[rec_id]

    def pick_live(self, rng: random.Random) -> Record | None:
        if not self._live:
            return None
        return self.records[self._live[rng.randrange(len(self._live))]]

    def iter_from(self, after: int, archived: bool) -> Iterator[Record]:
        """Records with id >= ``after`` in id order, either only live or only archived ones."""
        ids = self.archived_ids if archived else self.ids
        records = self.records
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
                index.setdefault(value.lower(), rec.id)
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
                index[value.lower()] = rec_id
        self.modified.add(ms, rec_id)
        return rec

    def update(self, rec: Record, changes: dict[str, str], ms: int) -> None:
        props = rec.props
        for prop, value in changes.items():
            index = self.unique.get(prop)
            if index is not None:
                old = props.get(prop)
                if old and index.get(old.lower()) == rec.id:
                    del index[old.lower()]
                if value:
                    index[value.lower()] = rec.id
            if value:
                props[prop] = value
            else:
                props.pop(prop, None)
        self._touch(rec, ms)

    def _touch(self, rec: Record, ms: int) -> None:
        if rec.updated_ms != ms:
            self.modified.remove(rec.updated_ms, rec.id)
            rec.updated_ms = ms
            self.modified.add(ms, rec.id)

    def archive(self, rec: Record, ms: int) -> None:
        if rec.archived:
            return
        for prop, index in self.unique.items():
            value = rec.props.get(prop)
            if value and index.get(value.lower()) == rec.id:
                del index[value.lower()]
        rec.archived = True
        rec.archived_ms = ms
        bisect.insort(self.archived_ids, rec.id)
        self.modified.remove(rec.updated_ms, rec.id)
        pos = self._live_pos.pop(rec.id)
        last = self._live.pop()
        if last != rec.id:
            self._live[pos] = last
            self._live_pos[last] = pos
