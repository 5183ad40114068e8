"""API call statistics for ``GET /__mock/stats``; the control plane itself is never counted."""

from __future__ import annotations

from collections import Counter


class CallStats:
    def __init__(self) -> None:
        self.api_calls = 0
        self.by_endpoint: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        """Calls answered with a rate- or daily-limit refusal, by limit: a client's own ledger may
        charge calls that never reached us (lost on the way), so only this tells refusals apart."""

    def record(self, method: str, route: str) -> None:
        self.api_calls += 1
        self.by_endpoint[f"{method} {route}"] += 1

    def refuse(self, limit: str) -> None:
        self.refused[limit] += 1

    def reset(self) -> None:
        self.api_calls = 0
        self.by_endpoint.clear()
        self.refused.clear()

    def as_dict(self, records: dict[str, int]) -> dict[str, object]:
        return {
            "api_calls": self.api_calls,
            "by_endpoint": dict(self.by_endpoint),
            "refused": dict(self.refused),
            "records": records,
        }
