"""A rate limiter that provably keeps inside a server's sliding window, counted from our side only.

The server (HubSpot: 190 calls per 10 s, 5 searches per 1 s; the mock's ``SlidingWindow``) stamps
each call when it *arrives* and refuses one when ``limit`` stamps already lie in the half-open
window ``(stamp - interval, stamp]``. We never see its stamps, only two bounds on each of them:

- a call's stamp comes after we decided to send it (``acquire`` returned), since the server
  cannot count what it has not received;
- a call's stamp comes before we read its answer (``release``), since the server answers after
  counting.

So a call is counted here from ``acquire`` until ``interval`` after ``release``. A new call may go
when fewer than ``limit`` calls are so counted. Proof: take any ``limit + 1`` calls whose stamps
fell in one window of length ``interval``, and ``k`` the one we sent last. Each other call ``j``
was sent before ``k``; had it been released ``interval`` or more before ``k`` was sent, its stamp
(≤ its release) would lie ``interval`` or more before ``k``'s (≥ ``k``'s send), outside any window
holding both. So all ``limit`` others were still counted when ``k`` asked, and ``k`` waited. It
holds whatever happens between our decision and the server's stamp: a request queued for a pooled
connection, the ledger's group commit, either event loop stalled, answers coming back out of
order. What it costs is the round trip: a window of ``limit`` calls turns over every
``interval + latency``, i.e. ``limit / (interval + latency)`` calls/s sustained (5 searches/s at
20 ms: 4.9/s; 190/10 s at 200 ms: 18.6/s), and the whole ``limit`` may go at once.

Timing by send stamps instead (space calls ``interval / limit`` apart plus a margin) is faster on
paper and not safe: the margin must exceed the difference between two calls' delays from our
decision to the server's stamp, and that delay has no bound here (a search waiting behind busy
batch calls for a connection, then sent right after its successor). What a lost bet costs: the
call is answered 429 (not stamped: the mock and HubSpot count accepted calls only), our
``HttpClient`` waits one second (search's 429 carries no interval header; the burst one says
10 s, of which a tenth is waited) and tries again, and the ledger has charged an attempt the
server did not count. A second of latency on a stream's page is five searches lost.

A call that fails without an answer (a dropped connection, a timeout) is released when we see
the failure; if the server were to count it later still, this is the one case the proof does not
cover, and it costs the 429 above.

HubSpot's searches are not counted here: search has a window of its own (5 a second, a
``WindowLimiter`` of its own) and does not count in the ten-secondly one (reference A8: a search's
answer, a 429 included, carries the daily headers only; the mock counts them apart). Counting them
here too, as this module first did, gave the burst window's slots to searches, which a backfill
then had to reserve for them (50 of 190) so that its actors would not leave the search lane
waiting: a 10k real-limits backfill measured 84 % of its ceiling that way, 90 % without.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable

import anyio


class WindowLimiter:
    """At most ``limit`` calls in any ``interval_s`` window as the server stamps them."""

    def __init__(
        self,
        limit: int,
        interval_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or interval_s <= 0:
            raise ValueError(f"a limit of {limit} per {interval_s} s admits nothing")
        self.limit = limit
        self.interval_s = interval_s
        self._clock = clock
        self._in_flight = 0
        self._answered: list[float] = []  # a heap of release times, earliest first
        self._occupied: list[float] = []
        """An earlier process's calls (``occupy``), as ``_answered``."""
        self._waiting: deque[object] = deque()
        self._changed = anyio.Event()
        self.granted = 0
        """Calls let through since creation (tests and benchmarks count them)."""

    def _expire(self) -> float:
        now = self._clock()
        answered = self._answered
        while answered and answered[0] + self.interval_s <= now:
            heapq.heappop(answered)
        occupied = self._occupied
        while occupied and occupied[0] + self.interval_s <= now:
            heapq.heappop(occupied)
        return now

    def counted(self) -> int:
        """Calls that may still lie in the server's window."""
        self._expire()
        return self._in_flight + len(self._answered) + len(self._occupied)

    def room(self) -> int:
        return self.limit - self.counted()

    def has_capacity(self, calls: int = 1) -> bool:
        return self.room() >= calls

    def try_acquire(self, calls: int = 1) -> bool:
        """Take room for ``calls`` now if there is some and nobody waits ahead; never waits."""
        return self._could_go() and self._take(calls)

    def _take(self, calls: int) -> bool:
        if not self.has_capacity(calls):
            return False
        self._in_flight += calls
        self.granted += calls
        return True

    def release(self, calls: int = 1) -> None:
        """``calls`` were answered (or failed) just now: counted for one more interval."""
        calls = min(calls, self._in_flight)
        self._in_flight -= calls
        now = self._clock()
        for _ in range(calls):
            heapq.heappush(self._answered, now)
        self._notify()

    def occupy(self, calls: int, answered_ago_s: float) -> None:
        """``calls`` answered ``answered_ago_s`` seconds ago that this limiter never granted (an
        earlier process's, which may still be in the server's window): counted until one interval
        after, or until the server says there are fewer (``trim_occupied``)."""
        answered = self._clock() - answered_ago_s
        for _ in range(min(calls, self.limit)):
            heapq.heappush(self._occupied, answered)
        self._notify()

    def trim_occupied(self, at_most: int) -> None:
        """The server counted at most ``at_most`` calls in its window when it stamped one of ours
        (its own figure, e.g. HubSpot's ``X-HubSpot-RateLimit-Remaining``): an earlier process's
        calls still counted here are no more than that. The latest-answered are kept."""
        self._expire()
        excess = len(self._occupied) - max(0, at_most)
        if excess > 0:
            for _ in range(excess):
                heapq.heappop(self._occupied)
            self._notify()

    def cancel(self, calls: int = 1) -> None:
        """``calls`` taken by ``acquire`` were never sent: their room is free at once."""
        self._in_flight -= min(calls, self._in_flight)
        self._notify()

    def room_at(self) -> float | None:
        """When room next frees by itself (the oldest answer leaves the window); None = only a
        release or cancel can free it."""
        self._expire()
        first = min(self._answered[:1] + self._occupied[:1], default=None)
        return None if first is None else first + self.interval_s

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def _wait_change(self) -> None:
        changed = self._changed
        when = self.room_at()
        if when is None:
            await changed.wait()
            return
        # The clock may be a test's; sleeping is real time, so cap the wait and look again.
        with anyio.move_on_after(max(0.0, when - self._clock())):
            await changed.wait()

    async def acquire(self, calls: int = 1) -> None:
        """Wait for room (first come, first served)."""
        if calls > self.limit:
            raise ValueError(f"{calls} calls can never fit in a window of {self.limit}")
        if self.try_acquire(calls):
            return
        ticket = object()
        self._waiting.append(ticket)
        try:
            while True:
                if self._waiting[0] is ticket and self._take(calls):
                    return
                await self._wait_change()
        finally:
            self._waiting.remove(ticket)
            self._notify()  # the next in line may go now

    async def ready(self) -> None:
        """Returns when a call would find room at once, taking none (a batch waits here with its
        contents still open, so a rate limit fills batches instead of holding full ones back)."""
        while not self._could_go():
            await self._wait_change()

    def _could_go(self) -> bool:
        return not self._waiting and self.has_capacity()
