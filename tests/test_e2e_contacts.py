"""Contacts end to end: the engine against both mock CRMs over loopback, in burst mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest

from engine.runtime import sync_until_idle
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
        return await sync_until_idle(settings)


def writes(hs_stats: dict[str, Any], sf_stats: dict[str, Any]) -> int:
    """Write calls in the mocks' own counters (anything but reads, searches and queries; the
    engine's ``/composite`` calls carry only reads)."""
    total = 0
    for stats in (hs_stats, sf_stats):
        for endpoint, n in stats["by_endpoint"].items():
            method, _, route = endpoint.partition(" ")
            if method in ("PATCH", "DELETE", "PUT") or (
                method == "POST" and not route.endswith(("/search", "/batch/read", "/composite"))
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


async def _errors(path: Path) -> list[tuple[str, str, str]]:
    from engine.store import StateStore

    async with await StateStore.open(path) as store:
        return [(e.system, e.record_id, e.error_type + ": " + e.message) for e in await store.sync_errors()]


async def test_default_rule_prefers_salesforce_and_clears_travel(crms: Crms, tmp_path: Path) -> None:
    settings = engine_settings(crms.ep, tmp_path / "state.db")
    await sync(settings)
    hs_id = await crms.hs_create(email="kim@example.com", firstname="Kim", lastname="Lee", jobtitle="Analyst")
    await sync(settings)
    (contact,) = await crms.sf_all("Contact")

    await crms.hs_update(hs_id, jobtitle="CTO")  # HubSpot edit under prefer_salesforce: reverted
    await sync(settings)
    assert (await crms.hs_get(hs_id, "jobtitle"))["jobtitle"] == "Analyst"
    assert (await crms.sf_get("Contact", contact["Id"]))["Title"] == "Analyst"

    await crms.sf_update("Contact", contact["Id"], Title="VP Sales", Phone="+1 555 0100")
    await sync(settings)
    got = await crms.hs_get(hs_id, "jobtitle", "phone")
    assert (got["jobtitle"], got["phone"]) == ("VP Sales", "+1 555 0100")

    await crms.sf_update("Contact", contact["Id"], Title=None)  # cleared in Salesforce: cleared in HubSpot
    await sync(settings)
    assert (await crms.hs_get(hs_id, "jobtitle")).get("jobtitle") in (None, "")


async def test_two_way_rule_lets_hubspot_edits_through(crms: Crms, tmp_path: Path) -> None:
    fields = [
        {"hubspot": "email", "salesforce": "Email", "rule": "two_way", "kind": "email"},
        {"hubspot": "lastname", "salesforce": "LastName"},
        {"hubspot": "jobtitle", "salesforce": "Title", "rule": "two_way"},
    ]
    import msgspec

    from engine.mapping import FieldMapping

    settings = engine_settings(
        crms.ep, tmp_path / "state.db", fields=msgspec.convert(fields, list[FieldMapping])
    )
    await sync(settings)
    hs_id = await crms.hs_create(email="two@example.com", lastname="Way", jobtitle="Analyst", phone="123")
    await sync(settings)
    (contact,) = await crms.sf_all("Contact")
    assert contact.get("Phone") is None  # not mapped: never sent
    await crms.hs_update(hs_id, jobtitle="CTO")
    await sync(settings)
    assert (await crms.sf_get("Contact", contact["Id"]))["Title"] == "CTO"


async def test_leads_validation_errors_and_ineligible_records(crms: Crms, tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    settings = engine_settings(crms.ep, path, create_in_salesforce_as="Lead")
    await sync(settings)
    good = await crms.hs_create(email="lead@example.com", lastname="Good", company="Acme")
    no_company = await crms.hs_create(email="nocompany@example.com", lastname="Bad")
    await crms.hs_create(firstname="No", lastname="Email")
    summary = await sync(settings)
    assert summary.created.salesforce == 1
    assert summary.errors == 1
    assert summary.ineligible == 1
    (lead,) = await crms.sf_all("Lead")
    assert (lead["Company"], lead["HubSpot_Id__c"]) == ("Acme", good)
    assert await crms.sf_all("Contact") == []
    (error,) = await _errors(path)
    assert error[:2] == ("hubspot", no_company)
    assert "REQUIRED_FIELD_MISSING" in error[2] and error[2].startswith("validation")

    await crms.hs_update(no_company, company="Fixed Inc")  # fixed at the source: it syncs, the error clears
    await sync(settings)
    assert len(await crms.sf_all("Lead")) == 2
    assert await _errors(path) == []


async def test_first_match_by_email_prefers_contacts_and_never_duplicates(crms: Crms, tmp_path: Path) -> None:
    lead = await crms.sf_create("Lead", LastName="Dup", Company="X", Email="dup@example.com")
    contact = await crms.sf_create("Contact", LastName="Dup", Email="DUP@example.com", Title="Boss")
    settings = engine_settings(crms.ep, tmp_path / "state.db")
    await sync(settings)
    hs_id = await crms.hs_create(email="dup@example.com", lastname="Dup")
    summary = await sync(settings)
    assert summary.created.salesforce == 0
    assert [c["Id"] for c in await crms.sf_all("Contact")] == [contact]
    assert [c["Id"] for c in await crms.sf_all("Lead")] == [lead]
    got = await crms.hs_get(hs_id, "salesforcecontactid", "jobtitle")
    assert (got["salesforcecontactid"], got["jobtitle"]) == (contact, "Boss")


async def test_salesforce_to_hubspot_do_nothing(crms: Crms, tmp_path: Path) -> None:
    settings = engine_settings(crms.ep, tmp_path / "state.db", salesforce_to_hubspot="do_nothing")
    await sync(settings)
    await crms.sf_create("Contact", LastName="Quiet", Email="quiet@example.com")
    summary = await sync(settings)
    assert summary.created.hubspot == 0
    assert await crms.hs_all() == []


@pytest.mark.parametrize("on_delete", ["delete", "do_nothing"])
async def test_salesforce_delete_setting_and_hubspot_deletes_never_delete(
    crms: Crms, tmp_path: Path, on_delete: str
) -> None:
    settings = engine_settings(crms.ep, tmp_path / "state.db", on_salesforce_delete=on_delete)
    await sync(settings)
    gone = await crms.hs_create(email="gone@example.com", lastname="Gone")
    kept = await crms.hs_create(email="kept@example.com", lastname="Kept")
    await sync(settings)
    by_hs = {c["HubSpot_Id__c"]: c["Id"] for c in await crms.sf_all("Contact")}

    await crms.sf_delete("Contact", by_hs[gone])
    await crms.hs_delete(kept)  # R-CON-4: never deletes in Salesforce
    summary = await sync(settings)
    live = {h["id"] for h in await crms.hs_all() if not h.get("archived")}
    if on_delete == "delete":
        assert gone not in live and summary.deleted.hubspot == 1
    else:
        assert gone in live and summary.deleted.hubspot == 0
    assert [c["Id"] for c in await crms.sf_all("Contact")] == [by_hs[kept]]


# rule -> (HubSpot edit reaches Salesforce?, Salesforce edit reaches HubSpot?, HubSpot edit reverted?)
RULES = {
    "always_salesforce": (False, True, False),
    "dont_sync": (False, False, False),
    "prefer_hubspot_unless_blank": (True, False, False),
    "always_hubspot": (True, False, False),
}


@pytest.mark.parametrize("rule", sorted(RULES))
async def test_each_rule_end_to_end(crms: Crms, tmp_path: Path, rule: str) -> None:
    import msgspec

    from engine.mapping import FieldMapping

    fields = msgspec.convert(
        [
            {"hubspot": "email", "salesforce": "Email", "rule": "two_way", "kind": "email"},
            {"hubspot": "lastname", "salesforce": "LastName"},
            {"hubspot": "jobtitle", "salesforce": "Title", "rule": rule},
        ],
        list[FieldMapping],
    )
    settings = engine_settings(crms.ep, tmp_path / "state.db", fields=fields)
    await sync(settings)
    sf_id = await crms.sf_create("Contact", LastName="Rule", Email="rule@example.com", Title="Start")
    await sync(settings)
    (hs,) = await crms.hs_all()
    hs_id = hs["id"]
    created_title = (await crms.hs_get(hs_id, "jobtitle")).get("jobtitle")
    # On a Salesforce → HubSpot create, fields under always_hubspot and dont_sync are not sent.
    assert created_title == (None if rule in ("always_hubspot", "dont_sync") else "Start")

    hs_to_sf, sf_to_hs, _ = RULES[rule]
    await crms.hs_update(hs_id, jobtitle="From HubSpot")
    await sync(settings)
    sf_title = (await crms.sf_get("Contact", sf_id))["Title"]
    assert (sf_title == "From HubSpot") == hs_to_sf

    await crms.sf_update("Contact", sf_id, Title="From Salesforce")
    await sync(settings)
    hs_title = (await crms.hs_get(hs_id, "jobtitle")).get("jobtitle")
    assert (hs_title == "From Salesforce") == sf_to_hs


async def test_salesforce_lead_creates_contact_and_a_converted_lead_follows_its_contact(
    crms: Crms, tmp_path: Path
) -> None:
    settings = engine_settings(crms.ep, tmp_path / "state.db")
    await sync(settings)
    lead_id = await crms.sf_create("Lead", LastName="Convert", Company="Acme", Email="convert@example.com")
    await sync(settings)
    (hs,) = await crms.hs_all()
    assert hs["properties"]["salesforceleadid"] == lead_id

    async with crms.s.post(
        crms.ep.salesforce_url + "/__mock/convert-lead", json={"lead_id": lead_id}, ssl=crms._ssl
    ) as r:
        assert r.status == 200, await r.text()
    (contact,) = await crms.sf_all("Contact")
    await sync(settings)
    got = await crms.hs_get(hs["id"], "salesforcecontactid", "jobtitle")
    assert got["salesforcecontactid"] == contact["Id"]
    assert (await crms.sf_get("Contact", contact["Id"]))["HubSpot_Id__c"] == hs["id"]
    assert len(await crms.hs_all()) == 1  # the Contact found its person; nobody was duplicated

    await crms.sf_update("Contact", contact["Id"], Title="Converted")  # the link now follows the Contact
    await sync(settings)
    assert (await crms.hs_get(hs["id"], "jobtitle"))["jobtitle"] == "Converted"
