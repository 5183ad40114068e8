"""Issue 4 case 9: hostile values on either side, end to end through the engine and both mocks.

Valid values arrive byte for byte; invalid records become typed sync errors while the rest of the
run syncs; values are never spliced into SOQL (the email-match query finds exactly the right record).
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import msgspec
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from engine.mapping import FieldMapping
from engine.runtime import sync_until_idle
from engine.settings import Settings
from engine.store import StateStore
from engine.summary import Summary
from mockcrm.config import MockEndpoints
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings

# Each fits Salesforce's Title (128) and HubSpot's limits; together they cover SOQL quoting,
# LIKE wildcards, control characters, astral-plane and bidirectional text.
HOSTILE = [
    "O'Brien",
    'say "hi"',
    "back\\slash \\\\ and \\'",
    "' OR Name != '",
    "x' OR LastName LIKE '%",
    "100% of _under_scores",
    "line1\nline2\nline3",
    "tab\there",
    "nul\x00byte",
    "emoji 🦄 👩‍💻 🇯🇵",
    "עברית mixed \u202eRTL override\u202c العربية",
    "SELECT Id FROM Contact WHERE Email != null",
    "inner  double  spaces",
    "%",
    "_",
    "\\",
    "'",
]

# The engine's canonical string form (SPEC §3.2, engine/canonical.py) trims surrounding whitespace
# and turns CRLF into LF, so that formatting never looks like a change; these are the only values
# that do not arrive byte for byte, and they arrive in exactly this form.
NORMALIZED = {"  padded  ": "padded", "line1\r\nline2": "line1\nline2", "\ttabbed\n": "tabbed"}
EXPECTED = {v: v for v in HOSTILE} | NORMALIZED

ROTATED = [*list(EXPECTED)[1:], *list(EXPECTED)[:1]]
"""Each record's edit: the next hostile value in the list."""


def canonical(text: str) -> str | None:
    """The documented canonical string form, written out independently of the engine's code."""
    return text.strip().replace("\r\n", "\n") or None


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config()) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


async def sync(settings: Settings) -> Summary:
    with anyio.fail_after(60):
        return await sync_until_idle(settings)


async def errors_by_record(path: Path) -> dict[str, tuple[str, str]]:
    async with await StateStore.open(path) as store:
        return {e.record_id: (e.error_type, e.message) for e in await store.sync_errors()}


async def sf_by_hubspot_id(crms: Crms) -> dict[str, dict[str, Any]]:
    return {c["HubSpot_Id__c"]: c for c in await crms.sf_all("Contact") if c.get("HubSpot_Id__c")}


TWO_WAY_TEXT = msgspec.convert(
    [
        {"hubspot": "email", "salesforce": "Email", "rule": "two_way", "kind": "email"},
        {"hubspot": "lastname", "salesforce": "LastName"},
        {"hubspot": "jobtitle", "salesforce": "Title", "rule": "two_way"},
        {"hubspot": "address", "salesforce": "MailingStreet", "rule": "two_way"},
    ],
    list[FieldMapping],
)


async def test_hostile_text_from_hubspot_arrives_byte_for_byte(crms: Crms, tmp_path: Path) -> None:
    """Creates, then edits (a different hostile value each) through the update path."""
    settings = engine_settings(crms.ep, tmp_path / "state.db", fields=TWO_WAY_TEXT)
    await sync(settings)
    ids = {}
    for i, value in enumerate(EXPECTED):
        ids[
            await crms.hs_create(email=f"h{i}@example.com", lastname=f"L{i}", jobtitle=value, address=value)
        ] = EXPECTED[value]
    summary = await sync(settings)
    assert summary.errors == 0, await errors_by_record(tmp_path / "state.db")
    got = await sf_by_hubspot_id(crms)
    assert {hs_id: (got[hs_id]["Title"], got[hs_id]["MailingStreet"]) for hs_id in ids} == {
        hs_id: (value, value) for hs_id, value in ids.items()
    }

    shifted = dict(zip(ids, ROTATED, strict=True))
    for hs_id, value in shifted.items():
        await crms.hs_update(hs_id, jobtitle=value, address=value[::-1])
    summary = await sync(settings)
    assert summary.errors == 0, await errors_by_record(tmp_path / "state.db")
    got = await sf_by_hubspot_id(crms)
    assert {hs_id: (got[hs_id]["Title"], got[hs_id]["MailingStreet"]) for hs_id in ids} == {
        hs_id: (canonical(value), canonical(value[::-1])) for hs_id, value in shifted.items()
    }


async def test_hostile_text_from_salesforce_arrives_byte_for_byte(crms: Crms, tmp_path: Path) -> None:
    settings = engine_settings(crms.ep, tmp_path / "state.db")
    await sync(settings)
    ids = {}
    for i, value in enumerate(EXPECTED):
        ids[await crms.sf_create("Contact", Email=f"s{i}@example.com", LastName=value, Title=value)] = (
            EXPECTED[value]
        )
    summary = await sync(settings)
    assert summary.errors == 0, await errors_by_record(tmp_path / "state.db")
    got = {h["properties"]["salesforcecontactid"]: h["properties"] for h in await crms.hs_all()}
    assert {sf_id: (got[sf_id]["lastname"], got[sf_id]["jobtitle"]) for sf_id in ids} == {
        sf_id: (value, value) for sf_id, value in ids.items()
    }

    shifted = dict(zip(ids, ROTATED, strict=True))
    for sf_id, value in shifted.items():
        await crms.sf_update("Contact", sf_id, Title=value)
    summary = await sync(settings)
    assert summary.errors == 0, await errors_by_record(tmp_path / "state.db")
    got = {h["properties"]["salesforcecontactid"]: h["properties"] for h in await crms.hs_all()}
    assert {sf_id: got[sf_id]["jobtitle"] for sf_id in ids} == {
        sf_id: EXPECTED[value] for sf_id, value in shifted.items()
    }


async def test_email_match_query_finds_exactly_the_right_record(crms: Crms, tmp_path: Path) -> None:
    """Quotes and LIKE wildcards in an email: matched literally, to the one right Contact."""
    emails = ["o'brien@example.com", "a_b@example.com", "a%b@example.com", "x'or'1'='1@example.com"]
    decoys = ["obrien@example.com", "axb@example.com", "a12345b@example.com", "x@example.com"]
    right = {
        e: await crms.sf_create("Contact", LastName="Right", Email=e, Title=f"right {e}") for e in emails
    }
    for d in decoys:
        await crms.sf_create("Contact", LastName="Decoy", Email=d, Title="decoy")
    settings = engine_settings(crms.ep, tmp_path / "state.db")
    await sync(settings)
    hs = {e: await crms.hs_create(email=e, lastname="Right") for e in emails}
    summary = await sync(settings)
    assert summary.created.salesforce == 0 and summary.errors == 0
    for e in emails:
        got = await crms.hs_get(hs[e], "salesforcecontactid", "jobtitle")
        assert (got["salesforcecontactid"], got["jobtitle"]) == (right[e], f"right {e}")
    contacts = await crms.sf_all("Contact")
    assert len(contacts) == len(emails) + len(decoys)
    assert {c["Email"] for c in contacts if c.get("HubSpot_Id__c")} == set(emails)


async def test_hubspot_email_match_finds_exactly_the_right_contact(crms: Crms, tmp_path: Path) -> None:
    """The other direction: a Salesforce Contact whose email holds quotes and wildcards finds its
    existing HubSpot contact (and only that one) instead of creating a second."""
    emails = ["o'brien@example.com", "a_b@example.com", "a%b@example.com", "x'or'1'='1@example.com"]
    decoys = ["obrien@example.com", "axb@example.com", "a12345b@example.com", "x@example.com"]
    hs = {e: await crms.hs_create(email=e, lastname="Right") for e in emails}
    for d in decoys:
        await crms.hs_create(email=d, lastname="Decoy")
    settings = engine_settings(crms.ep, tmp_path / "state.db")
    await sync(settings)
    sf = {e: await crms.sf_create("Contact", LastName="Right", Email=e, Title=f"right {e}") for e in emails}
    summary = await sync(settings)
    assert summary.created.hubspot == 0 and summary.errors == 0
    everyone = await crms.hs_all()
    assert len(everyone) == len(emails) + len(decoys)
    linked = {h["id"]: h["properties"].get("salesforcecontactid") for h in everyone}
    assert {hs_id: sf_id for hs_id, sf_id in linked.items() if sf_id} == {hs[e]: sf[e] for e in emails}


async def test_invalid_records_become_typed_errors_and_the_rest_sync(crms: Crms, tmp_path: Path) -> None:
    async with crms.s.post(
        crms.ep.salesforce_url + "/__mock/rules",
        json={
            "validation_rules": [
                {
                    "sobject": "Contact",
                    "field": "Title",
                    "condition": "equals",
                    "value": "Forbidden Title",
                    "message": "Nobody may be called that",
                    "error_field": "Title",
                }
            ],
            "duplicate_rules": [{"sobject": "Contact", "fields": ["FirstName", "LastName"]}],
        },
        ssl=crms._ssl,
    ) as r:
        assert r.status == 200, await r.text()
    await crms.sf_create("Contact", FirstName="Dupe", LastName="Person", Email="first.dupe@example.com")
    path = tmp_path / "state.db"
    settings = engine_settings(crms.ep, path)
    await sync(settings)

    bad = {
        await crms.hs_create(email="rule@example.com", lastname="Rule", jobtitle="Forbidden Title"): (
            "validation",
            "Nobody may be called that",
        ),
        await crms.hs_create(email="second.dupe@example.com", firstname="Dupe", lastname="Person"): (
            "duplicate",
            "DUPLICATES_DETECTED",
        ),
        # Valid for HubSpot (a quoted local part), invalid for Salesforce.
        await crms.hs_create(email='"a\\\\b"@example.com', lastname="Quoted"): (
            "validation",
            "INVALID_EMAIL_ADDRESS",
        ),
        # 120 KB of UTF-8 (HubSpot holds up to 65,536 characters, so 100 KB+ only fits as multi-byte
        # text); Salesforce's Title holds 128.
        await crms.hs_create(email="long@example.com", lastname="Long", jobtitle="é" * 60_000): (
            "validation",
            "STRING_TOO_LONG",
        ),
    }
    good = {await crms.hs_create(email=f"good{i}@example.com", lastname=f"Good{i}") for i in range(5)}
    summary = await sync(settings)
    assert summary.errors == len(bad)
    assert set(await sf_by_hubspot_id(crms)) == good
    errors = await errors_by_record(path)
    assert set(errors) == set(bad)
    for hs_id, (error_type, needle) in bad.items():
        got_type, message = errors[hs_id]
        assert got_type == error_type and needle in message, (hs_id, errors[hs_id])
        assert len(message) < 1_000  # a clear message, not the 60 KB value echoed back


_examples = itertools.count()


@hsettings(max_examples=5)
@given(
    values=st.lists(
        st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=40),
        min_size=1,
        max_size=5,
    )
)
async def test_generated_text_round_trips_exactly(threaded_mocks: MockEndpoints, values: list[str]) -> None:
    """Any text a HubSpot free-text field holds arrives in Salesforce as its canonical form (the
    text itself, trimmed, CRLF as LF; blank as nothing). Each example is a real sync, with a fresh
    state file against the module's mocks (which start at "now", so earlier examples stay out)."""
    n = next(_examples)
    with tempfile.TemporaryDirectory() as tmp, anyio.fail_after(120):
        async with aiohttp.ClientSession() as session:
            crms = Crms(threaded_mocks, session)
            settings = engine_settings(threaded_mocks, Path(tmp) / "state.db")
            await sync(settings)
            ids = {}
            for i, value in enumerate(values):
                email = f"gen{n}.{i}@example.com"
                ids[await crms.hs_create(email=email, lastname="G", jobtitle=value)] = value
            summary = await sync(settings)
            assert summary.errors == 0, await errors_by_record(Path(tmp) / "state.db")
            got = await sf_by_hubspot_id(crms)
            assert {hs_id: got[hs_id].get("Title") for hs_id in ids} == {
                hs_id: canonical(value) for hs_id, value in ids.items()
            }


async def lead_mode(crms: Crms, tmp_path: Path) -> tuple[Settings, Path]:
    """Leads, with a HubSpot number property on an int field and lead status on a restricted picklist."""
    async with crms.s.post(
        crms.ep.hubspot_url + "/crm/v3/properties/contacts",
        json={
            "name": "headcount",
            "label": "Headcount",
            "type": "number",
            "fieldType": "number",
            "groupName": "contactinformation",
        },
        headers=crms._hs,
    ) as r:
        assert r.status == 201, await r.text()
    fields = msgspec.convert(
        [
            {"hubspot": "email", "salesforce": "Email", "rule": "two_way", "kind": "email"},
            {"hubspot": "lastname", "salesforce": "LastName"},
            {"hubspot": "company", "salesforce": "Company"},
            {"hubspot": "headcount", "salesforce": "NumberOfEmployees", "rule": "two_way", "kind": "number"},
            {
                "hubspot": "hs_lead_status",
                "salesforce": "Status",
                "rule": "two_way",
                "kind": "enumeration",
                "values": {"OPEN": "Open - Not Contacted", "CONNECTED": "Working - Contacted"},
            },
        ],
        list[FieldMapping],
    )
    path = tmp_path / "state.db"
    settings = engine_settings(crms.ep, path, create_in_salesforce_as="Lead", fields=fields)
    await sync(settings)
    return settings, path


def person(i: int, **props: str) -> dict[str, str]:
    return {"email": f"n{i}@example.com", "lastname": f"N{i}", "company": "Acme", **props}


async def test_numbers_as_text_picklists_and_wrong_types_in_lead_mode(crms: Crms, tmp_path: Path) -> None:
    """A HubSpot number property holds text that HubSpot accepts as a number: it arrives in a
    Salesforce int field as that number. A value outside a restricted picklist (and outside the
    mapping's value table) becomes a typed error while the other records sync."""
    settings, path = await lead_mode(crms, tmp_path)

    good = {
        await crms.hs_create(**person(0, headcount="42")): 42,
        await crms.hs_create(**person(1, headcount=" 0042 ")): 42,
        await crms.hs_create(**person(2, headcount="1e3")): 1000,
        await crms.hs_create(**person(3, headcount="-7")): -7,
        await crms.hs_create(**person(4, hs_lead_status="CONNECTED")): None,
    }
    bad = {
        await crms.hs_create(**person(6, hs_lead_status="NEW")): (
            "invalid_value",
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        ),
    }
    summary = await sync(settings)
    errors = await errors_by_record(path)
    leads = {lead["HubSpot_Id__c"]: lead for lead in await crms.sf_all("Lead")}
    assert {hs_id: leads[hs_id].get("NumberOfEmployees") for hs_id in good} == good, errors
    assert set(leads) == set(good)
    assert leads[next(reversed(good))]["Status"] == "Working - Contacted"
    assert set(errors) == set(bad) and summary.errors == len(bad)
    for hs_id, (error_type, needle) in bad.items():
        assert errors[hs_id][0] == error_type and needle in errors[hs_id][1], errors[hs_id]


async def test_salesforce_values_hubspot_refuses_become_typed_errors(crms: Crms, tmp_path: Path) -> None:
    """The other direction: a Salesforce Lead whose status has no HubSpot option (and no entry in
    the value table) becomes a typed error on that Lead; the other Leads reach HubSpot."""
    settings, path = await lead_mode(crms, tmp_path)
    refused = await crms.sf_create(
        "Lead",
        LastName="Refused",
        Company="Acme",
        Email="refused@example.com",
        Status="Closed - Not Converted",
    )
    fine = {
        await crms.sf_create(
            "Lead", LastName=f"Fine{i}", Company="Acme", Email=f"fine{i}@example.com", NumberOfEmployees=i
        ): i
        for i in range(1, 4)
    }
    summary = await sync(settings)
    errors = await errors_by_record(path)
    assert set(errors) == {refused} and summary.errors == 1, errors
    error_type, message = errors[refused]
    assert error_type == "invalid_value" and "hs_lead_status" in message, errors[refused]
    got = {h["properties"].get("salesforceleadid"): h["properties"] for h in await crms.hs_all()}
    assert {sf_id: (got[sf_id]["headcount"], got[sf_id]["hs_lead_status"]) for sf_id in fine} == {
        sf_id: (str(n), "OPEN") for sf_id, n in fine.items()
    }
    assert refused not in got


async def test_number_out_of_the_fields_range_is_a_typed_error(crms: Crms, tmp_path: Path) -> None:
    settings, path = await lead_mode(crms, tmp_path)
    huge = await crms.hs_create(**person(0, headcount="1e20", hs_lead_status="OPEN"))
    fine = await crms.hs_create(**person(1, headcount="12", hs_lead_status="OPEN"))
    await sync(settings)
    leads = {lead["HubSpot_Id__c"]: lead for lead in await crms.sf_all("Lead")}
    assert set(leads) == {fine}
    errors = await errors_by_record(path)
    assert set(errors) == {huge} and errors[huge][0] == "invalid_value", errors
