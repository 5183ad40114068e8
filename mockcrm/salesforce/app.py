"""The mock Salesforce aiohttp application: REST API under ``/services/``, control plane under ``/__mock/``.

One catch-all route hands every ``/services/data/vXX.X/...`` request to the ``Router`` after the
checks every real call goes through: Bearer session (401 INVALID_SESSION_ID), the rolling daily
allotment (403 REQUEST_LIMIT_EXCEEDED), counting, and the ``Sforce-Limit-Info`` header.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from aiohttp import web
from loguru import logger

from mockcrm.config import MockConfig
from mockcrm.control import add_common_control_routes
from mockcrm.faults import FaultInjector, Faults
from mockcrm.salesforce import oauth
from mockcrm.salesforce.api import Call, Reply
from mockcrm.salesforce.collections import CollectionHandlers
from mockcrm.salesforce.composite import CompositeHandlers
from mockcrm.salesforce.control import SalesforceControl
from mockcrm.salesforce.direct_writes import add_direct_write_route
from mockcrm.salesforce.errors import error_response, fault_response, storm_response
from mockcrm.salesforce.limits import LimitHandlers, limit_info, versions
from mockcrm.salesforce.query import QueryHandlers
from mockcrm.salesforce.service import SalesforceMock
from mockcrm.salesforce.sobjects import SObjectHandlers
from mockcrm.salesforce.target import OrgTarget
from mockcrm.workload import WorkloadRunner

SALESFORCE_MOCK = web.AppKey("salesforce_mock", SalesforceMock)
"""``app[SALESFORCE_MOCK]`` is the server's state, for tests and benchmarks that need the store."""

# Collections of 200 records with long text fields stay far below this; beyond it the body is
# refused with 413 after reading at most this much, so a huge upload cannot hang or exhaust memory.
MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_URI_BYTES = 16_384
_API_PATH = re.compile(r"/services/data/v(\d{1,3}\.\d)(?:/(.*))?")
_SESSION_EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
_LIMIT_EXCEEDED = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
_JSON = "application/json"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() in ("bearer", "oauth") and token.strip() else None


def _encode(reply: Reply) -> web.Response:
    if reply.body is None:
        return web.Response(status=reply.status, headers=reply.headers)
    return error_response(reply.status, reply.body, reply.headers)


def create_app(config: MockConfig) -> web.Application:
    mock = SalesforceMock(config)
    router = mock.router
    for handlers in (
        LimitHandlers(mock),
        SObjectHandlers(mock),
        CollectionHandlers(mock),
        CompositeHandlers(mock, router),
        QueryHandlers(mock),
    ):
        handlers.register(router)
    injector = FaultInjector(
        mock.clock, seed=config.seed, error_response=fault_response, storm_response=storm_response
    )
    injector.configure(Faults(latency_ms=config.latency_ms, error_rate=config.error_rate))

    @web.middleware
    async def limit_header(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        # Every REST answer carries the usage, faults included; the versions list does not (B9).
        if _API_PATH.fullmatch(request.path) and "Sforce-Limit-Info" not in response.headers:
            response.headers["Sforce-Limit-Info"] = limit_info(mock)
        return response

    async def api(request: web.Request) -> web.StreamResponse:
        m = _API_PATH.fullmatch(request.raw_path.partition("?")[0])
        if m is None:
            return error_response(
                404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
            )
        if _bearer(request) not in mock.tokens:
            return error_response(401, _SESSION_EXPIRED)
        if mock.daily.exhausted():
            mock.stats.refuse("daily")
            return error_response(403, _LIMIT_EXCEEDED)
        mock.daily.record()
        try:
            body = await request.read()
        except ConnectionResetError:
            # The client went away mid-request (a killed engine): nobody is left to answer.
            return web.Response(status=499)
        except web.HTTPRequestEntityTooLarge:
            mock.stats.record(request.method, "(too large)")
            return error_response(
                413,
                [
                    {
                        "errorCode": "REQUEST_ENTITY_TOO_LARGE",
                        "message": f"Request body exceeds {MAX_BODY_BYTES} bytes",
                    }
                ],
            )
        call = Call(
            method=request.method,
            version=m.group(1),
            tail=(m.group(2) or "").rstrip("/"),
            query=request.query,
            body=body,
            headers=request.headers,
        )
        try:
            pattern, reply = router.dispatch(call)
        except Exception:  # a bug must still answer in Salesforce's shape, and loudly in the log
            logger.exception("mock Salesforce: unhandled error on {} {}", request.method, request.path)
            pattern, reply = (
                "(error)",
                Reply(500, [{"errorCode": "UNKNOWN_EXCEPTION", "message": "An unexpected error occurred."}]),
            )
        mock.stats.record(request.method, "/services/data/v{version}/" + pattern)
        return _encode(reply)

    async def list_versions(request: web.Request) -> web.Response:
        mock.stats.record(request.method, "/services/data/")
        return error_response(200, versions())

    async def token(request: web.Request) -> web.Response:
        mock.stats.record(request.method, "/services/oauth2/token")
        return await oauth.token(mock, request)

    async def userinfo(request: web.Request) -> web.Response:
        mock.stats.record(request.method, "/services/oauth2/userinfo")
        return await oauth.userinfo(mock, request)

    app = web.Application(
        middlewares=[limit_header, injector.middleware],
        client_max_size=MAX_BODY_BYTES,
        # Salesforce takes request lines up to 16,384 bytes (414 beyond, reference B10), which long
        # SOQL in a GET needs; aiohttp's default stops at 8,190.
        handler_args={"max_line_size": MAX_URI_BYTES, "max_field_size": MAX_URI_BYTES},
    )
    app[SALESFORCE_MOCK] = mock
    app.router.add_get("/services/data", list_versions)
    app.router.add_get("/services/data/", list_versions)
    app.router.add_post("/services/oauth2/token", token)
    app.router.add_post("/services/oauth2/token/", token)
    app.router.add_get("/services/oauth2/userinfo", userinfo)
    app.router.add_route("*", "/services/data/{tail:v.*}", api)
    target = OrgTarget(mock.org)
    add_common_control_routes(
        app,
        clock=mock.clock,
        injector=injector,
        stats=mock.stats,
        record_counts=mock.org.record_counts,
        reset=mock.reset,
    )
    SalesforceControl(mock, target).install(app)
    add_direct_write_route(app, mock.org)
    WorkloadRunner(target).install(app)
    return app
