"""What every HubSpot handler reaches through the aiohttp app: the portal, config, limits, tokens."""

from __future__ import annotations

from typing import Annotated

import msgspec
from aiohttp import web

from mockcrm.clock import MockClock
from mockcrm.config import MockConfig
from mockcrm.hubspot.errors import validation
from mockcrm.hubspot.portal import Portal
from mockcrm.limits import RollingDailyCounter, SlidingWindow
from mockcrm.stats import CallStats

BURST_INTERVAL_S = 10.0


class Limits:
    """HubSpot's three buckets: ten-secondly burst, rolling daily, and search's own per-second."""

    def __init__(self, clock: MockClock, config: MockConfig) -> None:
        self.daily = RollingDailyCounter(clock, config.hubspot_daily_limit)
        self.burst = SlidingWindow(clock, config.hubspot_burst_limit, BURST_INTERVAL_S)
        # Only reported (X-HubSpot-RateLimit-Secondly*), never enforced: HubSpot enforces the
        # ten-secondly window.
        self.secondly = SlidingWindow(clock, max(1, config.hubspot_burst_limit // 10), 1.0)
        self.search = SlidingWindow(clock, config.hubspot_search_rate, 1.0)

    def reset(self) -> None:
        for bucket in (self.daily, self.burst, self.secondly, self.search):
            bucket.reset()


class Rules(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """HubSpot-side behaviour tests can switch on (``POST /__mock/rules``)."""

    search_lag_ms: Annotated[int, msgspec.Meta(ge=0, le=3_600_000)] = 0
    """Search does not see a change until this long after it (eventual consistency)."""


class OAuthToken:
    def __init__(self, access_token: str, refresh_token: str, expires_ms: int) -> None:
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.expires_ms = expires_ms


class HubSpotMock:
    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self.clock = MockClock()
        self.portal = Portal(self.clock)
        self.limits = Limits(self.clock, config)
        self.stats = CallStats()
        self.tokens: dict[str, OAuthToken] = {}
        self.token_counter = 0
        self.revoked_refresh_tokens: set[str] = set()
        """Refresh tokens deleted through ``DELETE /oauth/v1/refresh-tokens/{token}``; any other
        non-empty one is taken as issued to an installed app."""
        self.rules = Rules()
        self.seed_calls = 0
        """``/__mock/seed`` calls since the last reset (each after the first gets its own email tag)."""

    def reset(self) -> None:
        self.portal.reset()
        self.limits.reset()
        self.tokens.clear()
        self.revoked_refresh_tokens.clear()
        self.rules = Rules()
        self.seed_calls = 0


MOCK_KEY = web.AppKey("hubspot_mock", HubSpotMock)


def mock_of(request: web.Request) -> HubSpotMock:
    return request.app[MOCK_KEY]


def query_list(request: web.Request, name: str) -> list[str] | None:
    """A list query parameter given as ``a,b`` and/or as repeated keys; None when absent."""
    raw = request.query.getall(name, [])
    if not raw:
        return None
    out: dict[str, None] = {}  # ordered and de-duplicated in linear time, however long the list
    for chunk in raw:
        for part in chunk.split(","):
            part = part.strip()
            if part:
                out[part] = None
    return list(out)


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise validation(f"Invalid value for {name}: {raw!r} is not an integer") from None
    if not low <= value <= high:
        raise validation(f"{name} must be between {low} and {high}, got {value}")
    return value


def query_bool(request: web.Request, name: str) -> bool:
    return request.query.get(name, "false").strip().lower() == "true"
