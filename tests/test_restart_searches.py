"""Issue 5, pacing across processes: HubSpot's search limit (5 a second) counts a previous
process's last searches too, which a new process's limiter cannot see. A run started right after
another waits out the rest of that window before its first search, so no search is refused; the
mock's own refusal count is the measure."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anyio
import pytest

from engine.runtime import sync_until_idle
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config()) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


async def test_a_run_right_after_another_gets_no_search_refused(crms: Crms, tmp_path: Path) -> None:
    async with crms.s.post(
        crms.ep.hubspot_url + "/__mock/seed", json={"object_type": "contacts", "count": 1000, "seed": 5}
    ) as r:
        assert r.status == 200, await r.text()
    settings = engine_settings(crms.ep, tmp_path / "s.db")  # the real limits: 5 searches a second
    with anyio.fail_after(120):
        for _ in range(3):
            # A run that ends on a search, then at once a backfill whose first second is five
            # search pages (its own limiter lets five through): with the last run's search still
            # in the server's window, that was six.
            await sync_until_idle(settings)
            await sync_until_idle(settings, backfill=True)
    hs, _ = await crms.calls()
    assert hs["refused"] == {}, hs["refused"]
