"""``crmsync bench``: run the scenarios in one or both limit regimes, print tables, write JSON.

Each regime gets its own ``crmsync mock`` process (default limits, or ``--lift-limits``); each
scenario resets and reseeds it, and starts the engine on a fresh state file in its own process.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from benchmarks.baseline import BaselineResult, available, run_baseline
from benchmarks.harness import Mocks, machine_info, temp_dir
from benchmarks.options import BenchOptions, Regime, options
from benchmarks.profiling import Profiler
from benchmarks.report import print_report
from benchmarks.scenario_idle import IdleResult, run_idle
from benchmarks.scenario_initial import InitialResult, run_initial
from benchmarks.scenario_steady import SteadyResult, run_steady
from benchmarks.scenario_sweep import SweepResult, plot, run_sweep


class Comparison(msgspec.Struct, kw_only=True):
    """crmsync's initial sync beside the one-record-at-a-time baseline, in one regime."""

    regime: Regime
    crmsync_pairs_per_s: float
    baseline_pairs_per_s: float
    throughput_ratio: float | None
    crmsync_calls_per_record: float
    baseline_calls_per_record: float
    calls_ratio: float | None
    """Baseline calls per record ÷ crmsync's."""


class BenchReport(msgspec.Struct, kw_only=True):
    started: str
    machine: dict[str, object]
    options: BenchOptions
    initial: list[InitialResult] = []
    baseline: list[BaselineResult] = []
    comparison: list[Comparison] = []
    steady: list[SteadyResult] = []
    idle: list[IdleResult] = []
    sweep: list[SweepResult] = []
    notes: list[str] = []


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


async def run_bench(opts: BenchOptions) -> BenchReport:
    report = BenchReport(
        started=datetime.now(UTC).isoformat(timespec="seconds"), machine=machine_info(), options=opts
    )
    wanted = set(opts.scenarios)
    profiler = Profiler(Path(opts.profile_dir), opts.profile_format) if opts.profile_dir else None
    for regime in opts.regimes:
        async with Mocks(regime, profiler) as mocks:
            initial = baseline = None
            if "initial" in wanted:
                with temp_dir() as tmp:
                    initial = await run_initial(mocks, opts.records, Path(tmp))
                report.initial.append(initial)
            if "baseline" in wanted and (missing := available()) is not None:
                report.notes.append(missing)
                wanted.discard("baseline")
            if "baseline" in wanted:
                baseline = await run_baseline(mocks, min(opts.records, opts.baseline_records))
                report.baseline.append(baseline)
            if initial is not None and baseline is not None:
                report.comparison.append(
                    Comparison(
                        regime=regime,
                        crmsync_pairs_per_s=initial.pairs_per_s,
                        baseline_pairs_per_s=baseline.pairs_per_s,
                        throughput_ratio=_ratio(initial.pairs_per_s, baseline.pairs_per_s),
                        crmsync_calls_per_record=initial.calls_per_record,
                        baseline_calls_per_record=baseline.calls_per_record,
                        calls_ratio=_ratio(baseline.calls_per_record, initial.calls_per_record),
                    )
                )
            if "steady" in wanted:
                for rate in opts.rates:
                    with temp_dir() as tmp:
                        report.steady.append(
                            await run_steady(
                                mocks,
                                opts.records,
                                Path(tmp),
                                rate_per_s=rate,
                                duration_s=opts.duration_s,
                                poll_interval_s=opts.poll_interval_s,
                            )
                        )
            if "idle" in wanted:
                with temp_dir() as tmp:
                    report.idle.append(
                        await run_idle(
                            mocks,
                            opts.records,
                            Path(tmp),
                            interval_s=opts.idle_s,
                            poll_interval_s=opts.idle_poll_interval_s,
                            settle_s=opts.idle_settle_s,
                        )
                    )
            if "sweep" in wanted:
                report.sweep.append(
                    await run_sweep(
                        mocks,
                        opts.sweep_records,
                        rate_per_s=opts.rates[0],
                        duration_s=opts.sweep_duration_s,
                        poll_interval_s=opts.poll_interval_s,
                    )
                )
    if profiler is not None:
        report.notes.extend(profiler.notes)
        if profiler.files:
            report.notes.append(
                f"profiles ({opts.profile_format}): " + ", ".join(str(f) for f in profiler.files)
            )
    if report.baseline and len(report.baseline) and any(b.records < opts.records for b in report.baseline):
        report.notes.append(
            f"the baseline ran on {report.baseline[0].records} of the {opts.records} pairs (one record at a "
            "time its rate does not depend on N; --baseline-records sets it)"
        )
    return report


def main(args: argparse.Namespace) -> int:
    import anyio
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    opts = options(args)
    report = anyio.run(run_bench, opts, backend="asyncio")
    if report.sweep:
        png = (
            Path(args.plot)
            if args.plot
            else (Path(args.out).with_suffix(".sweep.png") if args.out else Path("bench-sweep.png"))
        )
        problem = plot(report.sweep, png)
        report.notes.append(problem or f"sweep plot: {png}")
    print_report(report)
    if args.out:
        data: dict[str, Any] = msgspec.to_builtins(report)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return 0
