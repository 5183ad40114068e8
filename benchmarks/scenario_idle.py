"""Scenario ``idle``: what ``crmsync run`` spends when nothing changes.

After the initial backfill the engine runs as in production; once its first polls are done and its
look-back has settled (``settle_s``: each record written in the backfill's last minute is read once
more, a one-time cost of the backfill, not of idling), every API call over ``interval_s`` is counted
by the mocks and extrapolated to an hour. Writes must be
zero (a write here would be an echo or a re-sync of something already in sync).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import anyio
import msgspec

from benchmarks.harness import Engine, Mocks, is_write, proc_cpu_seconds, wait_until_quiet
from benchmarks.options import Regime
from benchmarks.seeding import seed_pairs


class IdleResult(msgspec.Struct, kw_only=True):
    scenario: str = "idle"
    regime: Regime
    records: int
    poll_interval_s: float
    settle_s: float
    measured_s: float
    calls_hubspot: int
    calls_salesforce: int
    calls_per_hour_hubspot: float
    calls_per_hour_salesforce: float
    calls_per_hour: float
    writes: int
    """Must be 0."""
    engine_cpu_s: float
    by_endpoint: dict[str, int]
    write_endpoints: list[str]


async def run_idle(
    mocks: Mocks,
    records: int,
    state_dir: Path,
    *,
    interval_s: float,
    poll_interval_s: float = 5.0,
    settle_s: float = 0.0,
    tuning: Mapping[str, str] | None = None,
) -> IdleResult:
    await mocks.reset()
    await seed_pairs(mocks, max(records, 3))
    settings = {"CRMSYNC_POLL_INTERVAL_S": str(poll_interval_s), **(tuning or {})}
    engine = Engine(mocks, state_dir, settings)
    await engine.until_idle(backfill=True)  # a new state file: no need for a first empty run
    proc = engine.start(profile=f"idle-{records}")
    try:
        settled = anyio.current_time() + settle_s
        await wait_until_quiet(mocks, 2 * poll_interval_s + 1, 120)  # past start-up and first polls
        await anyio.sleep(max(0.0, settled - anyio.current_time()))
        before = await mocks.calls()
        cpu0 = proc_cpu_seconds(proc.pid)
        t0 = time.monotonic()
        await anyio.sleep(interval_s)
        after = await mocks.calls()
        measured = time.monotonic() - t0
        cpu = proc_cpu_seconds(proc.pid) - cpu0
    finally:
        await engine.stop(proc)
    calls = after - before
    per_hour = 3600 / measured
    writes = calls.hubspot_writes + calls.salesforce_writes
    return IdleResult(
        regime=mocks.regime,
        records=records,
        poll_interval_s=poll_interval_s,
        settle_s=settle_s,
        measured_s=round(measured, 1),
        calls_hubspot=calls.hubspot,
        calls_salesforce=calls.salesforce,
        calls_per_hour_hubspot=round(calls.hubspot * per_hour, 1),
        calls_per_hour_salesforce=round(calls.salesforce * per_hour, 1),
        calls_per_hour=round((calls.hubspot + calls.salesforce) * per_hour, 1),
        writes=writes,
        engine_cpu_s=round(cpu, 2),
        by_endpoint=calls.by_endpoint,
        write_endpoints=[k for k in calls.by_endpoint if is_write(k.partition(" ")[2])],
    )
