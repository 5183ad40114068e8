"""A change source whose pages have their links looked up before the stream routes them.

Each change an actor handles starts by finding its pair's link. Asked one change at a time, that
is an awaited (batched) SQLite lookup per change — a task switch and a thread hop each, most of
them finding nothing in a backfill. Asked once per page, before the page is routed, it is one
query per page, and the router's check for echoes and the actors find every answer in memory
(``StateStore.prefetch_links``). The stream itself is unchanged: this wraps its source.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from actors.stream import Change, ChangeSource

Prefetch = Callable[[Sequence[Change]], Awaitable[None]]


class PrefetchingSource:
    def __init__(self, source: ChangeSource, prefetch: Prefetch) -> None:
        self._source = source
        self._prefetch = prefetch

    async def page(
        self,
        since_ms: int,
        token: str | None,
        *,
        until_ms: int | None = None,
        after_id: str | None = None,
    ) -> tuple[list[Change], str | None]:
        changes, token = await self._source.page(since_ms, token, until_ms=until_ms, after_id=after_id)
        if changes:
            await self._prefetch(changes)
        return changes, token
