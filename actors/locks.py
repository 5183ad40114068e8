"""Per-key locks: one record pair is reconciled by one actor at a time.

The router gives each *record* its own actor, which keeps routing free of lookups; but a pair's
two records (its HubSpot contact and its Salesforce Contact) can change at once, and a new email
can arrive from both sides before any link exists. Actors therefore take the pair's lock — the
link key, or ``email:<address>`` before a link exists — around reconcile-and-write.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[str, tuple[anyio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = anyio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]  # nothing grows with the number of records ever seen
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
