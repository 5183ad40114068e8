"""The backfill progress display: what the engine has done so far, redrawn on a terminal."""

from __future__ import annotations

import anyio
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from engine.runtime import Engine
from engine.summary import Summary


def describe(summary: Summary, delivered: int) -> str:
    return (
        f"changes read {delivered:,} · pairs synced {summary.synced:,} · "
        f"created HubSpot {summary.created.hubspot:,} / Salesforce {summary.created.salesforce:,} · "
        f"errors {summary.errors:,}"
    )


async def show_progress(engine: Engine, console: Console | None = None) -> None:
    """Until cancelled. The total is unknown up front (counting would cost calls), so this is a
    running tally rather than a percentage."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("backfill", total=None)
        while True:
            delivered = sum(stream.delivered for stream in engine.streams)
            progress.update(task, description=describe(engine.summary, delivered))
            await anyio.sleep(0.25)
