"""``crmsync bench``'s tables (rich), one per scenario that ran."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from benchmarks.timeline import summary_lines

INITIAL_TITLE = "initial sync (--backfill)"

if TYPE_CHECKING:
    from benchmarks.bench import BenchReport


def _f(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    return table


def tables(report: BenchReport) -> list[Table]:
    out: list[Table] = []
    if report.initial:
        t = _table(
            INITIAL_TITLE, "limits", "pairs", "s", "pairs/s", "ceiling", "of ceiling",
            "calls/rec HS", "calls/rec SF", "calls/rec", "CPU s/1k", "peak RSS MB", "state MB", "errors",
        )  # fmt: skip
        for r in report.initial:
            t.add_row(
                r.regime, f"{r.records:,}", _f(r.seconds), _f(r.pairs_per_s, 1), _f(r.ceiling.pairs_per_s, 0),
                "—" if r.fraction_of_ceiling is None else f"{r.fraction_of_ceiling:.0%}",
                _f(r.calls_per_record_hubspot, 4), _f(r.calls_per_record_salesforce, 4),
                _f(r.calls_per_record, 4), _f(r.engine_cpu_s_per_1000, 3), _f(r.peak_rss_mb, 1),
                _f(r.state_file_mb), str(r.errors),
            )  # fmt: skip
        out.append(t)
    if report.comparison:
        t = _table(
            "crmsync vs one record at a time (hubspot-api-client + simple-salesforce)", "limits",
            "crmsync pairs/s", "baseline pairs/s", "× faster", "crmsync calls/rec", "baseline calls/rec",
            "× fewer calls",
        )  # fmt: skip
        for c in report.comparison:
            t.add_row(
                c.regime, _f(c.crmsync_pairs_per_s, 1), _f(c.baseline_pairs_per_s), _f(c.throughput_ratio, 1),
                _f(c.crmsync_calls_per_record, 4), _f(c.baseline_calls_per_record, 3), _f(c.calls_ratio, 1),
            )  # fmt: skip
        out.append(t)
    elif report.baseline:
        t = _table("baseline, one record at a time", "limits", "pairs", "s", "pairs/s", "calls/rec")
        for b in report.baseline:
            t.add_row(b.regime, f"{b.records:,}", _f(b.seconds), _f(b.pairs_per_s), _f(b.calls_per_record, 3))
        out.append(t)
    if report.steady:
        t = _table(
            "steady (propagation latency from the mocks' stamps)", "limits", "changes/s", "s", "changes",
            "drained", "unsynced", "calls/change", "samples", "p50 s", "p95 s", "p99 s",
        )  # fmt: skip
        for s in report.steady:
            lat = s.latency.all
            t.add_row(
                s.regime, _f(s.rate_per_s, 0), _f(s.duration_s, 0), f"{s.changes:,}",
                "yes" if s.drained else f"no ({s.drain_s:.0f} s)",
                f"{sum(s.latency.unsynced_creates.values()):,}", _f(s.calls_per_change, 3),
                str(lat.samples), _f(lat.p50_s), _f(lat.p95_s), _f(lat.p99_s),
            )  # fmt: skip
        out.append(t)
    if report.idle:
        t = _table("idle (nothing changes)", "limits", "poll s", "measured s", "calls/h HS", "calls/h SF",
                   "calls/h", "writes")  # fmt: skip
        for i in report.idle:
            t.add_row(
                i.regime, _f(i.poll_interval_s, 1), _f(i.measured_s, 1), _f(i.calls_per_hour_hubspot, 0),
                _f(i.calls_per_hour_salesforce, 0), _f(i.calls_per_hour, 0), str(i.writes),
            )  # fmt: skip
        out.append(t)
    for sweep in report.sweep:
        t = _table(
            f"sweep ({sweep.regime} limits, {sweep.records:,} pairs; steady {sweep.rate_per_s:g}/s "
            f"for {sweep.duration_s:g} s)",
            "knob", "value", "pairs/s", "calls/rec", "CPU s/1k", "p50 s", "p95 s", "p99 s", "drained",
        )  # fmt: skip
        for p in sweep.points:
            t.add_row(
                p.knob, str(p.value), _f(p.pairs_per_s, 1), _f(p.calls_per_record, 4),
                _f(p.engine_cpu_s_per_1000, 3), _f(p.steady_p50_s), _f(p.steady_p95_s), _f(p.steady_p99_s),
                "yes" if p.steady_drained else "no",
            )  # fmt: skip
        out.append(t)
    return out


def print_report(report: BenchReport, console: Console | None = None) -> None:
    # Piped output (a log, CI) gets a wide table instead of rich's 80 columns of ellipses.
    console = console or Console(width=None if sys.stdout.isatty() else 200)
    m = report.machine
    console.print(
        f"crmsync bench · {report.started} · {m.get('cpus')} CPUs {m.get('cpu_model')} · "
        f"load {m.get('loadavg_at_start')} · figures from a shared machine are indicative"
    )
    for t in tables(report):
        console.print(t)
        if t.title == INITIAL_TITLE:
            for r in report.initial:
                if r.timeline is not None:
                    console.print(f"{r.regime} limits, {r.records:,} pairs:", highlight=False)
                    for line in summary_lines(r.timeline):
                        console.print(line, highlight=False, markup=False)
    for note in report.notes:
        console.print(f"note: {note}")
