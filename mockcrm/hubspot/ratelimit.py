"""Authentication, rate limits and the ``X-HubSpot-RateLimit-*`` headers, as one middleware.

Order per API call: bearer auth (401 is never counted against the limits), then the daily limit,
then the burst window (ordinary calls) or search's own per-second window (searches), then the
handler. Accepted calls count toward the daily total; search responses carry only the Daily pair,
and OAuth-authenticated calls neither carry the Daily pair nor have a daily cap, as on HubSpot.
"""

from __future__ import annotations

from aiohttp import web

from mockcrm.faults import CONTROL_PREFIX, Handler
from mockcrm.hubspot.auth import UNAUTHENTICATED_PREFIX, authenticate
from mockcrm.hubspot.context import BURST_INTERVAL_S, HubSpotMock
from mockcrm.hubspot.errors import (
    CORRELATION_HEADER,
    HubSpotError,
    burst_limit_body,
    correlation_id,
    json_response,
    search_limit_body,
)


def is_search(request: web.Request) -> bool:
    return request.method == "POST" and request.path.endswith("/search")


def daily_headers(mock: HubSpotMock) -> dict[str, str]:
    daily = mock.limits.daily
    if daily.limit <= 0:
        return {}
    return {
        "X-HubSpot-RateLimit-Daily": str(daily.limit),
        "X-HubSpot-RateLimit-Daily-Remaining": str(daily.remaining()),
    }


def burst_headers(mock: HubSpotMock) -> dict[str, str]:
    burst, secondly = mock.limits.burst, mock.limits.secondly
    if burst.limit <= 0:
        return {}
    return {
        "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(BURST_INTERVAL_S * 1000)),
        "X-HubSpot-RateLimit-Max": str(burst.limit),
        "X-HubSpot-RateLimit-Remaining": str(burst.remaining()),
        "X-HubSpot-RateLimit-Secondly": str(secondly.limit),
        "X-HubSpot-RateLimit-Secondly-Remaining": str(secondly.remaining()),
    }


def too_many(body: dict[str, object], headers: dict[str, str]) -> web.Response:
    """A 429 whose correlation header matches its body."""
    return json_response(body, status=429, headers=headers, cid=str(body["correlationId"]))


def storm_response(mock: HubSpotMock) -> web.StreamResponse:
    """An injected 429 storm looks like the real ten-secondly limit."""
    return too_many(burst_limit_body("TEN_SECONDLY_ROLLING"), burst_headers(mock))


def make_middleware(mock: HubSpotMock) -> Handler:
    @web.middleware
    async def limits_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path.startswith(CONTROL_PREFIX) or path.startswith(UNAUTHENTICATED_PREFIX):
            return await handler(request)
        private = authenticate(mock, request)
        limits = mock.limits
        search = is_search(request)
        if private and limits.daily.exhausted():
            mock.stats.refuse("daily")
            headers = daily_headers(mock) if search else {**daily_headers(mock), **burst_headers(mock)}
            return too_many(burst_limit_body("DAILY"), headers)
        if search:
            if not limits.search.try_acquire():
                mock.stats.refuse("search_secondly")
                return too_many(search_limit_body(), daily_headers(mock) if private else {})
        elif not limits.burst.try_acquire():
            mock.stats.refuse("ten_secondly")
            headers = {**daily_headers(mock), **burst_headers(mock)} if private else burst_headers(mock)
            return too_many(burst_limit_body("TEN_SECONDLY_ROLLING"), headers)
        if private:
            limits.daily.record()
        if not search:
            limits.secondly.try_acquire()
        headers = daily_headers(mock) if private else {}
        if not search:
            headers.update(burst_headers(mock))
        try:
            response = await handler(request)
        except HubSpotError as exc:
            response = exc.response()
        response.headers.update(headers)
        if CORRELATION_HEADER not in response.headers:  # e.g. the bodiless 204s
            response.headers[CORRELATION_HEADER] = correlation_id()
        return response

    return limits_middleware  # type: ignore[return-value]
