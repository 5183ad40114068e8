"""The mock Salesforce aiohttp application (placeholder: control plane only, API to follow)."""

from __future__ import annotations

from aiohttp import web

from mockcrm.clock import MockClock
from mockcrm.config import MockConfig
from mockcrm.control import add_common_control_routes
from mockcrm.faults import FaultInjector
from mockcrm.stats import CallStats


def create_app(config: MockConfig) -> web.Application:
    clock = MockClock()
    stats = CallStats()
    injector = FaultInjector(
        clock,
        seed=config.seed,
        error_response=lambda status: web.json_response({"error": "fault"}, status=status),
        storm_response=lambda: web.json_response({"error": "storm"}, status=429),
    )
    app = web.Application(middlewares=[injector.middleware])
    add_common_control_routes(
        app, clock=clock, injector=injector, stats=stats, record_counts=dict, reset=lambda: None
    )
    return app
