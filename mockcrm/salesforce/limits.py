"""``/services/data/`` (versions), ``/limits``, and the ``Sforce-Limit-Info`` header (B1, B9)."""

from __future__ import annotations

from typing import Any

from mockcrm.salesforce.api import Call, Reply, Router
from mockcrm.salesforce.service import SalesforceMock

# Summer '26 is 67.0; the list runs back to 20.0 (Winter '11) like a real instance's.
LATEST_VERSION = 67
_RELEASES = ("Winter", "Spring", "Summer")


def versions() -> list[dict[str, str]]:
    out = []
    for major in range(20, LATEST_VERSION + 1):
        # Three releases a year, anchored on 59.0 = Winter '24.
        n = major - 59
        season = _RELEASES[n % 3]
        year = 24 + n // 3
        out.append(
            {"label": f"{season} '{year:02d}", "url": f"/services/data/v{major}.0", "version": f"{major}.0"}
        )
    return out


def limit_info(mock: SalesforceMock) -> str:
    used, limit = mock.usage()
    return f"api-usage={used}/{limit}"


def _allocation(max_: int, remaining: int) -> dict[str, int]:
    return {"Max": max_, "Remaining": remaining}


class LimitHandlers:
    def __init__(self, mock: SalesforceMock) -> None:
        self.mock = mock

    def register(self, router: Router) -> None:
        router.add("", GET=self.resources)
        router.add("limits", GET=self.limits)

    def resources(self, call: Call) -> Reply:
        names = ("sobjects", "query", "queryAll", "limits", "composite", "search", "recent", "tooling")
        return Reply(200, {n: f"{call.base}/{n}" for n in names})

    def limits(self, call: Call) -> Reply:
        used, limit = self.mock.usage()
        body: dict[str, Any] = {
            "DailyApiRequests": _allocation(limit, max(0, limit - used)),
            "DailyAsyncApexExecutions": _allocation(250_000, 250_000),
            "DailyBulkApiBatches": _allocation(15_000, 15_000),
            "DailyBulkV2QueryFileStorageMB": _allocation(976_562, 976_562),
            "DailyBulkV2QueryJobs": _allocation(10_000, 10_000),
            "DailyStreamingApiEvents": _allocation(1_000_000, 1_000_000),
            "DataStorageMB": _allocation(5, 5),
            "FileStorageMB": _allocation(20, 20),
            "HourlyPublishedPlatformEvents": _allocation(250_000, 250_000),
            "SingleEmail": _allocation(5_000, 5_000),
        }
        return Reply(200, body)
