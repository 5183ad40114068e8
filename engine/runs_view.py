"""The run history as ``crmsync runs`` and ``crmsync health`` show it: JSON objects and a table."""

from __future__ import annotations

import os
import time

import msgspec
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from engine.store_types import RunRow, Sides


class RunView(msgspec.Struct, kw_only=True):
    """Field order is the documented ``crmsync runs --json`` shape (one object per run)."""

    id: int
    started: str
    """UTC, ISO 8601."""
    ended: str | None
    seconds: float | None
    mode: str
    backfill: bool
    outcome: str
    """``idle``, ``paused``, ``incomplete``, ``stopped``, ``failed``, ``interrupted`` or ``running``."""
    detail: str | None
    synced: int
    created: Sides
    updated: Sides
    deleted: Sides
    errors: int
    api_calls: Sides


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def run_view(row: RunRow) -> RunView:
    outcome = row.outcome
    if outcome is None:
        # Not ended: alive, or killed before it could say so (the next run will mark it so). A
        # reader takes no lock, so the pid is all there is to tell them apart.
        outcome = "running" if _alive(row.pid) else "interrupted"
    return RunView(
        id=row.id,
        started=_iso(row.started_ms),
        ended=None if row.ended_ms is None else _iso(row.ended_ms),
        seconds=None if row.ended_ms is None else round((row.ended_ms - row.started_ms) / 1000, 3),
        mode=row.mode,
        backfill=row.backfill,
        outcome=outcome,
        detail=row.detail,
        synced=row.synced,
        created=row.created,
        updated=row.updated,
        deleted=row.deleted,
        errors=row.errors,
        api_calls=row.api_calls,
    )


_STYLE = {
    "failed": "red",
    "interrupted": "red",
    "paused": "yellow",
    "incomplete": "yellow",
    "running": "cyan",
}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _pair(sides: Sides) -> str:
    return f"{sides.hubspot:,} / {sides.salesforce:,}"


def runs_table(runs: list[RunView], title: str) -> RenderableType:
    """Newest first, one line per run; why a run paused or failed follows below the table (a
    sentence in a column would squeeze every other column)."""
    table = Table(title=title, title_justify="left", caption="counts per CRM: HubSpot / Salesforce")
    for column in ("Run", "Started (UTC)", "Took", "Mode", "Outcome", "Synced"):
        right = column in ("Run", "Took", "Synced")
        table.add_column(column, justify="right" if right else "left", no_wrap=column != "Mode")
    for column in ("Created", "Updated", "Deleted", "Errors", "API calls"):
        table.add_column(column, justify="right", no_wrap=True)
    details: list[RenderableType] = []
    for run in runs:
        table.add_row(
            str(run.id),
            run.started.replace("T", " ").removesuffix("Z"),
            _duration(run.seconds),
            run.mode + (" + backfill" if run.backfill else ""),
            Text(run.outcome, style=_STYLE.get(run.outcome, "")),
            f"{run.synced:,}",
            _pair(run.created),
            _pair(run.updated),
            _pair(run.deleted),
            f"{run.errors:,}",
            _pair(run.api_calls),
        )
        if run.detail is not None:  # Text, not markup: a message may hold "[...]"
            details.append(
                Text(f"Run {run.id} {run.outcome}: {run.detail}", style=_STYLE.get(run.outcome, ""))
            )
    if not runs:
        table.add_row("—", "(no runs yet)", *[""] * 9)
    return Group(table, *details)
