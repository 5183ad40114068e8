"""Batching: actors ask for one record at a time; the CRMs are called with many.

A ``Batcher`` collects concurrent single-item requests and sends them as one call, then hands each
caller its own result. Actors stay simple ("read this record", "write these fields") while the API
sees batches of 100 (HubSpot) or 200 (Salesforce collections) — which is how crmsync spends a small
fraction of a call per record.

A batch takes its items when it can actually be sent, not when it is first formed: its first item
waits ``linger_s`` for company (or until the batch is full), then for one of the ``concurrency``
call slots, then for ``ready`` (the API's rate limiter having room), and only then is the batch
closed. Items that arrive meanwhile join it, up to ``size``. So when the API or the slots hold calls
back, the waiting fills batches instead of queueing more, smaller ones behind them: back-pressure
turns into fewer calls rather than more (under HubSpot's real limits, batches sent with fixed
contents while new partial ones formed behind them were a third full).

The flushing runs in the task of the batch's first caller, so a Batcher needs no background task
and nothing outlives the actors that use it. A caller cancelled before its batch is sent withdraws
its item; if it was the one to send, the next caller of the batch takes that over.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import anyio

In = TypeVar("In")
Out = TypeVar("Out")

Flush = Callable[[Sequence[In]], Awaitable[Sequence[Out | BaseException]]]
Ready = Callable[[], Awaitable[None]]

_WITHDRAWN = RuntimeError("withdrawn")


class _Batch(Generic[In, Out]):
    __slots__ = (
        "closed",
        "done",
        "error",
        "full",
        "items",
        "leader",
        "nudge",
        "results",
        "sent",
        "wake",
        "withdrawn",
    )

    def __init__(self) -> None:
        self.items: list[In] = []
        self.withdrawn: set[int] = set()
        """Indexes of callers cancelled before the batch was sent: their items are not sent."""
        self.results: list[Out | BaseException] = []
        self.error: BaseException | None = None
        self.leader = 0
        """Index of the caller that sends the batch."""
        self.closed = False
        """No more items join (it is full, or being sent)."""
        self.sent = False
        self.done = False
        self.full = anyio.Event()
        """Set when the batch is closed: ends the sender's linger."""
        self.nudge: anyio.Event | None = None
        """While the sender waits for the batcher's calls in flight: set when one returns, or at close."""
        self.wake = anyio.Event()
        """Set when the batch is done, or its sender is gone (then replaced): wakes the others."""


class Batcher(Generic[In, Out]):
    """Coalesce ``submit(item)`` calls into ``flush(items)`` calls of at most ``size`` items.

    ``flush`` returns one entry per item, in order: the item's result, or an exception for that
    item alone (a per-record error). An exception *raised* by ``flush`` fails every item of the batch.
    ``ready`` (optional) is awaited right before a batch is closed, with a call slot held: it
    returns when a call could go out at once (e.g. the rate limiter has room), without taking it.
    """

    def __init__(
        self,
        flush: Flush[In, Out],
        *,
        size: int,
        linger_s: float,
        concurrency: int = 4,
        ready: Ready | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("batch size must be at least 1")
        self._flush = flush
        self._size = size
        self._linger_s = linger_s
        self._ready = ready
        self._limit = anyio.Semaphore(concurrency)
        self._in_flight = 0
        # A partial batch waits for the calls in flight at most this long (see ``_lead``). 25
        # lingers saved a quarter of the calls at 1,000 changes/s but doubled p99 latency (per-record
        # latency times max_actors bounds throughput); 5 kept the latency of no hold at all.
        self._hold_s = linger_s * 5
        self._open: _Batch[In, Out] = _Batch()
        self.calls = 0
        """Batch calls made so far (for the summary: calls per record)."""
        self.items = 0
        """Items sent in those calls (``items / calls`` is the mean batch size)."""

    async def submit(self, item: In) -> Out:
        batch = self._open
        index = self._join(batch, item)
        await self._await(batch, (index,))
        if batch.error is not None:
            raise batch.error
        result = batch.results[index]
        if isinstance(result, BaseException):
            raise result
        return result

    async def submit_many(self, items: Sequence[In]) -> list[Out | BaseException]:
        """Each item's result, or its own exception, in order: ``submit`` for a whole group at
        once. The items join the open batch and as many new ones as they fill, and the caller
        waits once per batch, not once per item (a page of records handled together)."""
        out: list[Out | BaseException] = [_WITHDRAWN] * len(items)

        async def wait(batch: _Batch[In, Out], indexes: tuple[int, ...], first: int) -> None:
            try:
                await self._await(batch, indexes)
            except Exception as exc:
                # Raised to the sender before the call (an allotment used up, say): what ``submit``
                # would raise to each of these callers is their outcome, and the group's other
                # batches go on (their records may still be committed).
                out[first : first + len(indexes)] = [exc] * len(indexes)
                return
            for offset, index in enumerate(indexes):
                out[first + offset] = batch.error or batch.results[index]

        async with anyio.create_task_group() as tg:
            taken = 0
            while taken < len(items):
                batch, first = self._open, taken
                indexes = []
                while taken < len(items) and not batch.closed:
                    indexes.append(self._join(batch, items[taken]))
                    taken += 1
                tg.start_soon(wait, batch, tuple(indexes), first)
        return out

    def _join(self, batch: _Batch[In, Out], item: In) -> int:
        index = len(batch.items)
        batch.items.append(item)
        if len(batch.items) - len(batch.withdrawn) >= self._size:
            self._close(batch)
        return index

    async def _await(self, batch: _Batch[In, Out], indexes: tuple[int, ...]) -> None:
        """Until ``batch`` is done, sending it if one of ``indexes`` (the caller's items) leads it."""
        try:
            if batch.leader in indexes:
                await self._lead(batch, linger=True)
            while not batch.done:
                if batch.leader in indexes and not batch.sent:  # the sender was cancelled: take over
                    await self._lead(batch, linger=False)
                else:
                    await batch.wake.wait()
        except BaseException:
            if not batch.sent:
                for index in indexes:
                    self._withdraw(batch, index)
            raise

    def _close(self, batch: _Batch[In, Out]) -> None:
        if not batch.closed:
            batch.closed = True
            if self._open is batch:
                self._open = _Batch()
            batch.full.set()
            if batch.nudge is not None:
                batch.nudge.set()

    def _withdraw(self, batch: _Batch[In, Out], index: int) -> None:
        """A caller cancelled before its batch went out: drop its item, hand the sending on."""
        batch.withdrawn.add(index)
        if index != batch.leader:
            return
        rest = [i for i in range(index + 1, len(batch.items)) if i not in batch.withdrawn]
        if rest:
            batch.leader = rest[0]
            wake, batch.wake = batch.wake, anyio.Event()
            wake.set()  # the successor sees it leads; the others wait again
        else:
            # Nobody left to send it: a caller arriving later starts a new batch.
            self._close(batch)
            batch.done = True
            batch.wake.set()

    async def _lead(self, batch: _Batch[In, Out], *, linger: bool) -> None:
        if linger and not batch.closed:
            with anyio.move_on_after(self._linger_s):
                await batch.full.wait()
            # Still partial while another call of ours is out: wait for it (or for the batch to
            # fill), as TCP's Nagle does. With slots free a fixed linger sent a stream of small
            # batches side by side (a third full, lifted limits); this way at most one partial
            # batch is out at a time and the others fill meanwhile. Bounded: latency counts too.
            with anyio.move_on_after(self._hold_s):
                while self._in_flight and not batch.closed:
                    batch.nudge = anyio.Event()
                    await batch.nudge.wait()
            batch.nudge = None
        async with self._limit:
            if self._ready is not None:
                await self._ready()
            self._close(batch)  # only now: whatever joined while we waited goes too
            await self._send(batch)

    async def _send(self, batch: _Batch[In, Out]) -> None:
        batch.sent = True
        live = [i for i in range(len(batch.items)) if i not in batch.withdrawn]
        items = [batch.items[i] for i in live] if batch.withdrawn else batch.items
        results: list[Out | BaseException] = [_WITHDRAWN] * len(batch.items)
        self._in_flight += 1
        try:
            self.calls += 1
            self.items += len(items)
            answered = await self._flush(items)
            if len(answered) != len(items):
                raise RuntimeError(f"flush returned {len(answered)} results for {len(items)} items")
            for i, result in zip(live, answered, strict=True):
                results[i] = result
            batch.results = results
        except Exception as exc:
            batch.error = exc
        finally:
            self._in_flight -= 1
            waiting = self._open.nudge
            if waiting is not None:
                waiting.set()
            if batch.error is None and not batch.results:
                # The sender was cancelled mid-call: its companions must not wait forever.
                batch.error = RuntimeError("the batch call was abandoned (shutdown)")
            batch.done = True
            batch.wake.set()
