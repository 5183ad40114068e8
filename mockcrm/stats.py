"""API call statistics for ``GET /__mock/stats``; the control plane itself is never counted.

Besides the totals, each call's arrival is logged (wall-clock time, endpoint) for ``GET
/__mock/timeline``: the benchmark turns it into a per-second series of where a run spent its
calls and where it waited. A call costs one tuple in a bounded deque, cheap enough to leave on.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable

TIMELINE_CALLS = 200_000
"""Calls the timeline keeps (the newest): a 1M-pair backfill makes ~35,000."""


class CallStats:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.api_calls = 0
        self.by_endpoint: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        """Calls answered with a rate- or daily-limit refusal, by limit: a client's own ledger may
        charge calls that never reached us (lost on the way), so only this tells refusals apart."""
        # Wall-clock time, not the mock's own (movable) clock: the timeline is read beside the
        # benchmark's own stamps, in another process.
        self._clock = clock
        self.timeline: deque[tuple[float, str]] = deque(maxlen=TIMELINE_CALLS)
        """(arrival, endpoint) per call, oldest first; a refusal adds ``refused <limit>``."""
        self._names: dict[tuple[str, str], str] = {}

    def record(self, method: str, route: str) -> None:
        self.api_calls += 1
        name = self._names.get((method, route))
        if name is None:
            name = self._names[(method, route)] = f"{method} {route}"
        self.by_endpoint[name] += 1
        self.timeline.append((self._clock(), name))

    def refuse(self, limit: str) -> None:
        self.refused[limit] += 1
        self.timeline.append((self._clock(), f"refused {limit}"))

    def reset(self) -> None:
        self.api_calls = 0
        self.by_endpoint.clear()
        self.refused.clear()
        self.timeline.clear()

    def calls_since(self, since: float) -> list[tuple[float, str]]:
        """The logged calls that arrived at or after ``since`` (epoch seconds), oldest first."""
        return [entry for entry in self.timeline if entry[0] >= since]

    def as_dict(self, records: dict[str, int]) -> dict[str, object]:
        return {
            "api_calls": self.api_calls,
            "by_endpoint": dict(self.by_endpoint),
            "refused": dict(self.refused),
            "records": records,
        }
