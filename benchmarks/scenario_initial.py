"""Scenario ``initial``: N contact pairs through ``crmsync run --until-idle --backfill``.

A first ``crmsync run --until-idle`` creates the state file (it syncs nothing by itself); the
measured second run backfills every record. The engine runs in its own process: its CPU time and
peak RSS are that process's (``os.wait4``), the API calls are the mocks' own counters.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import anyio
import msgspec

from benchmarks.ceiling import Ceiling, ceiling
from benchmarks.harness import Calls, Engine, Mocks
from benchmarks.options import Regime
from benchmarks.seeding import Mix, seed_pairs
from benchmarks.timeline import Timeline, build


class InitialResult(msgspec.Struct, kw_only=True):
    scenario: str = "initial"
    regime: Regime
    records: int
    """Record pairs to sync (the mix below)."""
    mix: Mix
    seconds: float
    pairs_per_s: float
    calls_hubspot: int
    calls_salesforce: int
    calls_per_record_hubspot: float
    calls_per_record_salesforce: float
    calls_per_record: float
    """Both systems together."""
    engine_cpu_s: float
    engine_cpu_s_per_1000: float
    mocks_cpu_s: float
    """The mock process's CPU time over the run: near ``seconds`` means the mocks were the limit."""
    peak_rss_mb: float
    state_file_mb: float
    created_hubspot: int
    created_salesforce: int
    updated_hubspot: int
    updated_salesforce: int
    errors: int
    ceiling: Ceiling
    fraction_of_ceiling: float | None
    by_endpoint: dict[str, int]
    timeline: Timeline | None = None
    """Per second of the run, the calls each mock counted (``benchmarks/timeline.py``)."""


class _Summary(msgspec.Struct):
    created: dict[str, int]
    updated: dict[str, int]
    errors: int


def batch_size_of(tuning: Mapping[str, str]) -> int:
    return int(tuning.get("CRMSYNC_BATCH_SIZE", "100"))


async def run_initial(
    mocks: Mocks, records: int, state_dir: Path, tuning: Mapping[str, str] | None = None
) -> InitialResult:
    """Seed ``records`` pairs into freshly reset mocks and backfill them; the engine state is new."""
    tuning = dict(tuning or {})
    await mocks.reset()
    mix = await seed_pairs(mocks, records)
    engine = Engine(mocks, state_dir, tuning)
    await engine.until_idle(backfill=False)
    # That run's last searches are still in HubSpot's one-second search window: the measured engine
    # counts them (``engine.budget.carry_over``) and would wait for them, which a first backfill
    # on an account does not. (Its burst calls the engine counts as HubSpot's headers report.)
    if mocks.limits.hubspot_search_per_s:
        await anyio.sleep(1.5)
    before = await mocks.calls()
    mock_cpu0 = mocks.cpu_seconds()
    t0 = time.perf_counter()
    started = time.time()
    # An hour is plenty up to ~1M pairs on a quiet machine; a loaded one may need longer.
    timeout_s = max(3600.0, records / 100)
    run = await engine.until_idle(backfill=True, profile=f"initial-{records}", timeout_s=timeout_s)
    seconds = time.perf_counter() - t0
    ended = started + seconds
    mock_cpu = mocks.cpu_seconds() - mock_cpu0
    calls: Calls = (await mocks.calls()) - before
    log = await mocks.call_log(started)
    timeline = build(
        log["hubspot"], log["salesforce"], start=started, end=ended,
        search_per_s=mocks.limits.hubspot_search_per_s,
    )  # fmt: skip
    summary = msgspec.json.decode(run.stdout.strip().splitlines()[-1], type=_Summary)
    limit = ceiling(
        mocks.limits,
        read_share=mix.hubspot_read_share,
        write_share=mix.hubspot_write_share,
        linked_share=mix.linked / mix.pairs if mix.pairs else 0.0,
        batch_size=batch_size_of(tuning),
    )
    rate = records / seconds if seconds > 0 else 0.0
    return InitialResult(
        regime=mocks.regime,
        records=records,
        mix=mix,
        seconds=round(seconds, 2),
        pairs_per_s=round(rate, 1),
        calls_hubspot=calls.hubspot,
        calls_salesforce=calls.salesforce,
        calls_per_record_hubspot=_per(calls.hubspot, records),
        calls_per_record_salesforce=_per(calls.salesforce, records),
        calls_per_record=_per(calls.hubspot + calls.salesforce, records),
        engine_cpu_s=round(run.cpu_s, 2),
        engine_cpu_s_per_1000=round(run.cpu_s / records * 1000, 3) if records else 0.0,
        mocks_cpu_s=round(mock_cpu, 2),
        peak_rss_mb=run.peak_rss_mb,
        state_file_mb=engine.state_size_mb(),
        created_hubspot=summary.created.get("hubspot", 0),
        created_salesforce=summary.created.get("salesforce", 0),
        updated_hubspot=summary.updated.get("hubspot", 0),
        updated_salesforce=summary.updated.get("salesforce", 0),
        errors=summary.errors,
        ceiling=limit,
        fraction_of_ceiling=round(rate / limit.pairs_per_s, 3) if limit.pairs_per_s else None,
        by_endpoint=calls.by_endpoint,
        timeline=timeline,
    )


def _per(calls: int, records: int) -> float:
    return round(calls / records, 4) if records else 0.0
