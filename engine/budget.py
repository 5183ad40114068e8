"""The API budget: per system, a burst limiter plus a persistent rolling-24-hour allotment.

Two tiers, because one cannot do both jobs: a window sized for a day would let the whole day's
calls go in one burst, and a daily counter alone would trip HubSpot's ten-second window (the
burst tier is ``engine.pacing.WindowLimiter``; so are lanes such as HubSpot search's own limit).

The daily tier writes each call to the state store's ledger *before* the call is made, so a crash
can only over-count; after a restart the last 24 hours are read back and the allotment still holds.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence

from engine.errors import CrmsyncError
from engine.pacing import WindowLimiter
from engine.store import StateStore
from engine.store_types import AddApiCalls

WINDOW_MINUTES = 1440
SERVER_FIGURE_TTL_S = 60.0


class AllotmentExhausted(CrmsyncError):
    """The system's 24-hour allotment (ours or the server's) has no room for this call."""

    def __init__(self, system: str, resume_at: float) -> None:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(resume_at))
        super().__init__(f"{system} allotment used up; room again at {when} UTC")
        self.system = system
        self.resume_at = resume_at


class Budget:
    """One system's calls: create inside the running engine (the limiters' events bind to its loop)."""

    def __init__(
        self,
        system: str,
        allotment: int,
        store: StateStore,
        *,
        burst: WindowLimiter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.system = system
        self.allotment = allotment
        self._store = store
        self._burst = burst
        self._clock = clock
        self._minutes: deque[list[int]] = deque()  # [minute, calls], oldest first
        self._used = 0
        self.server_limit: int | None = None
        """The server's own daily limit ("limited by Salesforce"), from its headers."""
        self.server_remaining: int | None = None
        self._server_seen_at = 0.0
        self._in_flight = 0
        """Calls charged and sent whose answer has not come back (``settle``)."""

    async def load(self) -> None:
        """Read the last 24 hours of calls back from the ledger (after a restart)."""
        now = self._minute()
        rows = await self._store.api_ledger(self.system, now - WINDOW_MINUTES + 1)
        self._minutes = deque([m, c] for m, c in rows)
        self._used = sum(c for _, c in rows)
        await self._store.prune_api_ledger(now - WINDOW_MINUTES + 1)

    def clock(self) -> float:
        return self._clock()

    def calls_between(self, start: float, end: float) -> int:
        """Calls in the ledger's minutes that overlap ``[start, end]`` (this budget's clock): at
        least the calls made in that stretch."""
        first, last = int(start // 60), int(end // 60)
        self._expire()
        return sum(calls for minute, calls in self._minutes if first <= minute <= last)

    def _minute(self) -> int:
        return int(self._clock() // 60)

    def _expire(self) -> int:
        now = self._minute()
        while self._minutes and self._minutes[0][0] <= now - WINDOW_MINUTES:
            self._used -= self._minutes.popleft()[1]
        return now

    def used_24h(self) -> int:
        self._expire()
        return self._used

    def _server_remaining(self) -> int | None:
        # The server's figure is a snapshot of a window that keeps rolling: trust it for a minute,
        # then let one call through to read a fresh one (otherwise a 0 would block us forever).
        if self.server_remaining is None or self._clock() - self._server_seen_at > SERVER_FIGURE_TTL_S:
            return None
        return self.server_remaining

    def remaining(self) -> int:
        ours = self.allotment - self.used_24h()
        server = self._server_remaining()
        if server is not None:
            ours = min(ours, server)
        return max(0, ours)

    def server_exhausted(self) -> float:
        """The server refused for its own daily limit: no calls for a while; returns when to retry."""
        self.observe(remaining=0)
        return self._clock() + SERVER_FIGURE_TTL_S

    def resume_at(self, calls: int = 1) -> float:
        """When ``calls`` more would fit in our allotment (the server's own window is its business)."""
        self._expire()
        excess = self._used + calls - self.allotment
        for minute, count in self._minutes:
            excess -= count
            if excess <= 0:
                return float((minute + WINDOW_MINUTES) * 60)
        return self._clock()

    async def ready(self) -> None:
        """Returns when an ordinary call would pass the burst limiter at once, taking nothing from
        it. A batch waits here with its contents still open (``Batcher(ready=...)``), so that a
        rate limit fills batches instead of holding full ones back while partial ones form behind."""
        if self._burst is not None:
            await self._burst.ready()

    async def acquire(self, calls: int = 1, *, lane: WindowLimiter | None = None) -> None:
        """Charge ``calls`` to the ledger, then wait for room in ``lane`` if given (a kind of
        call's own limit, e.g. HubSpot search's 5/s, whose calls the burst window does not count:
        ``engine.pacing``), else in the burst window; raises AllotmentExhausted. Every call taken
        here is to be given back with ``settle`` once answered, with the same ``lane``.

        The ledger goes first so that what lies between a limiter's grant and the send is as short
        as it can be: the limiters count a call from their grant to its answer (``engine.pacing``),
        so a group commit in between would cost rate, never safety."""
        now = self._expire()
        if calls > self.remaining():
            server = self._server_remaining()
            if server is not None and server < calls:
                # The server's window is rolling and its reset time is unknown: look again later.
                raise AllotmentExhausted(self.system, self._server_seen_at + SERVER_FIGURE_TTL_S)
            raise AllotmentExhausted(self.system, self.resume_at(calls))
        if self._minutes and self._minutes[-1][0] == now:
            self._minutes[-1][1] += calls
        else:
            self._minutes.append([now, calls])
        self._used += calls
        self._in_flight += calls
        if self.server_remaining is not None:
            self.server_remaining -= calls
        taken: list[WindowLimiter] = []
        try:
            await self._store.commit([AddApiCalls(self.system, now, calls)])
            limiter = self._burst if lane is None else lane
            if limiter is not None:
                await limiter.acquire(calls)
                taken.append(limiter)
        except BaseException:
            # Not sent: the ledger keeps its charge (a crash may only over-count), the rest is undone.
            self._in_flight = max(0, self._in_flight - calls)
            for limiter in taken:
                limiter.cancel(calls)
            raise

    def settle(self, calls: int = 1, *, lane: WindowLimiter | None = None) -> None:
        """``calls`` sent by ``acquire`` have been answered (or failed)."""
        self._in_flight = max(0, self._in_flight - calls)
        limiter = self._burst if lane is None else lane
        if limiter is not None:
            limiter.release(calls)

    def observe_burst(self, in_window: int) -> None:
        """The server's burst window held ``in_window`` calls when it counted one of ours: no more
        than that of an earlier process's calls can be in it (``carry_over``)."""
        if self._burst is not None:
            self._burst.trim_occupied(in_window)

    def observe(
        self, *, used: int | None = None, limit: int | None = None, remaining: int | None = None
    ) -> None:
        """Correct from the server's usage headers (``Sforce-Limit-Info``, ``X-HubSpot-RateLimit-Daily*``)."""
        if limit is not None:
            self.server_limit = limit
            if used is not None:
                remaining = limit - used
        if remaining is not None:
            # The answer counts its own call, but not the others still in flight: those may reach
            # the server after it, so they are taken off too (concurrent batches overshot the
            # server's limit by several calls when its figure was trusted as it stood).
            figure = max(0, remaining - max(0, self._in_flight - 1))
            # Answers come back out of order: a slow answer's figure predates calls answered
            # since (and no longer in flight), so a higher figure than ours while ours is fresh is
            # stale, not room. Ours stays, and ages: a window that really freed calls is believed
            # once ours is past its TTL.
            current = self._server_remaining()
            if current is None or figure <= current:
                self.server_remaining = figure
                self._server_seen_at = self._clock()


def carry_over(budget: Budget, limiters: Sequence[WindowLimiter], ended_ago_s: float | None) -> None:
    """Charge ``limiters`` with the calls an earlier process may have left in the server's windows.

    A limiter counts only what it granted, and a new process starts with empty ones; but the
    server's windows still hold the previous process's last calls (a search lane of 5 a second,
    a burst window of 10 s): a run started right after another was refused for it. The ledger
    holds every call by the minute, so the minutes that overlap the window before the previous
    run ended (``ended_ago_s`` seconds ago; None when it was killed and its end is unknown: now)
    hold at least the calls that can still be in the window; they are counted as answered at
    that end. Called before this process makes a call."""
    ago = 0.0 if ended_ago_s is None else max(0.0, ended_ago_s)
    end = budget.clock() - ago
    for limiter in limiters:
        if ago >= limiter.interval_s:
            continue
        calls = budget.calls_between(end - limiter.interval_s, end)
        if calls:
            limiter.occupy(calls, answered_ago_s=ago)
