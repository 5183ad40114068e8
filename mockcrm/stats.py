"""API call statistics for ``GET /__mock/stats``; the control plane itself is never counted."""

from __future__ import annotations

from collections import Counter


class CallStats:
    def __init__(self) -> None:
        self.api_calls = 0
        self.by_endpoint: Counter[str] = Counter()

    def record(self, method: str, route: str) -> None:
        self.api_calls += 1
        self.by_endpoint[f"{method} {route}"] += 1

    def reset(self) -> None:
        self.api_calls = 0
        self.by_endpoint.clear()

    def as_dict(self, records: dict[str, int]) -> dict[str, object]:
        return {"api_calls": self.api_calls, "by_endpoint": dict(self.by_endpoint), "records": records}
