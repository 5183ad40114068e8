"""The mock HubSpot aiohttp application: routes, middlewares and the control plane.

Middlewares, outermost first:
1. ``guard``: counts every API call in CallStats by route pattern and turns any failure
   (HubSpotError, aiohttp's 404/405/413, a bug) into HubSpot's error shape, never a bare 500 page;
2. the shared FaultInjector (latency, 5xx, hangs, dropped replies, 429 storms);
3. auth + rate limits + ``X-HubSpot-RateLimit-*`` headers (``ratelimit.py``).
"""

from __future__ import annotations

from aiohttp import web
from loguru import logger

from mockcrm.config import MockConfig
from mockcrm.control import add_common_control_routes
from mockcrm.faults import CONTROL_PREFIX, FaultInjector, Handler
from mockcrm.hubspot import (
    association_routes,
    auth,
    batch,
    objects,
    owner_routes,
    pipelines,
    properties,
    search,
)
from mockcrm.hubspot.context import MOCK_KEY, HubSpotMock
from mockcrm.hubspot.control import add_control_routes
from mockcrm.hubspot.direct_writes import add_direct_write_route
from mockcrm.hubspot.errors import HubSpotError, server_error
from mockcrm.hubspot.ratelimit import make_middleware, storm_response

MAX_BODY_BYTES = 8 * 1024 * 1024
"""Larger request bodies get 413 (a batch of 100 records is far below this)."""

_HTTP_CATEGORIES = {
    404: ("OBJECT_NOT_FOUND", "resource not found"),
    405: ("VALIDATION_ERROR", "HTTP method not allowed for this resource"),
    413: ("VALIDATION_ERROR", "Request entity too large"),
}


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(unmatched)"


def make_guard(mock: HubSpotMock) -> Handler:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        mock.stats.record(request.method, _route_name(request))
        try:
            return await handler(request)
        except HubSpotError as exc:
            return exc.response()
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            category, message = _HTTP_CATEGORIES.get(exc.status, ("VALIDATION_ERROR", exc.reason))
            return HubSpotError(exc.status, category, message).response()
        except ConnectionResetError:
            # The client went away mid-request (a killed engine): nobody is left to answer.
            return web.Response(status=499)
        except Exception:  # a bug in the mock: answer in shape, and say so loudly in the log
            logger.exception("HubSpot mock handler failed on {} {}", request.method, request.path)
            return HubSpotError(500, "INTERNAL_ERROR", "internal error").response()

    return guard  # type: ignore[return-value]


def create_app(config: MockConfig) -> web.Application:
    mock = HubSpotMock(config)
    injector = FaultInjector(
        mock.clock,
        seed=config.seed,
        error_response=server_error,
        storm_response=lambda: storm_response(mock),
    )
    if config.latency_ms or config.error_rate:
        faults = injector.faults
        faults.latency_ms = config.latency_ms
        faults.error_rate = config.error_rate
    app = web.Application(
        middlewares=[make_guard(mock), injector.middleware, make_middleware(mock)],  # type: ignore[list-item]
        client_max_size=MAX_BODY_BYTES,
    )
    app[MOCK_KEY] = mock
    for module in (objects, batch, search, properties, pipelines, association_routes, owner_routes, auth):
        module.add_routes(app)
    add_common_control_routes(
        app,
        clock=mock.clock,
        injector=injector,
        stats=mock.stats,
        record_counts=mock.portal.record_counts,
        reset=mock.reset,
    )
    add_control_routes(app, mock)
    add_direct_write_route(app, mock)
    return app
