"""Issue 4, case 5: after convergence, further runs make zero writes and only polling calls — and
the same scenario with echo suppression switched off (``CRMSYNC_ECHO_SUPPRESSION=off``) breaks it.

Calls are counted by the mocks themselves (``GET /__mock/stats``) per endpoint and classified:
polling (HubSpot search, Salesforce SOQL and the delete log) and start-up metadata (schema, owners,
users, the API user) are allowed; record reads by id and every write are not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest

from engine.mapping import FieldMapping
from engine.settings import Settings
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings
from tests.test_faults import LIFTED, advance_clock, assert_no_sync_errors, lifted, sync

PER_SIDE = 30


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config(**LIFTED)) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


def classify(endpoint: str) -> str:
    """``polling``, ``startup``, ``record_read`` or ``write`` for one ``METHOD route`` of the stats."""
    method, _, route = endpoint.partition(" ")
    if method == "POST" and route.endswith("/search"):
        return "polling"
    if method == "GET" and ("/query" in route or route.endswith(("/deleted", "/deleted/"))):
        return "polling"  # SOQL: the change streams (and the start-up users query)
    if method == "POST" and route.endswith("/composite"):
        return "polling"  # a Salesforce poll's first reads (or the email match's queries)
    startup = ("/properties", "/owners", "/describe", "/limits", "/oauth2/userinfo")
    if method == "GET" and any(p in route for p in startup):
        return "startup"
    if (method == "POST" and route.endswith("/batch/read")) or method == "GET":
        return "record_read"
    return "write"


def delta(before: dict[str, Any], after: dict[str, Any]) -> Counter[str]:
    out: Counter[str] = Counter()
    for endpoint, n in after["by_endpoint"].items():
        out[endpoint] += n - before["by_endpoint"].get(endpoint, 0)
    return +out


async def calls_of_one_run(crms: Crms, settings: Settings) -> tuple[Counter[str], Counter[str]]:
    """One further ``run --until-idle``: the calls it made per endpoint, and per class."""
    hs0, sf0 = await crms.calls()
    summary = await sync(settings)
    hs1, sf1 = await crms.calls()
    assert summary.errors == 0
    assert summary.created.hubspot == summary.created.salesforce == 0
    per_endpoint = delta(hs0, hs1) + delta(sf0, sf1)
    per_class: Counter[str] = Counter()
    for endpoint, n in per_endpoint.items():
        per_class[classify(endpoint)] += n
    return per_endpoint, per_class


async def converge(crms: Crms, settings: Settings) -> None:
    """New people on both sides, then edits on both sides (the default rules send Salesforce's
    values and revert HubSpot's edits of Salesforce-preferred fields): many writes, many echoes.
    In Lead mode the HubSpot people become Leads, and Salesforce edits Leads as well."""
    await sync(settings)
    hs_ids = [
        await crms.hs_create(
            email=f"h{i}@example.com", firstname="H", lastname=f"H{i}", jobtitle="T0", company="Acme"
        )
        for i in range(PER_SIDE)
    ]
    sf_ids = [
        await crms.sf_create("Contact", LastName=f"S{i}", Email=f"s{i}@example.com", Title="T0")
        for i in range(PER_SIDE)
    ]
    await sync(settings)
    for i, hs_id in enumerate(hs_ids):
        await crms.hs_update(hs_id, jobtitle=f"hs edit {i}", phone=f"+1 555 01{i:02d}")
    for i, sf_id in enumerate(sf_ids):
        await crms.sf_update("Contact", sf_id, Title=f"sf edit {i}", MobilePhone=f"+1 555 02{i:02d}")
    for i, lead in enumerate((await crms.sf_all("Lead"))[: PER_SIDE // 2]):
        await crms.sf_update("Lead", lead["Id"], Title=f"lead edit {i}", Phone=f"+1 555 03{i:02d}")
    edited = await sync(settings)
    assert edited.updated.hubspot + edited.updated.salesforce >= PER_SIDE


def with_echo(settings: Settings, value: str) -> Settings:
    return msgspec.structs.replace(
        settings, tuning=msgspec.structs.replace(settings.tuning, echo_suppression=value)
    )


@pytest.mark.parametrize("create_as", ["Contact", "Lead"])
async def test_converged_runs_make_zero_writes_and_only_polling_calls(
    crms: Crms, tmp_path: Path, create_as: str
) -> None:
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db", create_in_salesforce_as=create_as))
    await converge(crms, settings)
    if create_as == "Lead":
        assert len(await crms.sf_all("Lead")) == PER_SIDE
    # Two further runs, within the look-back window: every write of the converging run comes back
    # to a new process as a change, and must be recognised as our own.
    for _ in range(2):
        per_endpoint, per_class = await calls_of_one_run(crms, settings)
        assert per_class["write"] == per_class["record_read"] == 0, per_endpoint
        # A second pass happened: the first found changes (the echoes) and delivered them.
        assert per_endpoint["POST /crm/v3/objects/{objectType}/search"] >= 2, per_endpoint
    await assert_no_sync_errors(tmp_path / "s.db")


async def test_the_echo_condition_fails_with_echo_suppression_off(crms: Crms, tmp_path: Path) -> None:
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    await converge(crms, settings)
    off = with_echo(settings, "off")
    per_endpoint, per_class = await calls_of_one_run(crms, off)
    # Each of our writes, redelivered, now reads the other side: the echo test's condition breaks.
    assert per_class["record_read"] > 0, per_endpoint
    assert not (per_class["write"] == per_class["record_read"] == 0)
    # Switched back on, the same state file is quiet again.
    per_endpoint, per_class = await calls_of_one_run(crms, settings)
    assert per_class["write"] == per_class["record_read"] == 0, per_endpoint


HS_OWNERS = ["90000001", "90000002", "90000003", "90000004"]
"""The HubSpot mock's owners: the first two have a Salesforce user of the same email, the others none."""
SF_USERS = ["0054S0000000001QAA", "0054S0000000002QAA", "0054S0000000003QAA"]
"""The Salesforce mock's users: the first has no HubSpot owner."""
OWNER_EMAIL = {
    "90000001": "alex.admin@crmsync.mock",
    "90000002": "sam.sales@crmsync.mock",
    "90000003": "priya.raman@crmsync.mock",
    "90000004": "jordan.kim@crmsync.mock",
    "0054S0000000001": "integration@crmsync.mock",
    "0054S0000000002": "alex.admin@crmsync.mock",
    "0054S0000000003": "sam.sales@crmsync.mock",
}


async def owners_by_email(crms: Crms) -> dict[str, tuple[str | None, str | None]]:
    """Per email: the owner's email on each side (None = no owner)."""
    sf = {c["Email"].lower(): c for c in await crms.sf_all("Contact")}
    out: dict[str, tuple[str | None, str | None]] = {}
    for h in await crms.hs_all():
        email = h["properties"]["email"].lower()
        c = sf[email]
        out[email] = (
            OWNER_EMAIL.get(h["properties"].get("hubspot_owner_id") or ""),
            OWNER_EMAIL.get(str(c.get("OwnerId") or "")[:15]),
        )
    return out


async def test_owners_addresses_and_picklists_go_quiet_too(crms: Crms, tmp_path: Path) -> None:
    """The default mapping's harder kinds: owners (some with no counterpart on the other side),
    states and countries, a picklist. Once converged, further runs are polling only."""
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    await sync(settings)
    for i in range(12):
        await crms.hs_create(
            email=f"r.h{i}@example.com",
            lastname=f"H{i}",
            hubspot_owner_id=HS_OWNERS[i % 4],
            address=f"{i} Main St",
            city="Springfield",
            state="IL" if i % 2 else "Illinois",
            country="US" if i % 3 else "United States",
            zip="62701",
            leadsource="Web" if i % 2 else "",
        )
        await crms.sf_create(
            "Contact",
            LastName=f"S{i}",
            Email=f"r.s{i}@example.com",
            OwnerId=SF_USERS[i % 3],
            MailingStreet=f"{i} Side St",
            MailingCity="Portland",
            MailingState="OR" if i % 2 else "Oregon",
            MailingCountry="US" if i % 3 else "United States",
            LeadSource="Phone Inquiry" if i % 2 else None,
        )
    await sync(settings)
    # Owners moved on both sides, to owners with and without a counterpart.
    hs = [h for h in await crms.hs_all() if h["properties"]["email"].startswith("r.h")]
    for i, h in enumerate(hs):
        await crms.hs_update(h["id"], hubspot_owner_id=HS_OWNERS[(i + 1) % 4])
    sf = [c for c in await crms.sf_all("Contact") if c["Email"].startswith("r.s")]
    for i, c in enumerate(sf):
        await crms.sf_update("Contact", c["Id"], OwnerId=SF_USERS[(i + 1) % 3])
    await sync(settings)
    for _ in range(2):
        per_endpoint, per_class = await calls_of_one_run(crms, settings)
        assert per_class["write"] == per_class["record_read"] == 0, per_endpoint
    # Owners match by email (R-OWN-3): the same owner on both sides, or a Salesforce owner HubSpot
    # has no owner for and a blank HubSpot owner. Salesforce's moves stand; HubSpot's stand where
    # Salesforce has an active user of that email, and snap back to Salesforce's owner otherwise.
    owners = await owners_by_email(crms)
    hs_emails = {OWNER_EMAIL[o] for o in HS_OWNERS}
    for email, (hs_owner, sf_owner) in owners.items():
        assert hs_owner == sf_owner or (hs_owner is None and sf_owner not in hs_emails), (
            email,
            owners[email],
        )
    for i, c in enumerate(sf):
        assert owners[c["Email"].lower()][1] == OWNER_EMAIL[SF_USERS[(i + 1) % 3][:15]], c["Email"]
    for i, h in enumerate(hs):
        moved_to = OWNER_EMAIL[HS_OWNERS[(i + 1) % 4]]
        if moved_to in {OWNER_EMAIL[u[:15]] for u in SF_USERS}:
            assert owners[h["properties"]["email"]] == (moved_to, moved_to)
    await assert_no_sync_errors(tmp_path / "s.db")


TYPED_FIELDS = [
    {"hubspot": "email", "salesforce": "Email", "rule": "two_way"},
    {"hubspot": "lastname", "salesforce": "LastName", "rule": "two_way"},
    {"hubspot": "company", "salesforce": "Company", "rule": "two_way"},  # Lead only
    {"hubspot": "birthday", "salesforce": "Birthdate", "rule": "two_way"},  # Contact only
    {"hubspot": "donotcall", "salesforce": "DoNotCall", "rule": "two_way"},  # Contact only
    {"hubspot": "revenue", "salesforce": "AnnualRevenue", "rule": "two_way"},  # Lead only
    {"hubspot": "employees", "salesforce": "NumberOfEmployees", "rule": "two_way"},  # Lead only
]


async def add_property(crms: Crms, name: str, type_: str, field_type: str) -> None:
    body = {
        "name": name,
        "label": name,
        "type": type_,
        "fieldType": field_type,
        "groupName": "contactinformation",
    }
    await crms._hs_call("POST", "/crm/v3/properties/contacts", body)


async def test_dates_booleans_and_numbers_in_any_spelling_go_quiet(crms: Crms, tmp_path: Path) -> None:
    """Canonical values (SPEC 3.2): the same date, flag or number spelt differently on the two
    sides is no change, so after convergence nothing moves, in Contact and in Lead mode."""
    await add_property(crms, "birthday", "date", "date")
    await add_property(crms, "donotcall", "bool", "booleancheckbox")
    await add_property(crms, "revenue", "number", "number")
    await add_property(crms, "employees", "number", "number")
    fields = msgspec.convert(TYPED_FIELDS, list[FieldMapping])
    for create_as in ("Contact", "Lead"):
        state = tmp_path / f"{create_as}.db"
        settings = lifted(engine_settings(crms.ep, state, fields=fields, create_in_salesforce_as=create_as))
        await sync(settings)
        # A new state file starts at the newest existing record, and Salesforce stamps whole
        # seconds: a record made in that same second counts as existing (engine.runtime's
        # _newest_stamp). The Contact round's last writes may be in this second, so move on.
        for crm in ("hubspot", "salesforce"):
            await advance_clock(crms, crm, 2)
        tag = create_as.lower()
        for i, (birthday, flag, revenue) in enumerate(
            [("1990-05-17", "true", "1000"), ("632534400000", "false", "1000.0"), ("", "", "2.5e3")]
        ):
            await crms.hs_create(
                email=f"{tag}.h{i}@example.com",
                lastname=f"H{i}",
                company="Acme",
                birthday=birthday,
                donotcall=flag,
                revenue=revenue,
                employees=str(10 + i),
            )
        await crms.sf_create(
            "Contact", LastName="S0", Email=f"{tag}.s0@example.com", Birthdate="1985-01-02", DoNotCall=True
        )
        await crms.sf_create(
            "Lead",
            LastName="S1",
            Company="Initech",
            Email=f"{tag}.s1@example.com",
            AnnualRevenue=2_500_000,
            NumberOfEmployees=40,
        )
        await sync(settings)
        # Edits that change a value on one side, and re-spellings of the same value on the other.
        for h in await crms.hs_all():
            p = h["properties"]
            if p["email"] == f"{tag}.h0@example.com":
                await crms.hs_update(h["id"], revenue="1000.00", birthday="1990-05-17")  # same values
            if p["email"] == f"{tag}.s0@example.com":
                await crms.hs_update(h["id"], donotcall="false")  # a real change
            if p["email"] == f"{tag}.s1@example.com":
                await crms.hs_update(h["id"], employees="41")
        for c in await crms.sf_all("Contact"):
            if c["Email"] == f"{tag}.h1@example.com":
                await crms.sf_update("Contact", c["Id"], Birthdate="1990-01-15")
        edited = await sync(settings)
        assert edited.errors == 0
        sf = {r["Email"]: r for r in [*await crms.sf_all("Contact"), *await crms.sf_all("Lead")]}
        if create_as == "Contact":
            h0, h1 = sf[f"{tag}.h0@example.com"], sf[f"{tag}.h1@example.com"]
            assert (h0["Birthdate"], h0["DoNotCall"], h1["DoNotCall"]) == ("1990-05-17", True, False)
        else:
            h0, h2 = sf[f"{tag}.h0@example.com"], sf[f"{tag}.h2@example.com"]
            assert (h0["AnnualRevenue"], h2["AnnualRevenue"], h2["NumberOfEmployees"]) == (1000, 2500, 12)
        assert sf[f"{tag}.s0@example.com"]["DoNotCall"] is False
        assert sf[f"{tag}.s1@example.com"]["NumberOfEmployees"] == 41
        hs = {h["properties"]["email"]: h["properties"] for h in await crms.hs_all()}
        assert hs[f"{tag}.s0@example.com"]["birthday"] == "1985-01-02"
        assert float(hs[f"{tag}.s1@example.com"]["revenue"]) == 2_500_000
        for _ in range(2):
            per_endpoint, per_class = await calls_of_one_run(crms, settings)
            assert per_class["write"] == per_class["record_read"] == 0, (create_as, per_endpoint)
        await assert_no_sync_errors(state)


async def test_converted_leads_go_quiet(crms: Crms, tmp_path: Path) -> None:
    """Lead conversion moves the link to the new Contact (and writes both ids); after that, the
    converted Lead, the Contact and the HubSpot contact are all quiet."""
    state = tmp_path / "s.db"
    settings = lifted(engine_settings(crms.ep, state, create_in_salesforce_as="Lead"))
    await sync(settings)
    for i in range(6):
        await crms.hs_create(email=f"cv.h{i}@example.com", lastname=f"H{i}", company="Acme", jobtitle="T0")
    await sync(settings)
    leads = await crms.sf_all("Lead")
    assert len(leads) == 6
    for lead in leads[:4]:
        async with crms.s.post(
            crms.ep.salesforce_url + "/__mock/convert-lead", json={"lead_id": lead["Id"]}, ssl=crms._ssl
        ) as r:
            assert r.status == 200, await r.text()
    converted = await sync(settings)
    assert converted.errors == converted.created.hubspot == 0
    contacts = {c["Email"]: c for c in await crms.sf_all("Contact")}
    hs = {h["properties"]["email"]: h for h in await crms.hs_all()}
    assert len(contacts) == 4 and len(hs) == 6
    for email, c in contacts.items():
        assert c["HubSpot_Id__c"] == hs[email]["id"]
        assert hs[email]["properties"]["salesforcecontactid"] == c["Id"]
    for _ in range(2):
        per_endpoint, per_class = await calls_of_one_run(crms, settings)
        assert per_class["write"] == per_class["record_read"] == 0, per_endpoint
    await assert_no_sync_errors(state)
