"""Change streams: read one (system, object) incrementally from a persisted cursor.

The cursor is a ``(modification time, id)`` pair: everything up to it is durably handled. Three
things make that harder than "remember the newest timestamp":

- many records can share one timestamp, across page boundaries — so order is ``(ts, id)`` and the
  cursor carries the id as well;
- a record may become visible *after* records with later timestamps were read (a transaction
  committing late, clock skew between the CRM's nodes) — so every poll looks back ``overlap_ms``
  before the cursor and delivers what it has not delivered before;
- changes are handled concurrently and finish out of order — so the cursor advances only to the
  *low watermark*: the newest change such that it and every change before it are done.

The look-back reads each record once more, when it can no longer change: a record stamped ``s``
is visible by the CRM's time ``s + overlap_ms``. A stamp is *settled* once a read that covered it
began at a CRM time at least that late; everything up to the *settled mark* is. Every
``lookback_interval_s`` a poll reads the stretch from the settled mark up to ``CRM now -
overlap_ms`` (a *slice*, with an upper bound), then on from the cursor as usual: each record is
read twice in all, fresh and once settled, instead of again on every look-back while it sits in the
window. A record that becomes visible late is caught by the slice that settles its stamp, between
``overlap`` and ``overlap + interval`` after it. Pages settle as they are read, too: a backfill's
pass over a CRM's history reads stamps long settled, and only its fresh tail is left to a slice.

The CRM's time is bounded from below by its own stamps: a page that arrives ``d`` seconds ago
holding stamp ``m`` says the CRM's clock reads at least ``m + d`` now (its clock may be skewed
against ours; only its rate is assumed to be ours, give or take far less than the overlap). That
bound only grows, so a pass's pages are judged again with it as later pages arrive: the first page
of a backfill is settled once the pass has seen the CRM's present.

What the stream remembers to skip re-reads (``_recent``) reaches down to the settled mark, but never
further than ``2 × overlap_ms`` behind the cursor: a record below that which is read again counts as
seen. That bounds memory on a busy stream whose settled mark lags (its slices are late), at the price
of a record that became visible only after its stamp fell that far behind the cursor.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Protocol

import anyio
import anyio.lowlevel
import msgspec
from anyio.abc import TaskGroup

from engine import failpoints
from engine.store import StateStore
from engine.store_types import Cursor, PutCursor


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """One record as a change stream saw it: its current mapped values, or its deletion."""

    system: str
    object: str
    """HubSpot object type or Salesforce sObject."""
    record_id: str
    modified_ms: int
    values: dict[str, Any] = msgspec.field(default_factory=dict)
    deleted: bool = False
    read_at: float = 0.0
    """``time.monotonic()`` when the page holding this snapshot was requested. An actor that
    committed the record's pair after this moment may have written to the record since: the
    snapshot can then be older than the record, and the actor reads the record afresh."""


class ChangeSource(Protocol):
    """One page of changes at a time, oldest first in ``(modified_ms, record_id)`` order."""

    async def page(
        self,
        since_ms: int,
        token: str | None,
        *,
        until_ms: int | None = None,
        after_id: str | None = None,
    ) -> tuple[list[Change], str | None]:
        """Changes modified at or after ``since_ms`` (and at or before ``until_ms``, if given: more
        is harmless, less is not); ``token`` continues a previous page. ``after_id`` (with no
        token): of the changes stamped ``since_ms`` itself only those with a greater id are wanted
        (a keyset start; again, more is harmless). Returns the next token, or None when this pass
        is complete. A page's changes are complete below its newest stamp: the next page resumes at
        that stamp or after it."""
        ...


READ_AHEAD = 10_000
"""Changes a backfill's pass over a rate-limited stream (HubSpot search) may hold read but not yet
delivered (``_ReadAhead``): 50 search pages of 200, ten seconds of HubSpot's search rate, as long
as actors that spent HubSpot's burst window can wait for it to turn (a 10k real-limits backfill's
do, while the search lane has pages to read). About 1 KB each. Other passes, and streams without
a rate limit to keep busy, read one page ahead: reading further ahead of delivery only made stale
snapshots (read again by their actors) and short pages (a real-limits 1,000 changes/s run slower,
a lifted backfill 10 % more HubSpot calls)."""


_SPENT = Change(system="", object="", record_id="", modified_ms=0)
"""What a done ticket holds instead of its change."""


class Ticket:
    """Handed out with each delivered change. The handler calls ``done()`` once the change is
    durable, or ``fail()`` when it must be tried again later (rate limits, an exhausted allotment,
    a CRM that is down): the stream then delivers it again on its next poll, and until then the
    cursor stays behind it."""

    __slots__ = ("change", "done_flag", "failed", "key")

    def __init__(self, change: Change) -> None:
        self.change = change
        self.key = (change.modified_ms, change.record_id)
        self.done_flag = False
        self.failed = False

    def done(self) -> None:
        self.done_flag = True
        # Only the key is needed now (the cursor's low watermark). A done ticket can wait in the
        # in-flight queue behind a slow one for a whole pass: without its values it costs ~100 B
        # there instead of the record's ~1 KB (a 1M-pair backfill).
        self.change = _SPENT

    def fail(self) -> None:
        self.failed = True


Deliver = Callable[[Change, Ticket], Awaitable[None]]


_Page = tuple[int, list[Change], str | None, int | None]
"""(asked at, the page's changes, the next token, its newest stamp)."""


class _ReadAhead:
    """A pass's pages, read in the background in order while earlier ones are delivered.

    Reading runs ahead of delivery by up to ``limit`` changes (at least one page): a reader held
    back by busy actors (full mailboxes, every actor slot taken while the actors wait for a rate
    limit) keeps a rate-limited search lane busy instead of leaving it idle, and what it read
    waits here. ``next`` returns the pages in order and raises what a read raised."""

    def __init__(self, tg: TaskGroup, read: Callable[[str | None], Awaitable[_Page]], *, limit: int) -> None:
        self._pages: deque[_Page] = deque()
        self._held = 0
        """Changes in ``_pages``."""
        self._limit = limit
        self._error: BaseException | None = None
        self._ended = False
        self._arrived = anyio.Event()
        self._taken = anyio.Event()
        tg.start_soon(self._run, read)

    async def _run(self, read: Callable[[str | None], Awaitable[_Page]]) -> None:
        token: str | None = None
        try:
            while True:
                while self._held >= self._limit:
                    self._taken = anyio.Event()
                    await self._taken.wait()
                page = await read(token)
                self._pages.append(page)
                self._held += len(page[1])
                self._arrived.set()
                token = page[2]
                if token is None:
                    return
        except Exception as exc:  # handed to the pass, which raises it where it waits
            self._error = exc
        finally:
            self._ended = True
            self._arrived.set()

    async def next(self) -> _Page:
        while not self._pages:
            if self._error is not None:
                raise self._error
            if self._ended:
                raise RuntimeError("read past a pass's last page")
            self._arrived = anyio.Event()
            await self._arrived.wait()
        page = self._pages.popleft()
        self._held -= len(page[1])
        self._taken.set()
        return page


PROMPT_MS = 3000
"""A record is visible this long after its stamp but for late-visible ones (slow commits, skew
between the CRM's nodes), which the look-back catches: Salesforce stamps whole seconds, so this is
the second itself and two more."""


def _ms(monotonic_s: float) -> int:
    return math.floor(monotonic_s * 1000)


def _version(change: Change) -> tuple[int, int]:
    return change.modified_ms, hash(msgspec.json.encode(change.values))


class ChangeStream:
    def __init__(
        self,
        name: str,
        source: ChangeSource,
        store: StateStore,
        *,
        overlap_ms: int = 60_000,
        lookback_interval_s: float | None = None,
        slice_from: int = 100,
        read_ahead: int = 1,
    ) -> None:
        """``slice_from``: records known in an unsettled stretch from which a look-back reads a
        bounded slice and then the cursor's pass; below it, one pass from the stretch's bottom to
        the end costs fewer pages (a slice takes a page of its own)."""
        self.name = name
        self._source = source
        self._store = store
        self._overlap_ms = overlap_ms
        self.cursor = Cursor(ts_ms=0, last_id="")
        self._saved = self.cursor
        self._in_flight: deque[Ticket] = deque()
        # id -> (modified_ms, content hash) of the version last delivered, kept for the look-back
        # window so that a re-read is skipped. The content is part of a version's identity because
        # Salesforce stamps whole seconds: two versions of a record can share one SystemModstamp.
        self._recent: dict[str, tuple[int, int]] = {}
        self._kept = 0
        """Entries ``_recent`` kept at its last pruning: it is pruned again once twice as large."""
        self.delivered = 0
        self._looked_back_at = -math.inf
        # max(stamp - arrival) over every page: the CRM's clock reads at least monotonic_ms() + this.
        self._crm_ahead_ms: int | None = None
        self._settled_ms = -1
        """Every stamp up to this one is settled (see the module docstring)."""
        self._swept_ms = -1
        """Every stamp from the cursor up to this one has been read by a pass that began once the
        CRM's clock was ``PROMPT_MS`` past it: what is stamped there now and was not read is
        late-visible (the look-back's business), so a pass from the cursor need not read the
        cursor's stamp again up to the cursor's id. Only ever compared with the cursor, which never
        goes back (``rewind`` resets it)."""
        self._lookback_interval_s = overlap_ms / 2000 if lookback_interval_s is None else lookback_interval_s
        self._saved_settled: int | None = None
        self._slice_from = slice_from
        self._read_ahead = read_ahead
        self._backfilling = False
        """A backfill's first pass is under way: it reads up to ``read_ahead`` changes ahead."""

    async def load(self, initial_ms: int) -> None:
        """Resume from the saved cursor, or start at ``initial_ms`` (a new state file: nothing
        that already exists syncs by itself)."""
        saved = await self._store.cursor(self.name)
        if saved is None:
            saved = Cursor(ts_ms=initial_ms, last_id="", floor_ms=initial_ms)
            await self._store.commit([PutCursor(self.name, saved)])
        self.cursor = self._saved = saved
        settled = await self._store.settled_mark(self.name)
        # Without a saved mark (an older state file), what an earlier process read up to the window
        # is taken as settled (it looked back too), and the window is read once more.
        self._settled_ms = settled if settled is not None else max(-1, saved.ts_ms - self._overlap_ms - 1)
        self._saved_settled = settled

    def rewind(self) -> None:
        """Backfill: deliver every existing record once (the floor drops to zero), then carry on."""
        self._backfilling = True
        self.cursor = Cursor(ts_ms=0, last_id="", floor_ms=0)
        self._looked_back_at = -math.inf
        self._settled_ms = -1
        self._swept_ms = -1

    async def poll(self, deliver: Deliver) -> int:
        """One pass over everything modified since the cursor, after a slice of the look-back when
        one is due; returns how many changes were delivered. ``deliver`` may block (bounded
        mailboxes): that is back-pressure."""
        count = 0
        for ticket in [t for t in self._in_flight if t.failed]:
            ticket.failed = False
            count += 1
            await deliver(ticket.change, ticket)
        self.delivered += count
        now = time.monotonic()
        # Below the horizon counts as settled (a re-read there is taken as seen, so never re-read),
        # and so does the floor (what is stamped there is never delivered).
        self._settled_ms = max(self._settled_ms, self._horizon() - 1, self.cursor.floor_ms)
        low = self._settled_ms + 1
        if low < self.cursor.ts_ms:  # a stretch below the cursor is not settled yet
            high = None if self._crm_ahead_ms is None else _ms(now) + self._crm_ahead_ms - self._overlap_ms
            if high is None or high >= self.cursor.ts_ms:
                # The CRM's clock is not known yet (a first pass after a start), or the whole
                # stretch can be settled now: one pass from its bottom does both.
                return count + await self._pass(low, None, deliver)
            if high >= low and now - self._looked_back_at >= self._lookback_interval_s:
                self._looked_back_at = now
                if self._known_from(low) < self._slice_from:
                    return count + await self._pass(low, None, deliver)  # one page for both reads
                count += await self._pass(low, high, deliver)
        # The cursor's stamp is read again from its start while it is recent (a record updated
        # later in the same second, with a lower id, is read at the next poll); once a pass has
        # read it after the CRM's clock left it, it is read from the cursor's id on: a second
        # holding more than a page of our own writes cost a second query on every idle poll.
        cursor = self.cursor
        after = cursor.last_id if cursor.last_id and cursor.ts_ms <= self._swept_ms else None
        # A new state file's cursor is its floor: what is stamped there is never delivered, and a
        # second of more than a page at the floor would cost two queries every poll.
        if cursor.ts_ms <= cursor.floor_ms:
            return count + await self._pass(cursor.floor_ms + 1, None, deliver)
        return count + await self._pass(cursor.ts_ms, None, deliver, after)

    async def _pass(self, since: int, until: int | None, deliver: Deliver, after: str | None = None) -> int:
        """Read ``[since, until]`` page by page (at ``since`` itself from ids past ``after``, if
        given), delivering what is new and settling what it can."""
        count = 0
        # (asked at, stamps complete up to) of this pass's pages not yet settled, while the pass
        # has read every stamp from the settled mark on (a keyset start leaves out part of its
        # first stamp, which must then be settled already).
        reach = self._settled_ms + (0 if after else 1)
        chain: list[tuple[int, float]] | None = [] if since <= reach else None
        first_asked: int | None = None
        failed: Exception | None = None
        async with anyio.create_task_group() as tg:
            ahead = self._read_ahead if self._backfilling else 1  # see READ_AHEAD
            pages = _ReadAhead(tg, partial(self._page, since, until, after), limit=ahead)
            while True:
                try:
                    asked, changes, token, newest = await pages.next()
                    if first_asked is None:
                        first_asked = asked
                    if token is not None:
                        # Let the next read go out before this page is routed: routing makes no
                        # checkpoint, so the request would otherwise wait for it, and the CRM and
                        # the engine would take turns instead of working at once.
                        await anyio.lowlevel.checkpoint()
                    count += await self._take(changes, deliver)
                except Exception as exc:
                    # Raised once the page read ahead is cancelled, outside the task group: the
                    # caller sees the error itself (an exhausted allotment, a CRM down), not a group.
                    failed = exc
                    tg.cancel_scope.cancel()
                    break
                chain = self._chain(chain, asked, newest, token, until)
                self._advance()
                # Pruned page by page (amortised), not only after the pass: a backfill's first pass
                # reads every record, and holding a version of each until its end grew the engine
                # with N.
                self._forget_old()
                if token is None:
                    break
        self.delivered += count
        if failed is not None:
            raise failed
        if until is None and first_asked is not None and self._crm_ahead_ms is not None:
            # The pass read every stamp from ``since`` to the CRM's present when it began.
            self._swept_ms = max(self._swept_ms, first_asked + self._crm_ahead_ms - PROMPT_MS)
        if until is None and self._backfilling:
            self._backfilling = False  # read to the present: what is left is polling
        return count

    async def _page(self, since: int, until: int | None, after: str | None, token: str | None) -> _Page:
        """One page: the first of a pass at ``since`` from ids past ``after``, the next by ``token``."""
        asked = _ms(time.monotonic())
        changes, token = await self._source.page(
            since, token, until_ms=until, after_id=after if token is None else None
        )
        newest = max((c.modified_ms for c in changes), default=None)
        if newest is not None:
            self._saw(newest)  # as it arrives: a page read ahead may wait long to be delivered
        return asked, changes, token, newest

    async def _take(self, changes: list[Change], deliver: Deliver) -> int:
        """Deliver a page's changes that are new; returns how many."""
        count = 0
        for change in changes:
            if self._seen(change):
                continue
            self._recent[change.record_id] = _version(change)
            ticket = Ticket(change)
            self._in_flight.append(ticket)
            count += 1
            await deliver(change, ticket)
            if failpoints.ARMED:
                failpoints.hit("page_read")
        return count

    def _chain(
        self,
        chain: list[tuple[int, float]] | None,
        asked: int,
        newest: int | None,
        token: str | None,
        until: int | None,
    ) -> list[tuple[int, float]] | None:
        """The pass's chain with this page (its newest stamp) added, and settled as far as it goes."""
        if chain is None:
            return None
        if token is None:
            chain.append((asked, math.inf if until is None else until))
        elif newest is not None:
            # Every page resumes at its newest stamp or after it: what is below is complete.
            chain.append((asked, newest - 1))
        else:
            return None  # a page that says nothing of what it covered ends the chain
        self._settle(chain)
        return chain

    def _settle(self, chain: list[tuple[int, float]]) -> None:
        """Raise the settled mark over the chain's leading pages that the CRM's clock now covers."""
        ahead = self._crm_ahead_ms
        if ahead is None:
            return
        while chain:
            asked, complete = chain[0]
            reach = min(complete, asked + ahead - self._overlap_ms)
            if reach > self._settled_ms:
                self._settled_ms = int(reach)
            if reach < complete:
                return  # judged again when a later page raises the bound on the CRM's clock
            chain.pop(0)

    def _horizon(self) -> int:
        """Stamps below this are not re-read, and a re-read one is taken as seen."""
        return max(0, self.cursor.ts_ms - 2 * self._overlap_ms)

    def _known_from(self, stamp_ms: int) -> int:
        return sum(1 for v in self._recent.values() if v[0] >= stamp_ms)

    def _saw(self, stamp_ms: int) -> None:
        """A page just arrived holding ``stamp_ms``: the CRM's clock read at least that when it sent it."""
        ahead = stamp_ms - _ms(time.monotonic()) - 1
        if self._crm_ahead_ms is None or ahead > self._crm_ahead_ms:
            self._crm_ahead_ms = ahead

    def _seen(self, change: Change) -> bool:
        if change.modified_ms <= self.cursor.floor_ms:
            return True  # existed before the first run: only an explicit backfill syncs it
        previous = self._recent.get(change.record_id)
        if previous is not None:
            version = _version(change)
            # Seen if it is this very version or an older one; a newer one, or another one stamped in
            # the same second, is new.
            return previous[0] > version[0] or previous == version
        key = (change.modified_ms, change.record_id)
        cursor = (self.cursor.ts_ms, self.cursor.last_id)
        if key > cursor:
            return False
        if self._overlap_ms == 0:
            return True
        # Unsettled and never delivered by this process: late-visible, or read again after a
        # restart (redelivering is harmless; missing it would not be).
        return change.modified_ms <= max(self._settled_ms, self._horizon() - 1)

    def _advance(self) -> None:
        while self._in_flight and self._in_flight[0].done_flag:
            ts, rid = self._in_flight.popleft().key
            if (ts, rid) > (self.cursor.ts_ms, self.cursor.last_id):
                self.cursor = Cursor(ts_ms=ts, last_id=rid, floor_ms=self.cursor.floor_ms)

    def _forget_old(self) -> None:
        if len(self._recent) > max(1024, 2 * self._kept):
            # What is settled is never delivered again, but an in-flight change (past the cursor)
            # must stay known, or the next read from the cursor would deliver it twice.
            horizon = max(min(self._settled_ms + 1, self.cursor.ts_ms), self._horizon())
            self._recent = {k: v for k, v in self._recent.items() if v[0] >= horizon}
            self._kept = len(self._recent)

    @property
    def failed(self) -> int:
        """Changes waiting to be delivered again."""
        return sum(1 for t in self._in_flight if t.failed)

    @property
    def idle(self) -> bool:
        """Every delivered change is done."""
        self._advance()
        return not self._in_flight

    async def checkpoint(self) -> None:
        """Persist the low watermark and the settled mark (cheap when neither has moved)."""
        self._advance()
        # Past the cursor's stamp the mark tells a restart nothing (everything past the cursor is
        # read again anyway), so it is kept no higher: an idle stream, whose mark rises every poll
        # while its cursor stays, writes nothing.
        settled = min(self._settled_ms, self.cursor.ts_ms)
        if self.cursor != self._saved or settled != self._saved_settled:
            await self._store.commit([PutCursor(self.name, self.cursor, settled)])
            self._saved = self.cursor
            self._saved_settled = settled
