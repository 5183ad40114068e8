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

The look-back need not re-read what can no longer change: a record stamped ``s`` is visible by the
CRM's time ``s + overlap_ms``, so once a complete pass has started at a CRM time ``T`` everything
stamped up to ``T - overlap_ms`` (the *settled* mark) has been read. The CRM's time is bounded from
below by its own stamps: a page that arrives ``d`` seconds ago holding stamp ``m`` says the CRM's
clock reads at least ``m + d`` now (its clock may be skewed against ours; only its rate is assumed
to be ours, give or take far less than the overlap). A look-back starts at the settled mark when
that is later than ``cursor - overlap_ms``: an idle stream's look-back window empties once it has
been settled, and an idle poll costs one read per stream.

The look-back runs every ``lookback_interval_s`` (overlap/2 by default) and reads from
``cursor - overlap_ms``: on a busy stream, whose cursor is near the CRM's now, a record is caught if
it becomes visible within ``overlap - interval`` (30 s by default) of its stamp; one later than that
can fall before the window of the first look-back after it appears.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import msgspec

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

    async def page(self, since_ms: int, token: str | None) -> tuple[list[Change], str | None]:
        """Changes modified at or after ``since_ms``; ``token`` continues a previous page.
        Returns the next token, or None when this pass is complete."""
        ...


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
    ) -> None:
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
        self._settled_ms: int | None = None
        self._lookback_interval_s = overlap_ms / 2000 if lookback_interval_s is None else lookback_interval_s

    async def load(self, initial_ms: int) -> None:
        """Resume from the saved cursor, or start at ``initial_ms`` (a new state file: nothing
        that already exists syncs by itself)."""
        saved = await self._store.cursor(self.name)
        if saved is None:
            saved = Cursor(ts_ms=initial_ms, last_id="", floor_ms=initial_ms)
            await self._store.commit([PutCursor(self.name, saved)])
        self.cursor = self._saved = saved

    def rewind(self) -> None:
        """Backfill: deliver every existing record once (the floor drops to zero), then carry on."""
        self.cursor = Cursor(ts_ms=0, last_id="", floor_ms=0)
        self._looked_back_at = -math.inf
        self._settled_ms = None

    async def poll(self, deliver: Deliver) -> int:
        """One pass over everything modified since the cursor (minus the overlap); returns how many
        changes were delivered. ``deliver`` may block (bounded mailboxes): that is back-pressure."""
        now = time.monotonic()
        settled = -1 if self._settled_ms is None else self._settled_ms
        if now - self._looked_back_at >= self._lookback_interval_s:
            # Re-reading the look-back window on every poll would multiply the calls of a busy
            # stream; every overlap/2 still catches any late-visible record well inside the window.
            # What is settled is not read again (an idle stream's window empties that way).
            since = max(0, self.cursor.ts_ms - self._overlap_ms, min(settled, self.cursor.ts_ms))
            self._looked_back_at = now
        else:
            since = self.cursor.ts_ms
        # This pass reads on from what is settled (or from the bottom of the window): if it completes,
        # what it started after is settled too.
        extends = since <= max(settled, self.cursor.ts_ms - self._overlap_ms, 0)
        token: str | None = None
        count = 0
        for ticket in [t for t in self._in_flight if t.failed]:
            ticket.failed = False
            count += 1
            await deliver(ticket.change, ticket)
        while True:
            changes, token = await self._source.page(since, token)
            if changes:
                self._saw(max(c.modified_ms for c in changes))
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
            self._advance()
            # Pruned page by page (amortised), not only after the pass: a backfill's first pass reads
            # every record, and holding a version of each until its end grew the engine with N.
            self._forget_old()
            if token is None:
                break
        if extends and self._crm_ahead_ms is not None:
            self._settled_ms = max(settled, _ms(now) + self._crm_ahead_ms - self._overlap_ms)
        self.delivered += count
        return count

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
        # Inside the look-back window and never delivered by this process: late-visible, or read
        # again after a restart (redelivering is harmless; missing it would not be).
        return change.modified_ms < self.cursor.ts_ms - self._overlap_ms

    def _advance(self) -> None:
        while self._in_flight and self._in_flight[0].done_flag:
            ts, rid = self._in_flight.popleft().key
            if (ts, rid) > (self.cursor.ts_ms, self.cursor.last_id):
                self.cursor = Cursor(ts_ms=ts, last_id=rid, floor_ms=self.cursor.floor_ms)

    def _forget_old(self) -> None:
        if len(self._recent) > max(1024, 2 * self._kept):
            horizon = self.cursor.ts_ms - self._overlap_ms
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
        """Persist the low watermark (cheap when it has not moved)."""
        self._advance()
        if self.cursor != self._saved:
            await self._store.commit([PutCursor(self.name, self.cursor)])
            self._saved = self.cursor
