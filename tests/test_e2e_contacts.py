"""Contacts end to end: the engine against both mock CRMs over loopback, in burst mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest

from engine.runtime import open_engine, run_until_idle
from engine.settings import Settings
from engine.summary import Summary
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config()) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


async def sync(settings: Settings) -> Summary:
    with anyio.fail_after(60):
        async with open_engine(settings) as engine:
            return await run_until_idle(engine)


def writes(hs_stats: dict[str, Any], sf_stats: dict[str, Any]) -> int:
    """Write calls in the mocks' own counters (anything but reads, searches and queries)."""
    total = 0
    for stats in (hs_stats, sf_stats):
        for endpoint, n in stats["by_endpoint"].items():
            method, _, route = endpoint.partition(" ")
            if method in ("PATCH", "DELETE", "PUT") or (
                method == "POST" and not route.endswith(("/search", "/batch/read"))
            ):
                total += n
    return total


async def test_existing_records_do_not_sync_by_themselves_then_changes_do(crms: Crms, tmp_path: Path) -> None:
    old = await crms.hs_create(email="old@example.com", firstname="Old", lastname="Timer")
    settings = engine_settings(crms.ep, tmp_path / "state.db")
    first = await sync(settings)
    assert first.synced == 0 and first.created.salesforce == 0
    assert await crms.sf_all("Contact") == []

    new = await crms.hs_create(
        email="Ada@Example.com", firstname="Ada", lastname="Lovelace", jobtitle="Analyst"
    )
    second = await sync(settings)
    assert second.created.salesforce == 1
    (contact,) = await crms.sf_all("Contact")
    assert (contact["Email"].lower(), contact["LastName"], contact["Title"]) == (
        "ada@example.com",
        "Lovelace",
        "Analyst",
    )
    assert contact["HubSpot_Id__c"] == new
    hs = await crms.hs_get(new, "salesforcecontactid")
    assert hs["salesforcecontactid"] == contact["Id"]
    assert (await crms.hs_get(old, "salesforcecontactid")).get("salesforcecontactid") in (None, "")


async def test_salesforce_contact_creates_hubspot_contact_and_no_echo(crms: Crms, tmp_path: Path) -> None:
    settings = engine_settings(crms.ep, tmp_path / "state.db")
    await sync(settings)
    sf_id = await crms.sf_create("Contact", LastName="Hopper", FirstName="Grace", Email="grace@navy.mil")
    summary = await sync(settings)
    assert summary.created.hubspot == 1
    (hs,) = await crms.hs_all()
    assert hs["properties"]["email"] == "grace@navy.mil"
    assert hs["properties"]["salesforcecontactid"] == sf_id
    assert (await crms.sf_get("Contact", sf_id))["HubSpot_Id__c"] == hs["id"]

    before = writes(*await crms.calls())
    again = await sync(settings)
    assert writes(*await crms.calls()) == before  # echo: a further run makes zero writes
    assert (
        again.created.hubspot
        == again.created.salesforce
        == again.updated.hubspot
        == again.updated.salesforce
        == 0
    )
