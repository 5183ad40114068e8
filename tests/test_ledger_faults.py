"""The API ledger counts every call a CRM sees, even when connections are cut mid-request.

Found by the chaos runner (seed 100): aiohttp silently resends a GET, PUT or DELETE once when the
server drops a kept-alive connection, so a CRM that cut connections saw more calls than crmsync
charged to its allotment — and an allotment tuned to the org's limit could be overrun. Every
attempt must go through our own retry loop, which charges it first.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import anyio

from engine.runtime import sync_until_idle
from engine.store import StateStore
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings
from tests.test_faults import LIFTED, injected, lifted, seed_both, set_faults


async def test_cut_connections_never_make_uncharged_calls(tmp_path: Path) -> None:
    async with running_mocks(mock_config(**LIFTED)) as (ep, _, _), aiohttp.ClientSession() as session:
        crms = Crms(ep, session)
        settings = lifted(engine_settings(ep, tmp_path / "s.db"))
        with anyio.fail_after(120):
            await sync_until_idle(settings)
            before = await crms.calls()
            await seed_both(crms, 20)
            after = await crms.calls()
            # Hangs that end in a cut connection, on every kind of call. HubSpot counts a call before
            # its fault (Salesforce only once it is served), and its GETs are made at start-up
            # (properties, owners): so several starts.
            for system in ("hubspot", "salesforce"):
                await set_faults(crms, system, timeout_rate=0.3, timeout_s=0.05)
            for _ in range(4):
                await sync_until_idle(settings)
            for system in ("hubspot", "salesforce"):
                await set_faults(crms, system)
            await sync_until_idle(settings)
        assert (await injected(crms)).get("timeout", 0) > 0
        end = await crms.calls()
        # Everything the mocks counted, less the test's own creates (made while no engine ran).
        seen = {
            system: end[i]["api_calls"] - (after[i]["api_calls"] - before[i]["api_calls"])
            for i, system in enumerate(("hubspot", "salesforce"))
        }
        async with await StateStore.open(tmp_path / "s.db") as store:
            charged = {system: await store.api_calls_since(system, 0) for system in seen}
        assert all(seen[system] <= charged[system] for system in seen), (seen, charged)
