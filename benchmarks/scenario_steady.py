"""Scenario ``steady``: both sides edited at R changes/s for D seconds while ``crmsync run`` polls.

After the initial backfill of ``records`` pairs, the engine runs as it would in production (``crmsync
run``, polling every ``poll_interval_s``) while the mocks' own workload generators (``POST
/__mock/workload``: creates, updates and deletes, no API calls) change HubSpot and Salesforce at R/2
changes/s each. Once the generators stop, the engine is given until no write has reached either mock
for a few poll intervals, then stopped. Latency comes from the mocks' dumps (``benchmarks.latency``);
calls per change count every API call in the window, polling included.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import msgspec

from benchmarks.harness import (
    SYSTEMS,
    Calls,
    Engine,
    Mocks,
    polling_rate,
    proc_cpu_seconds,
    wait_until_caught_up,
    wait_until_quiet,
)
from benchmarks.latency import Latency, latencies
from benchmarks.options import Regime
from benchmarks.seeding import seed_pairs


class SteadyResult(msgspec.Struct, kw_only=True):
    scenario: str = "steady"
    regime: Regime
    records: int
    rate_per_s: float
    duration_s: float
    poll_interval_s: float
    changes: int
    """Operations the generators performed (both sides: creates, updates, deletes)."""
    changes_by_system: dict[str, dict[str, int]]
    skipped_by_generators: int
    drained: bool
    """False when, ``drain_s`` after the generators stopped, the engine was still writing, or
    calling more than its idle polling does (a backlog held back by a rate limit), or a generated
    create still had no counterpart."""
    drain_s: float
    idle_calls_per_s: float
    """The engine's polling alone, measured before the generators started."""
    calls_hubspot: int
    calls_salesforce: int
    calls_per_change: float
    engine_cpu_s: float
    mocks_cpu_s: float
    """The mock process (serving the engine and running the generators) over the same window."""
    peak_rss_mb: float
    latency: Latency
    by_endpoint: dict[str, int]


async def _other_user(mocks: Mocks) -> str:
    """The Salesforce user seeded and generated records come from (not the API user)."""
    contacts = await mocks.salesforce_contacts()
    if not contacts:
        raise RuntimeError("no seeded Salesforce contact to learn the generators' user from")
    return str(contacts[0]["CreatedById"])


async def _drain(
    mocks: Mocks, quiet_s: float, idle_rate: float, max_s: float, start_ms: int, other_user: str
) -> tuple[bool, Calls]:
    """Caught up: a quiet window (no write, no more calls than polling) *and* every generated create
    that is still alive has its counterpart. A quiet window alone can fall inside a look-back pass
    (old pages re-read under the search limit, nothing to write) while the newest creates wait
    behind it: a run was stopped there with 54 creates unsynced and still counted as drained."""
    deadline = time.monotonic() + max_s
    while True:
        drained, after = await wait_until_caught_up(mocks, quiet_s, idle_rate, deadline - time.monotonic())
        if not drained:
            return False, after
        hs, sf = await mocks.hubspot_contacts(), await mocks.salesforce_contacts()
        if not any(latencies(hs, sf, start_ms=start_ms, other_user=other_user).unsynced_creates.values()):
            return True, after


async def run_steady(
    mocks: Mocks,
    records: int,
    state_dir: Path,
    *,
    rate_per_s: float,
    duration_s: float,
    poll_interval_s: float = 1.0,
    max_drain_s: float = 120.0,
    tuning: Mapping[str, str] | None = None,
) -> SteadyResult:
    await mocks.reset()
    await seed_pairs(mocks, max(records, 3))
    other_user = await _other_user(mocks)
    settings = {"CRMSYNC_POLL_INTERVAL_S": str(poll_interval_s), **(tuning or {})}
    engine = Engine(mocks, state_dir, settings)
    await engine.until_idle(backfill=True)  # a new state file: no need for a first empty run
    proc = engine.start(profile=f"steady-{records}-{rate_per_s:g}per_s")
    try:
        quiet = 2 * poll_interval_s + 1
        await wait_until_quiet(mocks, quiet, 60)  # started, first polls done
        idle_rate = await polling_rate(mocks, quiet)  # what "caught up" looks like afterwards
        clock = await mocks.control("hubspot", "GET", "clock")
        start_ms = int(clock["now_ms"])
        before = await mocks.calls()
        cpu0, mock_cpu0 = proc_cpu_seconds(proc.pid), mocks.cpu_seconds()
        half = rate_per_s / 2
        for system, otype, seed in zip(SYSTEMS, ("contacts", "Contact"), (11, 12), strict=True):
            spec = {"object_type": otype, "rate_per_s": half, "duration_s": duration_s, "seed": seed}
            await mocks.control(system, "POST", "workload", spec)
        await anyio.sleep(duration_s)
        statuses: dict[str, dict[str, Any]] = {}
        for system in SYSTEMS:
            # The generator lives in the mock process: its status is only known by asking.
            while (status := await mocks.control(system, "GET", "workload"))["running"]:  # noqa: ASYNC110
                await anyio.sleep(0.2)
            statuses[system] = status
        t_end = time.monotonic()
        drained, after = await _drain(mocks, quiet, idle_rate, max_drain_s, start_ms, other_user)
        drain_s = time.monotonic() - t_end
        cpu = proc_cpu_seconds(proc.pid) - cpu0
        mock_cpu = mocks.cpu_seconds() - mock_cpu0
    finally:
        run = await engine.stop(proc)
    if run.exit_code not in (0, -signal.SIGTERM):  # it stopped by itself before we asked it to
        raise RuntimeError(f"crmsync run exited {run.exit_code} during the run: {run.stderr_tail}")
    calls = after - before
    hs, sf = await mocks.hubspot_contacts(), await mocks.salesforce_contacts()
    lat = latencies(hs, sf, start_ms=start_ms, other_user=other_user)
    done: dict[str, dict[str, int]] = {k: dict(v["done"]) for k, v in statuses.items()}
    changes = sum(sum(d.values()) for d in done.values())
    return SteadyResult(
        regime=mocks.regime,
        records=records,
        rate_per_s=rate_per_s,
        duration_s=duration_s,
        poll_interval_s=poll_interval_s,
        changes=changes,
        changes_by_system=done,
        skipped_by_generators=sum(int(v["skipped"]) for v in statuses.values()),
        drained=drained,
        drain_s=round(drain_s, 1),
        idle_calls_per_s=round(idle_rate, 2),
        calls_hubspot=calls.hubspot,
        calls_salesforce=calls.salesforce,
        calls_per_change=round((calls.hubspot + calls.salesforce) / changes, 4) if changes else 0.0,
        engine_cpu_s=round(cpu, 2),
        mocks_cpu_s=round(mock_cpu, 2),
        peak_rss_mb=run.peak_rss_mb,
        latency=lat,
        by_endpoint=calls.by_endpoint,
    )
