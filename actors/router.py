"""The router: one actor per link key, created on demand and retired when its mailbox empties.

Per key, changes are handled one at a time and in order (two changes to one record pair never race
each other into a double write); across keys they run in parallel, up to ``max_actors``. Mailboxes
are bounded, and a full one — or no free actor slot — makes ``route`` wait: a slow CRM slows the
change stream's reader instead of growing memory.

An actor is a mailbox, not a task: a pool of worker tasks (at most ``max_actors``) takes ready
mailboxes in turn and drains each. Spawning a task per record cost about a tenth of the engine's
CPU in a backfill; a worker instead stays for the next mailbox while any actor is alive, and
retires when the router falls idle, so nothing outlives a pass and the task group can end.
Workers are started one at a time, each as the previous one takes a mailbox with more waiting:
a change handled without waiting (an echo) leaves its worker free for the next one, so a page of
them needs one worker, and a page of changes that wait for the CRMs starts one per change.

Most changes a running sync reads need no actor at all (its own writes coming back): ``settled``,
when given, is asked about each change whose record has no actor, as it is routed, and one it
settles is done there and then — no mailbox, no worker, no task switch (about half of a backfill's
deliveries). A record with an actor gets its changes in order through the mailbox, as before.

Records seen for the first time (``grouped``, when given) are handled together instead: each joins
the open group, whose task — started with the first of them — hands the whole group to
``handle_group`` (``actors/contact_group.py``). Routing a page makes no checkpoint, so a page's new
records are one group. Each keeps its mailbox meanwhile, so its later changes queue there and are
handled in order, by a worker, once the group is done.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Sequence

import anyio
from anyio.abc import TaskGroup

from actors.stream import Change, Ticket

Handle = Callable[[str, Change], Awaitable[None]]
Settled = Callable[[Change], bool]
OnRetry = Callable[[BaseException], None]
Grouped = Callable[[Change], bool]
HandleGroup = Callable[[Sequence[tuple[str, Change]]], Awaitable[Sequence[BaseException | None]]]
"""Handles a group of changes at once: per change, None (handled) or the exception it ended in."""


class _Group:
    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[tuple[str, Change, Ticket]] = []


class _Mailbox:
    __slots__ = ("items", "space")

    def __init__(self) -> None:
        self.items: deque[tuple[Change, Ticket]] = deque()
        self.space: anyio.Event | None = None
        """Set when the actor takes an item; made only when a producer waits for room."""


class Router:
    def __init__(
        self,
        tg: TaskGroup,
        handle: Handle,
        *,
        max_actors: int,
        mailbox_size: int = 16,
        retry_on: tuple[type[BaseException], ...] = (),
        on_retry: OnRetry | None = None,
        settled: Settled | None = None,
        grouped: Grouped | None = None,
        handle_group: HandleGroup | None = None,
    ) -> None:
        self._tg = tg
        self._handle = handle
        self._settled = settled
        self._grouped = grouped if handle_group is not None else None
        self._handle_group = handle_group
        self._group: _Group | None = None
        """The group that changes join as they are routed; closed when its task starts."""
        self._retry_on = retry_on
        self._on_retry = on_retry
        self._max_actors = max_actors
        self._mailbox_size = mailbox_size
        self._actors: dict[str, _Mailbox] = {}
        self._ready: deque[tuple[str, _Mailbox]] = deque()
        """Mailboxes with no worker yet, oldest first."""
        self._workers = 0
        self._starting = 0
        """Workers started that have not yet taken a mailbox."""
        self._waiting_workers: deque[anyio.Event] = deque()
        self._slot_free: anyio.Event | None = None
        self._idle = anyio.Event()
        self._idle.set()
        self.handled = 0

    @property
    def active(self) -> int:
        return len(self._actors)

    async def route(self, key: str, change: Change, ticket: Ticket) -> None:
        # No checkpoint when there is room: a page of changes is routed without a task switch each.
        while True:
            box = self._actors.get(key)
            if box is None:
                if self._settled is not None and self._settled(change):
                    ticket.done()
                    self.handled += 1
                    return
                if len(self._actors) >= self._max_actors:
                    if self._slot_free is None:
                        self._slot_free = anyio.Event()
                    await self._slot_free.wait()
                    continue  # another change for this key may have got there first
                box = _Mailbox()
                self._actors[key] = box
                if self._idle.is_set():
                    self._idle = anyio.Event()
                if self._grouped is not None and self._grouped(change):
                    self._join_group(key, change, ticket)
                    return
                box.items.append((change, ticket))
                self._ready.append((key, box))
                self._dispatch()
                return
            if len(box.items) < self._mailbox_size:
                box.items.append((change, ticket))
                return
            # Full: wait for the actor to take one, then look again (it may have retired meanwhile).
            if box.space is None:
                box.space = anyio.Event()
            await box.space.wait()

    def _dispatch(self) -> None:
        """A mailbox is ready: wake a waiting worker, or start one unless one is starting already
        (it starts the next if it finds more than one mailbox ready) or the actor limit is reached."""
        if self._waiting_workers:
            self._waiting_workers.popleft().set()
        elif self._starting == 0 and self._workers < self._max_actors:
            self._workers += 1
            self._starting += 1
            self._tg.start_soon(self._worker, name="router worker")

    async def _worker(self) -> None:
        self._starting -= 1
        try:
            while True:
                while self._ready:
                    key, box = self._ready.popleft()
                    if self._ready:
                        self._dispatch()  # someone for the next mailbox, should this one wait
                    await self._drain(key, box)
                if not self._actors:
                    return  # idle: a pass is over (the next one starts workers again)
                # Other actors are still busy: stay for a mailbox that may become ready.
                wake = anyio.Event()
                self._waiting_workers.append(wake)
                await wake.wait()
        finally:
            self._workers -= 1

    async def _drain(self, key: str, box: _Mailbox) -> None:
        try:
            while box.items:
                change, ticket = box.items.popleft()
                if box.space is not None:
                    box.space.set()
                    box.space = None
                try:
                    await self._handle(key, change)
                except self._retry_on as exc:
                    # Back-pressure or an outage, not a bug: the stream delivers it again later.
                    ticket.fail()
                    if self._on_retry is not None:
                        self._on_retry(exc)
                    continue
                ticket.done()
                self.handled += 1
        finally:
            # No await between the empty check and retiring, so nobody can post to a dead mailbox.
            self._retire(key, box)

    def _retire(self, key: str, box: _Mailbox) -> None:
        del self._actors[key]
        if box.space is not None:
            box.space.set()
        if self._slot_free is not None:
            self._slot_free.set()
            self._slot_free = None
        if not self._actors:
            self._idle.set()
            while self._waiting_workers:  # nothing left to wait for: let them retire
                self._waiting_workers.popleft().set()

    def _join_group(self, key: str, change: Change, ticket: Ticket) -> None:
        """The change joins the open group (its key's mailbox stays empty meanwhile: later changes
        to the record queue there, and are handled in order once the group is done). Routing a
        page makes no checkpoint, so a page's changes join one group before its task starts."""
        if self._group is None:
            self._group = _Group()
            self._tg.start_soon(self._run_group, self._group, name="router group")
        self._group.items.append((key, change, ticket))

    async def _run_group(self, group: _Group) -> None:
        assert self._handle_group is not None
        if self._group is group:
            self._group = None  # closed: what is routed from now on starts the next group
        try:
            outcomes = await self._handle_group([(key, change) for key, change, _ in group.items])
            stop: BaseException | None = None
            for (_, _, ticket), outcome in zip(group.items, outcomes, strict=True):
                if outcome is None:
                    ticket.done()
                    self.handled += 1
                elif isinstance(outcome, self._retry_on):
                    ticket.fail()
                    if self._on_retry is not None:
                        self._on_retry(outcome)
                elif stop is None:
                    stop = outcome
            if stop is not None:
                raise stop  # after every other change's ticket: what the group did is kept
        finally:
            for key, _, _ in group.items:
                box = self._actors[key]
                if box.items:
                    self._ready.append((key, box))  # changes that came meanwhile, in order
                    self._dispatch()
                else:
                    self._retire(key, box)

    async def wait_idle(self) -> None:
        """Until no actor is alive (every routed change handled)."""
        while self._actors:
            await self._idle.wait()
