"""A Contact we create in Salesforce without an owner is owned by the API user (UserInfo): that owner
goes into the bases we commit, and to HubSpot with the create's own write, so the create's echo
agrees with the pair at once — no HubSpot read by id, no Salesforce re-read, in a backfill that only
creates in Salesforce. Owners still end as the echo's full path used to leave them (R-OWN-3/4)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import msgspec
import pytest

from actors.contact_values import ContactValues
from actors.owners import OwnerDirectory
from engine.budget import Budget
from engine.http import HttpClient, make_session
from engine.mapping import default_contact_mappings
from engine.salesforce import SalesforceClient, SalesforcePolicy
from engine.store import StateStore
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings, hs_owner_id, sf_owner_emails
from tests.test_echo import delta
from tests.test_faults import LIFTED, assert_no_sync_errors, lifted, sync

API_USER = "integration@crmsync.mock"
"""The mock Salesforce's API user: the first of its seeded users."""


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config(**LIFTED)) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


async def userinfo(crms: Crms, token: str) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"}
    url = crms.ep.salesforce_url + "/services/oauth2/userinfo"
    async with crms.s.get(url, headers=headers, ssl=crms._ssl) as r:
        return r.status, await r.read()


async def test_userinfo_names_the_owner_of_what_the_api_creates(crms: Crms) -> None:
    status, body = await userinfo(crms, crms.ep.salesforce_token)
    assert status == 200
    info = msgspec.json.decode(body)
    sf_id = await crms.sf_create("Contact", LastName="Owned", Email="owned@example.com")
    record = await crms.sf_get("Contact", sf_id)
    assert record["OwnerId"] == info["user_id"]
    assert info["email"] == API_USER
    assert info["organization_id"] in info["sub"] and info["sub"].endswith("/" + info["user_id"])
    status, body = await userinfo(crms, "not-a-token")
    assert (status, body) == (403, b"Bad_OAuth_Token")


async def test_the_engine_asks_userinfo_and_does_without_it_when_refused(crms: Crms, tmp_path: Path) -> None:
    users = {email: user_id for user_id, email in (await sf_owner_emails(crms)).items()}
    async with await StateStore.open(tmp_path / "s.db") as store, make_session(2, crms.ep.ca_file) as session:
        found = []
        for token in (crms.ep.salesforce_token, "not-a-token"):
            budget = Budget("salesforce", 1000, store)
            http = HttpClient(
                "salesforce", crms.ep.salesforce_url, token, budget, session, SalesforcePolicy()
            )
            found.append(await SalesforceClient(http, "59.0").api_user())
    assert found == [users[API_USER], None]


async def test_contacts_created_in_salesforce_echo_without_a_read(crms: Crms, tmp_path: Path) -> None:
    """HubSpot contacts with no owner, an owner with no Salesforce user (held, R-OWN-3) and one
    with an active Salesforce user; the API user has a HubSpot owner of its email."""
    async with crms.s.post(
        crms.ep.hubspot_url + "/__mock/owners",
        json={"firstName": "Integration", "lastName": "User", "email": API_USER},
    ) as r:
        assert r.status == 201, await r.text()
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    await sync(settings)
    priya = await hs_owner_id(crms, "priya.raman@crmsync.mock")
    alex = await hs_owner_id(crms, "alex.admin@crmsync.mock")
    owners = {f"none{i}@example.com": "" for i in range(30)}
    owners |= {f"held{i}@example.com": priya for i in range(10)}
    owners |= {f"alex{i}@example.com": alex for i in range(10)}
    for i, (email, owner) in enumerate(owners.items()):
        props = {"email": email, "lastname": f"L{i}"} | ({"hubspot_owner_id": owner} if owner else {})
        await crms.hs_create(**props)
    hs0, sf0 = await crms.calls()
    summary = await sync(settings)
    hs1, sf1 = await crms.calls()
    assert summary.errors == 0 and summary.created.salesforce == len(owners)
    calls: Counter[str] = delta(hs0, hs1) + delta(sf0, sf1)
    # Before: every created record's echo disagreed on its owner and read its HubSpot contact.
    assert calls["POST /crm/v3/objects/{objectType}/batch/read"] == 0, calls
    assert calls["GET /services/data/v{version}/composite/sobjects/{sobject}"] == 0, calls
    await assert_no_sync_errors(tmp_path / "s.db")

    # The owners are what the echo's full path made of them: Salesforce's API user, sent to
    # HubSpot over a blank or unmatched owner; Alex (an active user) kept on both sides.
    user_email = await sf_owner_emails(crms)
    integration = await hs_owner_id(crms, API_USER)
    by_email = {str(c["properties"]["email"]): c for c in await crms.hs_all()}
    sf_by_email = {str(r["Email"]): r for r in await crms.sf_all("Contact")}
    for email, owner in owners.items():
        expected = "alex.admin@crmsync.mock" if owner == alex else API_USER
        assert user_email[sf_by_email[email]["OwnerId"]] == expected, email
        hs_owner = by_email[email]["properties"].get("hubspot_owner_id")
        assert hs_owner == (alex if owner == alex else integration), email
    async with await StateStore.open(tmp_path / "s.db") as store:
        hs_ids = [str(c["id"]) for c in by_email.values()]
        links = await store.links_by_hubspot("contacts", hs_ids)
    owner_key = next(m.key for m in default_contact_mappings() if m.salesforce == "OwnerId")
    assert {link.bases[owner_key] for link in links.values()} == {API_USER, "alex.admin@crmsync.mock"}

    # Nothing left to move: a further run reads and writes no record.
    hs2, sf2 = await crms.calls()
    again = await sync(settings)
    hs3, sf3 = await crms.calls()
    assert again.synced == 0
    moved = delta(hs2, hs3) + delta(sf2, sf3)
    assert not [e for e in moved if "batch" in e or "composite/sobjects" in e], moved
    # Each Salesforce poll's first reads are one /composite call (actors/poll_round.py), as each
    # HubSpot poll is one search; an email match would be a /composite call beyond those.
    polls = moved["POST /crm/v3/objects/{objectType}/search"]
    assert 1 <= moved["POST /services/data/v{version}/composite"] <= polls, moved


def test_default_owner_round_trips_as_the_mapping_translates_it() -> None:
    mappings = {t: default_contact_mappings(t) for t in ("Contact", "Lead")}
    owners = OwnerDirectory.build(
        [("77", "Integration@CRMsync.mock")],
        [("005000000000001AAA", " Integration@CRMsync.mock ", True)],
        api_user="005000000000001AAA",
    )
    values = ContactValues(mappings, owners, "HubSpot_Id__c")
    key = next(m.key for m in mappings["Contact"] if m.salesforce == "OwnerId")
    writes, bases = values.default_owner("Contact", {"LastName": "X"}, {"hubspot_owner_id": None})
    assert (writes, bases) == ({"hubspot_owner_id": API_USER}, {key: API_USER})
    assert owners.hubspot_ids(dict(writes), values.owner_fields) == {"hubspot_owner_id": "77"}
    # What the echo brings back then agrees: Salesforce's OwnerId, HubSpot's owner id.
    sf = values.salesforce_record("Contact", {"OwnerId": "005000000000001"}).values
    assert sf["OwnerId"] == bases[key]
    assert values.hubspot_record({"hubspot_owner_id": "77"}, 0).values["hubspot_owner_id"] == bases[key]
    # An owner we set ourselves stands; a Lead may meet an assignment rule; an unknown API user
    # predicts nothing.
    assert values.default_owner("Contact", {"OwnerId": "005x"}, {}) == ({}, {})
    assert values.default_owner("Lead", {}, {}) == ({}, {})
    unknown = ContactValues(mappings, OwnerDirectory.build([], [], api_user=None), "HubSpot_Id__c")
    assert unknown.default_owner("Contact", {}, {}) == ({}, {})
