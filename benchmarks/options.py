"""``crmsync bench``'s command line, kept light: ``crmsync`` builds every subcommand's parser at
start-up, so nothing here may import the benchmark itself (or its optional dependencies)."""

from __future__ import annotations

import argparse
from typing import Literal

import msgspec

SCENARIOS = ("initial", "baseline", "steady", "idle", "sweep")
Regime = Literal["real", "lifted"]
ProfileFormat = Literal["speedscope", "flamegraph", "raw"]


class BenchOptions(msgspec.Struct, kw_only=True):
    scenarios: list[str]
    regimes: list[Regime]
    records: int
    rates: list[float]
    duration_s: float
    poll_interval_s: float
    idle_s: float
    idle_poll_interval_s: float
    idle_settle_s: float
    baseline_records: int
    sweep_records: int
    sweep_duration_s: float
    profile_dir: str | None = None
    profile_format: ProfileFormat = "speedscope"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", default="all",
                   help="initial, baseline, steady, idle, sweep (comma-separated) or all (default); "
                        "initial runs the baseline beside it")  # fmt: skip
    p.add_argument("--records", type=int, default=10_000, help="contact pairs to seed (default 10000)")
    p.add_argument("--out", default=None, help="write every figure as JSON to this file")
    p.add_argument("--limits", choices=("real", "lifted", "both"), default="both",
                   help="the mocks' real rate limits, lifted ones, or both (default)")  # fmt: skip
    p.add_argument("--rate", default="100,1000,5000",
                   help="steady: changes/s, both systems together, comma-separated")  # fmt: skip
    p.add_argument("--duration", type=float, default=60.0, help="steady: seconds of changes (default 60)")
    p.add_argument("--poll-interval", type=float, default=1.0, help="steady/sweep: engine poll interval s")
    p.add_argument("--idle-seconds", type=float, default=60.0, help="idle: measured interval (default 60)")
    p.add_argument("--idle-poll-interval", type=float, default=5.0, help="idle: engine poll interval s")
    p.add_argument(
        "--idle-settle",
        type=float,
        default=90.0,
        help="idle: seconds the engine runs before the measure starts (default 90: its change streams "
        "read each record written in the last minute once more, the look-back, before they poll alone)",
    )
    p.add_argument("--baseline-records", type=int, default=300,
                   help="baseline: pairs it syncs, at most --records (default 300)")  # fmt: skip
    p.add_argument("--sweep-records", type=int, default=2000, help="sweep: pairs per point (default 2000)")
    p.add_argument("--sweep-duration", type=float, default=10.0, help="sweep: steady seconds per point")
    p.add_argument("--plot", default=None, help="sweep PNG (default: next to --out, or bench-sweep.png)")
    p.add_argument("--profile", default=None, metavar="DIR",
                   help="write a py-spy profile of every measured engine run into DIR (needs py-spy, "
                        "in the bench extra, and ptrace rights)")  # fmt: skip
    p.add_argument("--profile-format", choices=("speedscope", "flamegraph", "raw"), default="speedscope",
                   help="speedscope JSON (default; open at speedscope.app), flamegraph SVG, or "
                        "py-spy's raw collapsed stacks")  # fmt: skip


def options(args: argparse.Namespace) -> BenchOptions:
    names = [n.strip() for n in str(args.scenario).split(",") if n.strip()]
    unknown = [n for n in names if n not in (*SCENARIOS, "all")]
    if unknown or not names:
        raise SystemExit(
            f"crmsync bench: unknown scenario {', '.join(unknown)} (choose from {', '.join(SCENARIOS)})"
        )
    scenarios = list(SCENARIOS) if "all" in names else names
    if "initial" in scenarios and "baseline" not in scenarios:
        scenarios.append("baseline")  # the comparison belongs to the initial figures
    regimes: list[Regime] = ["real", "lifted"] if args.limits == "both" else [args.limits]
    rates = [float(r) for r in str(args.rate).split(",") if r.strip()]
    if not rates or any(r <= 0 for r in rates) or args.records < 3:
        raise SystemExit("crmsync bench: --rate needs positive rates and --records at least 3")
    return BenchOptions(
        scenarios=scenarios,
        regimes=regimes,
        records=args.records,
        rates=rates,
        duration_s=args.duration,
        poll_interval_s=args.poll_interval,
        idle_s=args.idle_seconds,
        idle_poll_interval_s=args.idle_poll_interval,
        idle_settle_s=args.idle_settle,
        baseline_records=max(3, args.baseline_records),
        sweep_records=args.sweep_records,
        sweep_duration_s=args.sweep_duration,
        profile_dir=args.profile,
        profile_format=args.profile_format,
    )
