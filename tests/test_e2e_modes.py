"""Run modes end to end: backfill, faults as back-pressure, and the long-running loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anyio
import msgspec
import pytest

from engine.runtime import open_engine, run_forever, sync_until_idle
from engine.store import StateStore
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings, wait_until


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config()) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


async def test_backfill_syncs_what_existed_and_links_same_people(crms: Crms, tmp_path: Path) -> None:
    hs_only = await crms.hs_create(email="hs.only@example.com", lastname="HsOnly")
    sf_only = await crms.sf_create("Contact", LastName="SfOnly", Email="sf.only@example.com")
    both_hs = await crms.hs_create(email="both@example.com", lastname="Both", jobtitle="Old title")
    both_sf = await crms.sf_create("Contact", LastName="Both", Email="both@example.com", Title="New title")
    settings = engine_settings(crms.ep, tmp_path / "s.db")
    with anyio.fail_after(60):
        summary = await sync_until_idle(settings, backfill=True)
    assert summary.created.salesforce == 1 and summary.created.hubspot == 1
    sf = {c["Email"]: c for c in await crms.sf_all("Contact")}
    assert sf["hs.only@example.com"]["HubSpot_Id__c"] == hs_only
    assert sf["both@example.com"]["Id"] == both_sf and sf["both@example.com"]["HubSpot_Id__c"] == both_hs
    hs = {h["properties"]["email"]: h["properties"] for h in await crms.hs_all()}
    assert hs["sf.only@example.com"]["salesforcecontactid"] == sf_only
    assert hs["both@example.com"]["jobtitle"] == "New title"  # Salesforce's value wins by default
    with anyio.fail_after(60):
        again = await sync_until_idle(settings)
    assert again.created == again.updated == msgspec.convert({}, type(again.created))


async def test_server_faults_are_back_pressure_not_record_errors(crms: Crms, tmp_path: Path) -> None:
    settings = engine_settings(crms.ep, tmp_path / "s.db")
    await sync_until_idle(settings)
    for i in range(60):
        await crms.hs_create(email=f"p{i}@example.com", lastname=f"P{i}")
    for url in (crms.ep.hubspot_url, crms.ep.salesforce_url):
        async with crms.s.post(url + "/__mock/faults", json={"error_rate": 0.25}, ssl=crms._ssl) as r:
            assert r.status == 200
    with anyio.fail_after(120):
        summary = await sync_until_idle(settings)
    hs_stats, sf_stats = await crms.calls()
    assert hs_stats["faults_injected"].get("error", 0) + sf_stats["faults_injected"].get("error", 0) > 0
    assert summary.errors == 0
    contacts = await crms.sf_all("Contact")
    assert len(contacts) == 60 and len({c["HubSpot_Id__c"] for c in contacts}) == 60
    async with await StateStore.open(tmp_path / "s.db") as store:
        assert await store.sync_errors() == []


async def test_run_forever_syncs_changes_as_they_come(crms: Crms, tmp_path: Path) -> None:
    settings = engine_settings(crms.ep, tmp_path / "s.db")
    async with open_engine(settings) as engine, anyio.create_task_group() as tg:
        tg.start_soon(run_forever, engine)
        hs_id = await crms.hs_create(email="live@example.com", lastname="Live")
        await wait_until(lambda: _has_contacts(crms))
        (contact,) = await crms.sf_all("Contact")
        assert contact["HubSpot_Id__c"] == hs_id
        await crms.sf_update("Contact", contact["Id"], Title="Live title")
        await wait_until(lambda: _jobtitle_is(crms, hs_id, "Live title"))
        tg.cancel_scope.cancel()


async def _has_contacts(crms: Crms) -> bool:
    return bool(await crms.sf_all("Contact"))


async def _jobtitle_is(crms: Crms, hs_id: str, title: str) -> bool:
    return (await crms.hs_get(hs_id, "jobtitle")).get("jobtitle") == title
