"""The links this process committed lately, readable by either side's id without a query.

Most changes a running sync reads are the echoes of its own writes (each pair's records come
back once it has written them) and a pair's second record: both are about links this process
has just committed. Reading those from memory saves a batched SQLite lookup (and its linger)
per change, and lets an echo be recognised before anything waits.

Coherent by construction: only ``StateStore`` fills it, with each link as its transaction
commits (in the transaction's order), and one process owns a state file (its lock file). A link
that is not here is simply read from SQLite. Bounded: the least recently committed go first.

A change stream's page is looked up in one query before it is routed (``StateStore.prefetch``):
the links found join the cache as if just committed, and the ids found unlinked are remembered
as such (``absent``), so that the page's actors need no lookup of their own. Both are exact: an id
stays absent until a link with it enters the cache, and a read that a commit overlapped keeps
nothing of what that commit touched (``Watch``).
"""

from __future__ import annotations

from collections import OrderedDict

from engine.store_types import Link

CAPACITY = 100_000
"""Links kept (2.3–3.4 KB each with their bases, measured: peak RSS of a lifted backfill grows by
that per link cached): a steady sync's working set, and a backfill of up to this many pairs, whose
echoes come back in its next pass. At 50,000 a lifted 100k backfill read back half its echoes'
links from SQLite: 0.21–0.23 engine CPU s per 1,000 pairs against 0.17–0.18 with every link in
memory. 200,000 took a 1M backfill's peak RSS to 917 MB (``CRMSYNC_LINK_CACHE`` sets it)."""
ABSENT_CAPACITY = 100_000
"""Ids remembered as unlinked (about 100 B each): a few pages' worth is all that is ever used."""

Side = str
"""``"hubspot"`` or ``"salesforce"``."""


class Watch:
    """What the commits applied while a read was in flight touched: its results for those ids
    may predate them. ``blind``: a link not in the cache was deleted, whose ids are unknown."""

    __slots__ = ("blind", "ids")

    def __init__(self) -> None:
        self.ids: set[tuple[Side, str]] = set()
        self.blind = False


class LinkCache:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._by_key: OrderedDict[str, Link] = OrderedDict()
        self._by_hubspot: dict[tuple[str, str], str] = {}
        self._by_salesforce: dict[tuple[str, str], str] = {}
        self._absent: dict[tuple[str, Side, str], None] = {}
        """(object, side, id) with no link in the state file (oldest first, bounded)."""
        self._watches: list[Watch] = []
        self.forgotten = 0
        """Links dropped to stay within capacity so far. While it has not moved, every link
        committed since a moment is here: an id with no link then still has none."""

    def __len__(self) -> int:
        return len(self._by_key)

    def put(self, link: Link) -> None:
        """A link as just committed."""
        self._forget(link.key)
        self._by_key[link.key] = link
        if link.hubspot_id is not None:
            self._by_hubspot[(link.object, link.hubspot_id)] = link.key
            self._absent.pop((link.object, "hubspot", link.hubspot_id), None)
        if link.salesforce_id is not None:
            self._by_salesforce[(link.object, link.salesforce_id)] = link.key
            self._absent.pop((link.object, "salesforce", link.salesforce_id), None)
        self._touched(link)
        while len(self._by_key) > self._capacity:
            self._forget(next(iter(self._by_key)))
            self.forgotten += 1

    def delete(self, key: str) -> None:
        """A link as just deleted."""
        old = self._forget(key)
        if old is not None:
            self._touched(old)
        else:
            for watch in self._watches:
                watch.blind = True

    def _forget(self, key: str) -> Link | None:
        old = self._by_key.pop(key, None)
        if old is None:
            return None
        # Only index entries that still point at this key: a newer link may hold the id now.
        if old.hubspot_id is not None and self._by_hubspot.get((old.object, old.hubspot_id)) == key:
            del self._by_hubspot[(old.object, old.hubspot_id)]
        if old.salesforce_id is not None and self._by_salesforce.get((old.object, old.salesforce_id)) == key:
            del self._by_salesforce[(old.object, old.salesforce_id)]
        return old

    def _touched(self, link: Link) -> None:
        for watch in self._watches:
            if link.hubspot_id is not None:
                watch.ids.add(("hubspot", link.hubspot_id))
            if link.salesforce_id is not None:
                watch.ids.add(("salesforce", link.salesforce_id))

    # -- filled from a read of the state file ---------------------------------------------------

    def watch(self) -> Watch:
        """Start noting what commits touch (a read of the state file is about to start)."""
        watch = Watch()
        self._watches.append(watch)
        return watch

    def unwatch(self, watch: Watch) -> None:
        self._watches.remove(watch)

    def read(self, link: Link) -> None:
        """A link read from the state file (none of its ids touched while it was read): cached
        unless the cache knows better already (the key, or either id under another key)."""
        if link.key in self._by_key:
            return
        if link.hubspot_id is not None and (link.object, link.hubspot_id) in self._by_hubspot:
            return
        if link.salesforce_id is not None and (link.object, link.salesforce_id) in self._by_salesforce:
            return
        self.put(link)

    def read_absent(self, obj: str, side: Side, record_id: str) -> None:
        """No link has this id in the state file (and none was committed while it was read)."""
        self._absent[(obj, side, record_id)] = None
        if len(self._absent) > ABSENT_CAPACITY:
            del self._absent[next(iter(self._absent))]

    def absent(self, obj: str, side: Side, record_id: str) -> bool:
        """Known to have no link: read so, and no link with it committed since."""
        return (obj, side, record_id) in self._absent

    def known(self, obj: str, side: Side, record_id: str) -> bool:
        """Cached, or known to be absent: a lookup needs no query."""
        index = self._by_hubspot if side == "hubspot" else self._by_salesforce
        return (obj, record_id) in index or (obj, side, record_id) in self._absent

    # -- lookups --------------------------------------------------------------------------------

    def by_hubspot(self, obj: str, hubspot_id: str) -> Link | None:
        key = self._by_hubspot.get((obj, hubspot_id))
        return None if key is None else self._by_key[key]

    def by_salesforce(self, obj: str, salesforce_id: str) -> Link | None:
        key = self._by_salesforce.get((obj, salesforce_id))
        return None if key is None else self._by_key[key]
