"""Fault injection shared by both mocks: latency, 5xx errors, hangs, lost replies and 429 storms.

Faults apply to API routes only; the ``/__mock/`` control plane is never slowed or failed, so a test
can always reach it to turn faults off again.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

import anyio
import msgspec
from aiohttp import web

from mockcrm.clock import MockClock

CONTROL_PREFIX = "/__mock/"
_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Faults(msgspec.Struct, kw_only=True):
    """What to break, and how often. Rates are probabilities per API request (0.0-1.0)."""

    latency_ms: int = 0
    """Added to every API request."""
    latency_jitter_ms: int = 0
    """Uniform extra latency in [0, jitter] on top of ``latency_ms``."""
    spike_rate: float = 0.0
    """Fraction of requests that get ``spike_ms`` more latency (latency spikes)."""
    spike_ms: int = 2_000
    error_rate: float = 0.0
    """Fraction answered with a 5xx in the server's own error shape (before any work is done)."""
    error_status: int = 503
    timeout_rate: float = 0.0
    """Fraction that hang for ``timeout_s`` and then drop the connection without a reply."""
    timeout_s: float = 30.0
    drop_reply_rate: float = 0.0
    """Fraction of writes that commit but whose reply is lost (the connection is cut)."""
    storm_until: float = 0.0
    """Until this mock-clock time (epoch seconds) every API request is rate limited."""
    storm_rate: float = 1.0
    """During a storm, the fraction of requests that get the rate-limit answer."""


class FaultInjector:
    """Holds the current faults and applies them as an aiohttp middleware."""

    def __init__(
        self,
        clock: MockClock,
        *,
        seed: int | None,
        error_response: Callable[[int], web.StreamResponse],
        storm_response: Callable[[], web.StreamResponse],
    ) -> None:
        self.faults = Faults()
        self._clock = clock
        self._rng = random.Random(seed)
        self._error_response = error_response
        self._storm_response = storm_response
        self.injected: dict[str, int] = {}

    def configure(self, faults: Faults) -> None:
        self.faults = faults

    def _count(self, kind: str) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1

    def _hit(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        f = self.faults
        delay_ms = f.latency_ms + (self._rng.uniform(0, f.latency_jitter_ms) if f.latency_jitter_ms else 0)
        if self._hit(f.spike_rate):
            self._count("latency_spike")
            delay_ms += f.spike_ms
        if delay_ms > 0:
            await anyio.sleep(delay_ms / 1000)
        if f.storm_until > self._clock.time() and self._hit(f.storm_rate):
            self._count("rate_limit_storm")
            return self._storm_response()
        if self._hit(f.error_rate):
            self._count("error")
            return self._error_response(f.error_status)
        if self._hit(f.timeout_rate):
            self._count("timeout")
            await anyio.sleep(f.timeout_s)
            _cut(request)
            raise web.HTTPServiceUnavailable  # never reaches the client: the connection is gone
        response = await handler(request)
        if request.method in _WRITE_METHODS and self._hit(f.drop_reply_rate):
            # The write has committed; the client only loses the answer, as on a real network cut.
            self._count("dropped_reply")
            _cut(request)
        return response


def _cut(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.abort()
