"""The part of the ``/__mock/`` control plane both servers share: faults, clock, stats, reset.

Each server adds its own routes (seed, dump, rules, workload, ...) next to these. Control calls are
never counted as API calls and never see injected faults.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from aiohttp import web

from mockcrm.clock import MockClock
from mockcrm.faults import FaultInjector, Faults
from mockcrm.stats import CallStats


class ClockChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    offset_s: float | None = None
    """Set the offset from wall time (skew)."""
    advance_s: float | None = None
    """Move the clock forward by this much (e.g. 86400 to free the daily allotment)."""


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.json.encode(body), status=status, content_type="application/json")


def _bad(message: str) -> web.Response:
    return _json({"error": message}, status=400)


def add_common_control_routes(
    app: web.Application,
    *,
    clock: MockClock,
    injector: FaultInjector,
    stats: CallStats,
    record_counts: Callable[[], dict[str, int]],
    reset: Callable[[], None],
) -> None:
    async def get_stats(_: web.Request) -> web.Response:
        body = stats.as_dict(record_counts())
        body["faults_injected"] = dict(injector.injected)
        return _json(body)

    async def get_timeline(request: web.Request) -> web.Response:
        try:
            since = float(request.query.get("since", "0"))
        except ValueError:
            return _bad("since: epoch seconds")
        return _json(stats.calls_since(since))

    async def post_reset(_: web.Request) -> web.Response:
        reset()
        stats.reset()
        injector.configure(Faults())
        injector.injected.clear()
        clock.offset_s = 0.0
        return _json({"reset": True})

    async def get_faults(_: web.Request) -> web.Response:
        return _json(injector.faults)

    async def post_faults(request: web.Request) -> web.Response:
        try:
            faults = msgspec.json.decode(await request.read(), type=Faults)
        except msgspec.DecodeError as exc:
            return _bad(f"invalid faults: {exc}")
        injector.configure(faults)
        return _json(faults)

    async def get_clock(_: web.Request) -> web.Response:
        return _json({"offset_s": clock.offset_s, "now_ms": clock.now_ms()})

    async def post_clock(request: web.Request) -> web.Response:
        try:
            change = msgspec.json.decode(await request.read(), type=ClockChange)
        except msgspec.DecodeError as exc:
            return _bad(f"invalid clock change: {exc}")
        if change.offset_s is not None:
            clock.offset_s = change.offset_s
        if change.advance_s is not None:
            clock.offset_s += change.advance_s
        return _json({"offset_s": clock.offset_s, "now_ms": clock.now_ms()})

    app.router.add_get("/__mock/stats", get_stats)
    app.router.add_get("/__mock/timeline", get_timeline)
    app.router.add_post("/__mock/reset", post_reset)
    app.router.add_get("/__mock/faults", get_faults)
    app.router.add_post("/__mock/faults", post_faults)
    app.router.add_get("/__mock/clock", get_clock)
    app.router.add_post("/__mock/clock", post_clock)
