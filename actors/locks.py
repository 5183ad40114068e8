"""Per-key locks: one record pair is reconciled by one actor at a time.

The router gives each *record* its own actor, which keeps routing free of lookups; but a pair's
two records (its HubSpot contact and its Salesforce Contact) can change at once, and a new email
can arrive from both sides before any link exists. Actors therefore take the pair's lock — the
link key, or ``email:<address>`` before a link exists — around reconcile-and-write.

Nearly every acquisition is uncontended, so that path makes no task switch and no lock object:
a held key is a dict entry, and only a second holder queues (``anyio.Lock`` checkpoints on every
acquire, several times per record). A release hands the lock straight to the oldest waiter.
"""

from __future__ import annotations

from collections import deque
from types import TracebackType

import anyio


class KeyedLocks:
    def __init__(self) -> None:
        self._held: dict[str, deque[anyio.Event]] = {}
        """Held keys and, per key, whoever waits for it (oldest first)."""

    def hold(self, key: str) -> _Hold:
        return _Hold(self, key)

    def try_hold(self, key: str) -> bool:
        """Take ``key`` if nobody holds it, without waiting (give it back with ``release``): a
        group of records takes its keys this way, and leaves a record whose key is held to wait
        on its own."""
        if key in self._held:
            return False
        self._held[key] = deque()
        return True

    def release(self, key: str) -> None:
        """Give back a key taken with ``try_hold``."""
        self._release(key)

    def _release(self, key: str) -> None:
        waiters = self._held[key]
        if waiters:
            waiters.popleft().set()  # the lock passes to it: the key stays held
        else:
            del self._held[key]  # nothing grows with the number of records ever seen

    def __len__(self) -> int:
        return len(self._held)

    def __contains__(self, key: str) -> bool:
        """Whether someone holds ``key`` now."""
        return key in self._held


class _Hold:
    __slots__ = ("_key", "_locks")

    def __init__(self, locks: KeyedLocks, key: str) -> None:
        self._locks = locks
        self._key = key

    async def __aenter__(self) -> None:
        waiters = self._locks._held.get(self._key)
        if waiters is None:
            self._locks._held[self._key] = deque()
            return
        turn = anyio.Event()
        waiters.append(turn)
        try:
            await turn.wait()
        except BaseException:
            if turn.is_set():
                self._locks._release(self._key)  # handed to us as we were cancelled: pass it on
            else:
                waiters.remove(turn)
            raise

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._locks._release(self._key)
