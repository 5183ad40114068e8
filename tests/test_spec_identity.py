"""SPEC §2 R-ID-3 (twins: several Salesforce records with a linked contact's email) and a Salesforce
edit after its HubSpot contact was deleted (SPEC §11.1: synced, or a visible error; never silent).

Each run of ``sync_until_idle`` is a new engine whose look-back redelivers the recent records, so a
run after convergence is also the redelivery case: it must write nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anyio
import pytest

from engine.runtime import sync_until_idle
from engine.settings import Settings
from engine.store import StateStore
from engine.summary import Summary
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config()) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


async def next_stamp() -> None:
    """Salesforce stamps LastModifiedDate to the second (the mock too): a record changed in the
    same second as our last write to its twin ties with it, and a tie leaves the link where it is
    (R-ID-3 needs a *more* recent update). A person's edit a second later is what these test."""
    await anyio.sleep(1.1)


def quiet(summary: Summary) -> bool:
    """Nothing written, created or failed: a redelivery that moved nothing."""
    return (
        summary.synced == 0
        and summary.errors == 0
        and summary.created.hubspot + summary.created.salesforce == 0
        and summary.updated.hubspot + summary.updated.salesforce == 0
    )


async def live_contacts(crms: Crms) -> list[dict[str, object]]:
    return [h for h in await crms.hs_all() if not h.get("archived")]


async def linked_pair(crms: Crms, settings: Settings, email: str) -> tuple[str, str]:
    """A HubSpot contact synced to a new Salesforce Contact: (HubSpot id, Contact id)."""
    hs_id = await crms.hs_create(email=email, lastname="Pair", jobtitle="Original")
    await sync_until_idle(settings)
    (contact,) = [c for c in await crms.sf_all("Contact") if c["Email"] == email]
    return hs_id, str(contact["Id"])


async def test_a_later_twin_takes_the_link_and_an_edit_of_the_first_takes_it_back(
    crms: Crms, tmp_path: Path
) -> None:
    """R-ID-3 both ways, across objects: the link follows whichever record was updated last; the
    record it leaves gives up HubSpot_Id__c; our own writes and redeliveries never move it."""
    settings = engine_settings(crms.ep, tmp_path / "state.db")
    with anyio.fail_after(150):
        await sync_until_idle(settings)
        lead = await crms.sf_create(
            "Lead", LastName="Twin", Company="Acme", Email="twin@example.com", Title="Lead"
        )
        hs_id = await crms.hs_create(email="twin@example.com", lastname="Twin")
        await sync_until_idle(settings)
        await next_stamp()
        contact = await crms.sf_create("Contact", LastName="Twin", Email="twin@example.com", Title="Contact")
        await sync_until_idle(settings)
        got = await crms.hs_get(hs_id, "jobtitle", "salesforcecontactid")
        assert (got["jobtitle"], got["salesforcecontactid"]) == ("Contact", contact)
        assert (await crms.sf_get("Contact", contact))["HubSpot_Id__c"] == hs_id
        assert (await crms.sf_get("Lead", lead))["HubSpot_Id__c"] is None  # released
        # Converged: a new engine re-reads both records (look-back) and moves nothing.
        assert quiet(await sync_until_idle(settings))
        assert quiet(await sync_until_idle(settings))
        # A HubSpot edit meets the record the contact now follows (prefer_salesforce_unless_blank:
        # the Contact's value stands), and never the Lead.
        await crms.hs_update(hs_id, jobtitle="From HubSpot")
        await sync_until_idle(settings)
        assert (await crms.hs_get(hs_id, "jobtitle"))["jobtitle"] == "Contact"
        assert (await crms.sf_get("Lead", lead))["Title"] == "Lead"
        # The Lead edited later: it is now the most recently updated, and feeds the contact again
        # (HubSpot's warned-of back and forth between twins).
        await next_stamp()
        await crms.sf_update("Lead", lead, Title="Lead, edited last")
        await sync_until_idle(settings)
        assert (await crms.hs_get(hs_id, "jobtitle"))["jobtitle"] == "Lead, edited last"
        assert (await crms.sf_get("Lead", lead))["HubSpot_Id__c"] == hs_id
        assert (await crms.sf_get("Contact", contact))["HubSpot_Id__c"] is None
        assert quiet(await sync_until_idle(settings))
    assert len(await live_contacts(crms)) == 1
    assert len(await crms.sf_all("Contact")) == 1 and len(await crms.sf_all("Lead")) == 1
    async with await StateStore.open(tmp_path / "state.db") as store:
        assert await store.sync_errors() == []


async def test_a_twin_of_the_same_object_takes_the_link_without_a_duplicate_external_id(
    crms: Crms, tmp_path: Path
) -> None:
    """Two Contacts: HubSpot_Id__c is unique, so the move must release it before taking it."""
    settings = engine_settings(crms.ep, tmp_path / "state.db")
    with anyio.fail_after(120):
        await sync_until_idle(settings)
        hs_id, first = await linked_pair(crms, settings, "same@example.com")
        await next_stamp()
        second = await crms.sf_create("Contact", LastName="Pair", Email="same@example.com")
        await sync_until_idle(settings)
        assert (await crms.hs_get(hs_id, "salesforcecontactid"))["salesforcecontactid"] == second
        # No base on a new link: the twin's blank Title is filled from HubSpot, not cleared there.
        assert (await crms.sf_get("Contact", second))["Title"] == "Original"
        assert (await crms.hs_get(hs_id, "jobtitle"))["jobtitle"] == "Original"
        assert (await crms.sf_get("Contact", second))["HubSpot_Id__c"] == hs_id
        assert (await crms.sf_get("Contact", first))["HubSpot_Id__c"] is None
        assert quiet(await sync_until_idle(settings))
    assert len(await live_contacts(crms)) == 1
    async with await StateStore.open(tmp_path / "state.db") as store:
        assert await store.sync_errors() == []


async def test_an_edit_after_the_contact_was_deleted_re_creates_it_but_a_redelivery_does_not(
    crms: Crms, tmp_path: Path
) -> None:
    settings = engine_settings(crms.ep, tmp_path / "state.db")
    with anyio.fail_after(120):
        await sync_until_idle(settings)
        hs_id, contact = await linked_pair(crms, settings, "ghost@example.com")
        await crms.hs_delete(hs_id)
        # Unchanged record re-read by each new engine's look-back: no contact comes back.
        for _ in range(2):
            assert quiet(await sync_until_idle(settings))
        assert await live_contacts(crms) == []
        await crms.sf_update("Contact", contact, Title="Edited after the delete")
        await sync_until_idle(settings)
        (again,) = await live_contacts(crms)
        new_id = str(again["id"])
        assert new_id != hs_id
        got = await crms.hs_get(new_id, "email", "jobtitle", "salesforcecontactid")
        assert got == {
            "email": "ghost@example.com",
            "jobtitle": "Edited after the delete",
            "salesforcecontactid": contact,
        } | {k: v for k, v in got.items() if k not in ("email", "jobtitle", "salesforcecontactid")}
        assert (await crms.sf_get("Contact", contact))["HubSpot_Id__c"] == new_id
        assert quiet(await sync_until_idle(settings))
        # The re-created contact is a normal pair: a HubSpot edit meets the field rule
        # (prefer_salesforce_unless_blank: reverted to the Contact's value).
        await crms.hs_update(new_id, jobtitle="Back in HubSpot")
        await sync_until_idle(settings)
        assert (await crms.hs_get(new_id, "jobtitle"))["jobtitle"] == "Edited after the delete"
    assert len(await live_contacts(crms)) == 1


async def test_with_do_nothing_an_edit_after_the_delete_is_a_visible_error_once(
    crms: Crms, tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    settings = engine_settings(crms.ep, path, salesforce_to_hubspot="do_nothing")
    with anyio.fail_after(120):
        await sync_until_idle(settings)
        hs_id, contact = await linked_pair(crms, settings, "kept@example.com")
        await crms.hs_delete(hs_id)
        assert quiet(await sync_until_idle(settings))
        await crms.sf_update("Contact", contact, Title="Edited after the delete")
        summary = await sync_until_idle(settings)
        assert summary.errors == 1 and summary.created.hubspot == 0
        async with await StateStore.open(path) as store:
            (error,) = await store.sync_errors()
        assert (error.system, error.record_id, error.error_type) == ("salesforce", contact, "deleted")
        assert "do_nothing" in error.message
        # Redelivered by the next engines' look-back: not counted again, nothing made.
        assert quiet(await sync_until_idle(settings))
        assert quiet(await sync_until_idle(settings))
        # A newer edit is a newer change not synced: it says so again.
        await crms.sf_update("Contact", contact, Title="Edited again")
        assert (await sync_until_idle(settings)).errors == 1
    assert await live_contacts(crms) == []
