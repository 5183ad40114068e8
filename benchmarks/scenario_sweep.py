"""Scenario ``sweep``: how throughput and latency respond to the engine's concurrency knobs.

One knob at a time is varied around the defaults (``CRMSYNC_MAX_ACTORS``, ``CRMSYNC_BATCH_SIZE``,
``CRMSYNC_BATCH_LINGER_MS``; see ``engine/settings.py`` TuningSettings); every point runs the
initial scenario (pairs/s, calls per record) and a short steady run (latency p50/p95/p99).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import msgspec

from benchmarks.harness import Mocks, temp_dir
from benchmarks.options import Regime
from benchmarks.scenario_initial import run_initial
from benchmarks.scenario_steady import run_steady
from engine.settings import TuningSettings

_TUNING = TuningSettings()  # the engine's own defaults, so the sweep moves one knob off them
DEFAULTS = {
    "CRMSYNC_MAX_ACTORS": _TUNING.max_actors,
    "CRMSYNC_BATCH_SIZE": _TUNING.batch_size,
    "CRMSYNC_BATCH_LINGER_MS": _TUNING.batch_linger_ms,
}
GRID: dict[str, tuple[int, ...]] = {
    "CRMSYNC_MAX_ACTORS": (32, 128, 512, 2048),
    "CRMSYNC_BATCH_SIZE": (10, 50, 100),
    "CRMSYNC_BATCH_LINGER_MS": (0, 20, 100),
}


class SweepPoint(msgspec.Struct, kw_only=True):
    knob: str
    value: int
    settings: dict[str, int]
    pairs_per_s: float
    calls_per_record: float
    engine_cpu_s_per_1000: float
    steady_p50_s: float | None
    steady_p95_s: float | None
    steady_p99_s: float | None
    steady_calls_per_change: float
    steady_drained: bool


class SweepResult(msgspec.Struct, kw_only=True):
    scenario: str = "sweep"
    regime: Regime
    records: int
    rate_per_s: float
    duration_s: float
    points: list[SweepPoint]


async def run_sweep(
    mocks: Mocks,
    records: int,
    *,
    rate_per_s: float,
    duration_s: float,
    poll_interval_s: float = 1.0,
    grid: dict[str, Sequence[int]] | None = None,
) -> SweepResult:
    points: list[SweepPoint] = []
    for knob, values in (grid or GRID).items():
        for value in values:
            settings = {**DEFAULTS, knob: value}
            env = {k: str(v) for k, v in settings.items()}
            with temp_dir() as tmp:
                initial = await run_initial(mocks, records, Path(tmp), env)
            with temp_dir() as tmp:
                steady = await run_steady(
                    mocks, records, Path(tmp), rate_per_s=rate_per_s, duration_s=duration_s,
                    poll_interval_s=poll_interval_s, tuning=env,
                )  # fmt: skip
            lat = steady.latency.all
            points.append(
                SweepPoint(
                    knob=knob,
                    value=value,
                    settings=settings,
                    pairs_per_s=initial.pairs_per_s,
                    calls_per_record=initial.calls_per_record,
                    engine_cpu_s_per_1000=initial.engine_cpu_s_per_1000,
                    steady_p50_s=lat.p50_s,
                    steady_p95_s=lat.p95_s,
                    steady_p99_s=lat.p99_s,
                    steady_calls_per_change=steady.calls_per_change,
                    steady_drained=steady.drained,
                )
            )
    return SweepResult(
        regime=mocks.regime, records=records, rate_per_s=rate_per_s, duration_s=duration_s, points=points
    )


def plot(sweeps: Sequence[SweepResult], path: Path) -> str | None:
    """Write the PNG; return None, or why it could not be drawn (matplotlib is an optional extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no plot: matplotlib is not installed (pip install 'crmsync[bench]')"
    knobs = list(dict.fromkeys(p.knob for s in sweeps for p in s.points))
    if not knobs:
        return "no plot: the sweep has no points"
    fig, axes = plt.subplots(1, len(knobs), figsize=(5 * len(knobs), 4), squeeze=False)
    for ax, knob in zip(axes[0], knobs, strict=True):
        right = ax.twinx()
        for n, sweep in enumerate(sweeps):
            pts = [p for p in sweep.points if p.knob == knob]
            xs = [p.value for p in pts]
            ax.plot(
                xs,
                [p.pairs_per_s for p in pts],
                marker="o",
                color=f"C{2 * n}",
                label=f"{sweep.regime}: pairs/s",
            )
            right.plot(
                xs, [p.steady_p95_s or 0 for p in pts], marker="x", linestyle="--", color=f"C{2 * n + 1}",
                label=f"{sweep.regime}: steady p95 s",
            )  # fmt: skip
        # From zero, so a 10 % wobble on a loaded machine does not look like a cliff.
        ax.set_ylim(bottom=0)
        right.set_ylim(bottom=0)
        ax.set_xlabel(knob)
        ax.set_ylabel("initial sync, record pairs/s")
        right.set_ylabel("steady propagation p95, s")
        if knob == "CRMSYNC_MAX_ACTORS":
            ax.set_xscale("log", base=2)
        lines = ax.get_legend_handles_labels()
        more = right.get_legend_handles_labels()
        ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize="small")
    fig.suptitle("crmsync bench: tuning sweep")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return None
