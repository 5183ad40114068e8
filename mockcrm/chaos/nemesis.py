"""The nemesis (after Jepsen's): what breaks during a chaos round, drawn from the run's seed.

Two kinds of trouble: faults the mocks inject into API calls (5xx, hangs, lost replies, latency
spikes, a HubSpot 429 storm, a Salesforce ``REQUEST_LIMIT_EXCEEDED`` storm), set through their
``/__mock/faults`` control route; and kills of the engine process, each at an armed failpoint
(``engine.failpoints``, an exact instant) or at a seeded delay after its start.
"""

from __future__ import annotations

import random
import ssl
from collections import Counter
from typing import Any

import aiohttp
import msgspec

from engine import failpoints
from mockcrm.chaos.report import ChaosParams
from mockcrm.config import MockEndpoints
from mockcrm.faults import Faults

SYSTEMS = ("hubspot", "salesforce")


class KillPlan(msgspec.Struct, frozen=True, kw_only=True):
    armed: dict[str, int] | None = None
    """A failpoint and the hit at which it kills; None for a timer kill."""
    after_s: float
    """SIGKILL after this long if still running (the timer kill, or a failpoint's backstop)."""


def plan_faults(rng: random.Random, rate: float, mock_now_s: float) -> dict[str, Faults]:
    """Each system's faults for one round's killed starts (the clean pass runs without them)."""
    if rate <= 0:
        return {system: Faults() for system in SYSTEMS}
    out: dict[str, Faults] = {}
    for system in SYSTEMS:
        storm = rng.random() < (0.5 if system == "hubspot" else 0.25)
        out[system] = Faults(
            latency_jitter_ms=rng.randint(0, 20),
            spike_rate=min(1.0, rate * rng.uniform(0.0, 0.5)),
            spike_ms=rng.randint(100, 800),
            error_rate=min(1.0, rate * rng.uniform(0.5, 1.5)),
            # HubSpot also answers 500 to mean "slow down"; Salesforce 503 when it is unavailable.
            error_status=rng.choice((500, 502, 503, 504) if system == "hubspot" else (500, 503)),
            timeout_rate=min(1.0, rate * rng.uniform(0.0, 0.3)),
            timeout_s=1.0,
            drop_reply_rate=min(1.0, rate * rng.uniform(0.2, 1.0)),
            storm_until=mock_now_s + rng.uniform(0.5, 2.5) if storm else 0.0,
            storm_rate=0.7,
        )
    return out


def _hit_caps(people: int) -> dict[str, int]:
    """How far into a start each failpoint's kill may land (beyond it, the start is likely done)."""
    return {
        "page_read": max(1, people),
        "write_sent": 4,
        "after_write_before_commit": max(1, people // 2),
        "store_commit": max(40, people),
    }


def plan_kill(rng: random.Random, params: ChaosParams) -> KillPlan:
    if rng.random() < 0.6:
        point = rng.choice(failpoints.POINTS)
        hit = rng.randint(1, _hit_caps(params.people)[point])
        # A failpoint the start never reaches lets it finish; under heavy faults it may retry for
        # minutes, so a backstop timer still ends it (counted as a timer kill).
        return KillPlan(armed={point: hit}, after_s=60.0)
    return KillPlan(after_s=round(rng.uniform(0.2, params.kill_window_s), 3))


class MockControl:
    """The runner's hands on the mocks' ``/__mock/`` control plane (never counted, never faulted)."""

    def __init__(self, ep: MockEndpoints, session: aiohttp.ClientSession) -> None:
        self._urls = {"hubspot": ep.hubspot_url, "salesforce": ep.salesforce_url}
        self._s = session
        self._ssl: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=ep.ca_file) if ep.ca_file else True
        )

    async def _call(self, system: str, method: str, path: str, body: object = None) -> Any:
        url = self._urls[system] + path
        data = None if body is None else msgspec.json.encode(body)
        headers = {"Content-Type": "application/json"}
        async with self._s.request(method, url, data=data, headers=headers, ssl=self._ssl) as r:
            raw = await r.read()
            if r.status != 200:
                raise RuntimeError(f"{system} mock control {method} {path}: {r.status} {raw[:200]!r}")
            return msgspec.json.decode(raw)

    async def set_faults(self, faults: dict[str, Faults]) -> None:
        for system, f in faults.items():
            await self._call(system, "POST", "/__mock/faults", f)

    async def clear_faults(self) -> None:
        await self.set_faults({system: Faults() for system in SYSTEMS})

    async def now_s(self, system: str) -> float:
        return float((await self._call(system, "GET", "/__mock/clock"))["now_ms"]) / 1000

    async def api_calls(self) -> Counter[str]:
        return Counter(
            {
                system: int((await self._call(system, "GET", "/__mock/stats"))["api_calls"])
                for system in SYSTEMS
            }
        )

    async def faults_injected(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for system in SYSTEMS:
            total.update((await self._call(system, "GET", "/__mock/stats"))["faults_injected"])
        return total
