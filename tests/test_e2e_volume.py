"""Change-stream edges end to end: equal timestamps across page boundaries, HubSpot's 10,000-result
search cap, and a daily allotment that runs out mid-sync."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anyio
import msgspec
import pytest

from engine.runtime import sync_until_idle
from engine.settings import HubSpotSettings, Settings
from engine.summary import Summary
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings

LIFTED = {"hubspot_burst_limit": 0, "hubspot_search_rate": 0}


def lifted(settings: Settings) -> Settings:
    hs = msgspec.structs.replace(settings.hubspot, burst_per_10s=0, search_per_s=0)
    return msgspec.structs.replace(settings, hubspot=hs)


async def sync(settings: Settings, clock: object = time.time) -> Summary:
    with anyio.fail_after(240):
        return await sync_until_idle(settings, clock=clock)  # type: ignore[arg-type]


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config(**LIFTED)) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


async def _seed(crms: Crms, system: str, body: dict[str, object]) -> None:
    url = crms.ep.hubspot_url if system == "hubspot" else crms.ep.salesforce_url
    async with crms.s.post(url + "/__mock/seed", json=body, ssl=crms._ssl) as r:
        assert r.status == 200, await r.text()


async def test_salesforce_records_sharing_a_second_across_pages(crms: Crms, tmp_path: Path) -> None:
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    await sync(settings)
    await _seed(crms, "salesforce", {"sobject": "Contact", "count": 2_600, "seed": 7})
    contacts = await crms.sf_all("Contact")
    stamps = [c["SystemModstamp"] for c in contacts]
    assert len(set(stamps)) < len(stamps) / 100  # whole-second stamps: thousands share one
    summary = await sync(settings)
    assert summary.created.hubspot == 2_600
    hs = await crms.hs_all()
    assert len(hs) == 2_600
    assert {h["properties"]["salesforcecontactid"] for h in hs} == {c["Id"] for c in contacts}


async def test_more_than_ten_thousand_hubspot_changes_in_one_window(crms: Crms, tmp_path: Path) -> None:
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    await sync(settings)
    await _seed(crms, "hubspot", {"object_type": "contacts", "count": 10_500, "seed": 11})
    summary = await sync(settings)
    assert summary.errors == 0
    assert summary.created.salesforce == 10_500
    assert len(await crms.sf_all("Contact")) == 10_500
    assert sum(1 for h in await crms.hs_all() if h["properties"].get("salesforcecontactid")) == 10_500
    # Batched: far below one call per record (the reference spends up to ~4 per record).
    assert (summary.api_calls.salesforce + summary.api_calls.hubspot) / 10_500 < 0.5


class FakeClock:
    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


async def test_allotment_runs_out_mid_sync_then_finishes_when_the_window_allows(tmp_path: Path) -> None:
    async with running_mocks(mock_config(**LIFTED)) as (ep, _, _), aiohttp.ClientSession() as session:
        crms = Crms(ep, session)
        clock = FakeClock()
        base = lifted(engine_settings(ep, tmp_path / "s.db"))
        settings = msgspec.structs.replace(
            base,
            hubspot=HubSpotSettings(**{**msgspec.structs.asdict(base.hubspot), "daily_api_allotment": 30}),
        )
        await sync(settings, clock)
        await _seed(crms, "hubspot", {"object_type": "contacts", "count": 2_000, "seed": 3})
        first = await sync(settings, clock)
        assert first.paused == "hubspot allotment"
        hs_stats, _ = await crms.calls()
        assert hs_stats["api_calls"] <= 30  # the mock's own count: never above the allotment
        linked = [h for h in await crms.hs_all() if h["properties"].get("salesforcecontactid")]
        assert len(linked) < 2_000  # stopped part way

        again = await sync(settings, clock)  # same window: still paused, nothing spent
        assert again.paused == "hubspot allotment"
        assert (await crms.calls())[0]["api_calls"] == hs_stats["api_calls"]

        rounds = 0
        while True:  # each day allows 30 more calls: the sync carries on where it stopped
            clock.t += 86_400
            rounds += 1
            summary = await sync(settings, clock)
            if summary.paused is None:
                break
            assert rounds < 30
            assert (await crms.calls())[0]["api_calls"] <= 30 * (rounds + 1)
        contacts = await crms.sf_all("Contact")
        assert len(contacts) == 2_000
        assert len({c["HubSpot_Id__c"] for c in contacts}) == 2_000  # nothing duplicated across pauses
        linked = [h for h in await crms.hs_all() if h["properties"].get("salesforcecontactid")]
        assert len(linked) == 2_000
