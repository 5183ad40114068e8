"""In-memory records of one sObject type, with the indexes that keep the mock fast.

Records are ``dict[str, object]`` with canonical field names and JSON-ready values, keyed by the
15-character id. Deleted records stay (``IsDeleted`` true) as the recycle bin that ``/queryAll``,
``/deleted`` and dumps see. A list of ``(SystemModstamp ms, id15)`` kept sorted with bisect lets the
change-stream query ``WHERE SystemModstamp > X ORDER BY SystemModstamp, Id`` start at X instead of
scanning everything; entries go stale when a record changes again and are skipped (lazy deletion),
then compacted away when they outnumber the live ones.

``lookup`` indexes the non-unique fields Salesforce itself indexes and integrations match on
(``Email``): casefolded value → ids. It may hold more than the matches (a rolled-back create, a
deleted record), never fewer, so a query narrowed by it still filters what it gets.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterator

from mockcrm.salesforce.schema import SObjectDef

Record = dict[str, object]
LOOKUP_FIELDS = ("Email",)
"""Standard indexed fields of Contact, Lead and User that are not unique."""


def unique_key(value: object) -> str:
    # External ids and unique fields are case-insensitive unless marked case-sensitive (the default).
    return str(value).lower()


class Table:
    def __init__(self, sobject: SObjectDef) -> None:
        self.sobject = sobject
        self.name = sobject.name
        self.records: dict[str, Record] = {}
        self.keys: list[str] = []
        """Every id15 in insertion order, for picking a random record in O(1)."""
        self.live = 0
        self.unique: dict[str, dict[str, str]] = {f: {} for f in sobject.external_id_fields()}
        self.lookup: dict[str, dict[str, str | set[str]]] = {
            f: {} for f in LOOKUP_FIELDS if f in sobject.fields and f not in self.unique
        }
        self.stamp_of: dict[str, int] = {}
        self._stamps: list[tuple[int, str]] = []
        self.deleted_log: list[tuple[int, str]] = []
        """(deleted ms, id18) sorted by time, for ``/deleted`` (which bisects it: a steady run's
        delete-stream polls scanned the whole log on every call)."""
        self.dup_index: dict[str, dict[tuple[str, ...], set[str]]] = {}
        """Duplicate rule name → normalised matching values → live record ids."""

    def refresh_unique_fields(self) -> None:
        """Index a unique field added after records exist (custom object registration)."""
        for f in self.sobject.external_id_fields():
            if f not in self.unique:
                index = self.unique[f] = {}
                for key, rec in self.records.items():
                    v = rec.get(f)
                    if v is not None and not rec.get("IsDeleted"):
                        index[unique_key(v)] = key

    def get(self, id15: str) -> Record | None:
        return self.records.get(id15)

    def find_unique(self, field: str, value: object) -> str | None:
        index = self.unique.get(field)
        return None if index is None else index.get(unique_key(value))

    def find_lookup(self, field: str, value: str) -> Collection[str] | None:
        """Ids that may hold ``value`` in the indexed ``field`` (None: the field is not indexed)."""
        index = self.lookup.get(field)
        if index is None:
            return None
        ids = index.get(value.casefold(), ())
        return (ids,) if isinstance(ids, str) else ids

    def insert(self, id15: str, record: Record, stamp_ms: int) -> None:
        self.records[id15] = record
        self.keys.append(id15)
        self.live += 1
        for f, index in self.unique.items():
            v = record.get(f)
            if v is not None:
                index[unique_key(v)] = id15
        self.index_lookup(id15, None, record)
        self._stamp(id15, stamp_ms)

    def index_lookup(self, id15: str, old: Record | None, new: Record) -> None:
        """Move ``id15`` in the lookup indexes from ``old``'s values to ``new``'s."""
        for f, index in self.lookup.items():
            before = _lookup_key(old.get(f)) if old is not None else None
            after = _lookup_key(new.get(f))
            if before == after:
                continue
            # A value most records hold alone maps to the id itself; a set only for shared ones
            # (a million one-id sets would cost the mock ~200 MB).
            if before is not None:
                held = index.get(before)
                if isinstance(held, set):
                    held.discard(id15)
                    if len(held) == 1:
                        index[before] = next(iter(held))
                elif held == id15:
                    del index[before]
            if after is not None:
                other = index.setdefault(after, id15)
                if isinstance(other, set):
                    other.add(id15)
                elif other != id15:
                    index[after] = {other, id15}

    def reindex_unique(self, id15: str, old: Record, new_values: Record) -> None:
        """Move unique-index entries of changed unique fields; call before applying the change."""
        for f, index in self.unique.items():
            if f not in new_values:
                continue
            before, after = old.get(f), new_values[f]
            if before is not None and index.get(unique_key(before)) == id15:
                del index[unique_key(before)]
            if after is not None:
                index[unique_key(after)] = id15

    def touch(self, id15: str, stamp_ms: int) -> None:
        self._stamp(id15, stamp_ms)

    def mark_deleted(self, id15: str, record: Record, stamp_ms: int, id18: str) -> None:
        self.live -= 1
        for f, index in self.unique.items():
            v = record.get(f)
            if v is not None and index.get(unique_key(v)) == id15:
                del index[unique_key(v)]
        # Its duplicate-rule entries are dropped by the caller, which knows the rules' fields.
        log = self.deleted_log
        if log and log[-1][0] > stamp_ms:  # the mock's clock was moved back
            bisect.insort(log, (stamp_ms, id18))
        else:
            log.append((stamp_ms, id18))
        self._stamp(id15, stamp_ms)

    def deleted_between(self, start_ms: int, end_ms: int) -> list[tuple[int, str]]:
        """Entries of ``deleted_log`` with ``start_ms <= ms <= end_ms``, oldest first."""
        log = self.deleted_log
        lo = bisect.bisect_left(log, start_ms, key=_first)
        hi = bisect.bisect_right(log, end_ms, lo=lo, key=_first)
        return log[lo:hi]

    def _stamp(self, id15: str, stamp_ms: int) -> None:
        old = self.stamp_of.get(id15)
        if old == stamp_ms:
            return  # already indexed at this stamp
        self.stamp_of[id15] = stamp_ms
        entry = (stamp_ms, id15)
        stamps = self._stamps
        if not stamps or stamps[-1] <= entry:
            stamps.append(entry)  # the usual case: the clock moves forward
        else:
            bisect.insort(stamps, entry)
        if old is not None and len(stamps) > 2 * len(self.stamp_of) + 1024:
            self._stamps = sorted((ms, i) for i, ms in self.stamp_of.items())

    def since(self, stamp_ms: int) -> Iterator[Record]:
        """Records (live and deleted) whose SystemModstamp ≥ ``stamp_ms``, in (stamp, id) order."""
        stamps = self._stamps
        stamp_of = self.stamp_of
        records = self.records
        for i in range(bisect.bisect_left(stamps, (stamp_ms, "")), len(stamps)):
            ms, id15 = stamps[i]
            if stamp_of.get(id15) == ms:
                yield records[id15]

    def newest(self) -> Iterator[tuple[int, Record]]:
        """(stamp, record) of every record (live and deleted), newest SystemModstamp first."""
        stamp_of, records = self.stamp_of, self.records
        for ms, id15 in reversed(self._stamps):
            if stamp_of.get(id15) == ms:
                yield ms, records[id15]

    def between(self, start_ms: int, end_ms: int) -> Iterator[tuple[int, Record]]:
        """(stamp, record) with start ≤ SystemModstamp < end, in stamp order."""
        stamps = self._stamps
        for i in range(bisect.bisect_left(stamps, (start_ms, "")), len(stamps)):
            ms, id15 = stamps[i]
            if ms >= end_ms:
                break
            if self.stamp_of.get(id15) == ms:
                yield ms, self.records[id15]

    def clear(self) -> None:
        self.records.clear()
        self.keys.clear()
        self.live = 0
        for index in self.unique.values():
            index.clear()
        for lookup in self.lookup.values():
            lookup.clear()
        self.stamp_of.clear()
        self._stamps.clear()
        self.deleted_log.clear()
        for entries in self.dup_index.values():
            entries.clear()


def _first(entry: tuple[int, str]) -> int:
    return entry[0]


def _lookup_key(value: object) -> str | None:
    # As SOQL compares text (soql_values._text_key): casefolded, '' is null.
    return value.casefold() if type(value) is str and value else None
