"""The links this process committed lately, readable by either side's id without a query.

Most changes a running sync reads are the echoes of its own writes (each pair's records come
back once it has written them) and a pair's second record: both are about links this process
has just committed. Reading those from memory saves a batched SQLite lookup (and its linger)
per change, and lets an echo be recognised before anything waits.

Coherent by construction: only ``StateStore`` fills it, with each link as its transaction
commits (in the transaction's order), and one process owns a state file (its lock file). A link
that is not here is simply read from SQLite. Bounded: the least recently committed go first.
"""

from __future__ import annotations

from collections import OrderedDict

from engine.store_types import Link

CAPACITY = 50_000
"""Links kept (roughly 1 KB each with their bases): a steady sync's working set, and a backfill
of up to this many pairs, whose echoes come back in its next pass."""


class LinkCache:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._by_key: OrderedDict[str, Link] = OrderedDict()
        self._by_hubspot: dict[tuple[str, str], str] = {}
        self._by_salesforce: dict[tuple[str, str], str] = {}
        self.forgotten = 0
        """Links dropped to stay within capacity so far. While it has not moved, every link
        committed since a moment is here: an id with no link then still has none."""

    def __len__(self) -> int:
        return len(self._by_key)

    def put(self, link: Link) -> None:
        self.delete(link.key)
        self._by_key[link.key] = link
        if link.hubspot_id is not None:
            self._by_hubspot[(link.object, link.hubspot_id)] = link.key
        if link.salesforce_id is not None:
            self._by_salesforce[(link.object, link.salesforce_id)] = link.key
        while len(self._by_key) > self._capacity:
            self.delete(next(iter(self._by_key)))
            self.forgotten += 1

    def delete(self, key: str) -> None:
        old = self._by_key.pop(key, None)
        if old is None:
            return
        # Only index entries that still point at this key: a newer link may hold the id now.
        if old.hubspot_id is not None and self._by_hubspot.get((old.object, old.hubspot_id)) == key:
            del self._by_hubspot[(old.object, old.hubspot_id)]
        if old.salesforce_id is not None and self._by_salesforce.get((old.object, old.salesforce_id)) == key:
            del self._by_salesforce[(old.object, old.salesforce_id)]

    def by_hubspot(self, obj: str, hubspot_id: str) -> Link | None:
        key = self._by_hubspot.get((obj, hubspot_id))
        return None if key is None else self._by_key[key]

    def by_salesforce(self, obj: str, salesforce_id: str) -> Link | None:
        key = self._by_salesforce.get((obj, salesforce_id))
        return None if key is None else self._by_key[key]
