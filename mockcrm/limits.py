"""Call accounting shared by both mocks: a rolling 24-hour counter and a sliding burst window.

Both read the mock's own clock, so moving the clock forward (``/__mock/clock``) frees the daily
allotment exactly as the passage of a day would.
"""

from __future__ import annotations

from collections import deque

from mockcrm.clock import MockClock

DAY_S = 86_400
_BUCKET_S = 60


class RollingDailyCounter:
    """Calls in the last 24 hours, kept in per-minute buckets (at most 1,440 of them)."""

    def __init__(self, clock: MockClock, limit: int) -> None:
        self._clock = clock
        self.limit = limit
        self._buckets: deque[tuple[int, int]] = deque()  # (minute, calls)
        self._total = 0

    def _expire(self) -> int:
        minute = int(self._clock.time()) // _BUCKET_S
        horizon = minute - DAY_S // _BUCKET_S
        while self._buckets and self._buckets[0][0] <= horizon:
            self._total -= self._buckets.popleft()[1]
        return minute

    def used(self) -> int:
        self._expire()
        return self._total

    def remaining(self) -> int:
        return max(0, self.limit - self.used())

    def exhausted(self) -> bool:
        return self.limit > 0 and self.used() >= self.limit

    def record(self, calls: int = 1) -> None:
        minute = self._expire()
        if self._buckets and self._buckets[-1][0] == minute:
            self._buckets[-1] = (minute, self._buckets[-1][1] + calls)
        else:
            self._buckets.append((minute, calls))
        self._total += calls

    def reset(self) -> None:
        self._buckets.clear()
        self._total = 0


class SlidingWindow:
    """At most ``limit`` events in any ``interval_s`` window (HubSpot's ten-secondly rolling limit)."""

    def __init__(self, clock: MockClock, limit: int, interval_s: float) -> None:
        self._clock = clock
        self.limit = limit
        self.interval_s = interval_s
        self._stamps: deque[float] = deque()

    def _expire(self) -> float:
        now = self._clock.time()
        while self._stamps and self._stamps[0] <= now - self.interval_s:
            self._stamps.popleft()
        return now

    def try_acquire(self) -> bool:
        """Count one event if the window has room; False means the caller must answer 429."""
        if self.limit <= 0:  # 0 = unlimited (the benchmark's "lifted limits")
            return True
        now = self._expire()
        if len(self._stamps) >= self.limit:
            return False
        self._stamps.append(now)
        return True

    def remaining(self) -> int:
        if self.limit <= 0:
            return 0
        self._expire()
        return max(0, self.limit - len(self._stamps))

    def reset(self) -> None:
        self._stamps.clear()
