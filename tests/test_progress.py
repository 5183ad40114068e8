"""The backfill progress display runs beside a real backfill and reports its tallies."""

from __future__ import annotations

import io
from pathlib import Path

import aiohttp
import anyio
from rich.console import Console

from engine.progress import describe, show_progress
from engine.runtime import Engine, sync_until_idle
from engine.summary import PerSystem, Summary
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings


def test_describe_names_the_tallies() -> None:
    text = describe(Summary(synced=1200, created=PerSystem(hubspot=3, salesforce=4), errors=2), 5000)
    assert text == ("changes read 5,000 · pairs synced 1,200 · created HubSpot 3 / Salesforce 4 · errors 2")


async def test_progress_watches_a_backfill(tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200)
    seen: list[int] = []

    async def watch(engine: Engine) -> None:
        seen.append(len(engine.streams))
        await show_progress(engine, console)

    async with running_mocks(mock_config()) as (ep, _, _), aiohttp.ClientSession() as session:
        crms = Crms(ep, session)
        for i in range(30):
            await crms.hs_create(email=f"b{i}@example.com", lastname=f"B{i}")
        with anyio.fail_after(60):
            summary = await sync_until_idle(
                engine_settings(ep, tmp_path / "s.db"), backfill=True, watch=watch
            )
    assert summary.created.salesforce == 30
    assert seen == [5]  # ran once, beside the engine, and was cancelled when the sync ended
    assert "changes read" in out.getvalue()
