"""The router: one actor per link key, created on demand and retired when its mailbox empties.

Per key, changes are handled one at a time and in order (two changes to one record pair never race
each other into a double write); across keys they run in parallel, up to ``max_actors``. Mailboxes
are bounded, and a full one — or no free actor slot — makes ``route`` wait: a slow CRM slows the
change stream's reader instead of growing memory.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable

import anyio
from anyio.abc import TaskGroup

from actors.stream import Change, Ticket

Handle = Callable[[str, Change], Awaitable[None]]
OnRetry = Callable[[BaseException], None]


class _Mailbox:
    __slots__ = ("items", "space")

    def __init__(self) -> None:
        self.items: deque[tuple[Change, Ticket]] = deque()
        self.space = anyio.Event()


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
    ) -> None:
        self._tg = tg
        self._handle = handle
        self._retry_on = retry_on
        self._on_retry = on_retry
        self._slots = anyio.Semaphore(max_actors)
        self._mailbox_size = mailbox_size
        self._actors: dict[str, _Mailbox] = {}
        self._idle = anyio.Event()
        self._idle.set()
        self.handled = 0

    @property
    def active(self) -> int:
        return len(self._actors)

    async def route(self, key: str, change: Change, ticket: Ticket) -> None:
        while True:
            box = self._actors.get(key)
            if box is None:
                await self._slots.acquire()
                if key in self._actors:  # another change for this key got there first
                    self._slots.release()
                    continue
                box = _Mailbox()
                box.items.append((change, ticket))
                self._actors[key] = box
                self._idle = anyio.Event() if self._idle.is_set() else self._idle
                self._tg.start_soon(self._run, key, box, name=f"actor {key}")
                return
            if len(box.items) < self._mailbox_size:
                box.items.append((change, ticket))
                return
            # Full: wait for the actor to take one, then look again (it may have retired meanwhile).
            await box.space.wait()

    async def _run(self, key: str, box: _Mailbox) -> None:
        try:
            while box.items:
                change, ticket = box.items.popleft()
                box.space.set()
                box.space = anyio.Event()
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
            del self._actors[key]
            box.space.set()
            self._slots.release()
            if not self._actors:
                self._idle.set()

    async def wait_idle(self) -> None:
        """Until no actor is alive (every routed change handled)."""
        while self._actors:
            await self._idle.wait()
