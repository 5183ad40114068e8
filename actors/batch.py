"""Batching: actors ask for one record at a time; the CRMs are called with many.

A ``Batcher`` collects concurrent single-item requests and sends them as one call when the batch is
full or has waited ``linger_s``, then hands each caller its own result. Actors stay simple ("read
this record", "write these fields") while the API sees batches of 100 (HubSpot) or 200 (Salesforce
collections) — which is how crmsync spends a small fraction of a call per record.

The flushing runs in the task of the caller that filled the batch or whose linger ran out, so a
Batcher needs no background task and nothing outlives the actors that use it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import anyio

In = TypeVar("In")
Out = TypeVar("Out")

Flush = Callable[[Sequence[In]], Awaitable[Sequence[Out | BaseException]]]


class _Pending(Generic[In, Out]):
    def __init__(self) -> None:
        self.items: list[In] = []
        self.results: Sequence[Out | BaseException] = ()
        self.error: BaseException | None = None
        self.sent = False
        self.done = anyio.Event()


class Batcher(Generic[In, Out]):
    """Coalesce ``submit(item)`` calls into ``flush(items)`` calls of at most ``size`` items.

    ``flush`` returns one entry per item, in order: the item's result, or an exception for that
    item alone (a per-record error). An exception *raised* by ``flush`` fails every item of the batch.
    """

    def __init__(self, flush: Flush[In, Out], *, size: int, linger_s: float, concurrency: int = 4) -> None:
        if size < 1:
            raise ValueError("batch size must be at least 1")
        self._flush = flush
        self._size = size
        self._linger_s = linger_s
        self._limit = anyio.Semaphore(concurrency)
        self._pending: _Pending[In, Out] = _Pending()
        self.calls = 0
        """Batch calls made so far (for the summary: calls per record)."""

    async def submit(self, item: In) -> Out:
        batch = self._pending
        index = len(batch.items)
        batch.items.append(item)
        if len(batch.items) >= self._size:
            self._pending = _Pending()
            await self._send(batch)
        elif index == 0:
            # The first item of a batch waits for company, then sends whatever has gathered.
            with anyio.move_on_after(self._linger_s):
                await batch.done.wait()
            if not batch.sent:
                if self._pending is batch:
                    self._pending = _Pending()
                await self._send(batch)
        await batch.done.wait()
        if batch.error is not None:
            raise batch.error
        result = batch.results[index]
        if isinstance(result, BaseException):
            raise result
        return result

    async def _send(self, batch: _Pending[In, Out]) -> None:
        batch.sent = True
        try:
            async with self._limit:
                self.calls += 1
                results = await self._flush(batch.items)
            if len(results) != len(batch.items):
                raise RuntimeError(f"flush returned {len(results)} results for {len(batch.items)} items")
            batch.results = results
        except Exception as exc:
            batch.error = exc
        finally:
            if batch.error is None and len(batch.results) != len(batch.items):
                # The sender was cancelled mid-call: its companions must not wait forever.
                batch.error = RuntimeError("the batch call was abandoned (shutdown)")
            batch.done.set()
