"""The mock servers' clock: wall time plus an adjustable offset, so tests can skew it or move the
24-hour API window forward without sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class MockClock:
    """Wall-clock time shifted by ``offset_s`` seconds (positive = the CRM runs ahead)."""

    def __init__(self, offset_s: float = 0.0) -> None:
        self.offset_s = offset_s

    def time(self) -> float:
        """Seconds since the epoch, as this CRM sees them."""
        return time.time() + self.offset_s

    def now_ms(self) -> int:
        return int(self.time() * 1000)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)


def hubspot_iso(ms: int) -> str:
    """HubSpot's timestamp format: ISO 8601 UTC with milliseconds and ``Z``."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def salesforce_iso(ms: int) -> str:
    """Salesforce's datetime format: ``2024-01-05T10:00:00.000+0000``."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+0000"
