"""Issue 4, case 6, end to end: cursor edges the change streams must survive.

- one identical modification time across page boundaries: HubSpot here (hundreds of contacts in one
  millisecond, as a bulk import stamps them); Salesforce's whole-second stamps across 2,000-row
  pages are in test_e2e_volume;
- late-visible records: a record that appears with a stamp older than the cursor already is (a
  transaction that committed late), made with the mock's clock set back for one write;
- records modified while the pages are read: the mocks' workload generator edits and creates on both
  sides while the engine pages through a large window; every record's final version must arrive.
(> 10,000 changes in one window: test_e2e_volume.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from aiohttp import web

from engine.hubspot import SEARCH_PAGE
from engine.mapping import FieldKind, FieldMapping, SyncRule
from engine.settings import Settings
from mockcrm.hubspot import MOCK_KEY
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings
from tests.test_faults import LIFTED, assert_no_sync_errors, lifted, sync


class Mocks:
    def __init__(self, crms: Crms, hs_app: web.Application) -> None:
        self.crms = crms
        self.hs_app = hs_app


@pytest.fixture
async def mocks() -> AsyncIterator[Mocks]:
    async with running_mocks(mock_config(**LIFTED)) as (ep, hs_app, _), aiohttp.ClientSession() as session:
        yield Mocks(Crms(ep, session), hs_app)


def two_way(crms: Crms, state: Path) -> Settings:
    fields = [
        FieldMapping("email", "Email", SyncRule.TWO_WAY, FieldKind.EMAIL),
        FieldMapping("firstname", "FirstName", SyncRule.TWO_WAY),
        FieldMapping("lastname", "LastName", SyncRule.TWO_WAY),
        FieldMapping("jobtitle", "Title", SyncRule.TWO_WAY),
    ]
    return lifted(engine_settings(crms.ep, state, fields=fields))


async def set_clock(crms: Crms, system: str, offset_s: float) -> None:
    url = crms.ep.hubspot_url if system == "hubspot" else crms.ep.salesforce_url
    async with crms.s.post(url + "/__mock/clock", json={"offset_s": offset_s}, ssl=crms._ssl) as r:
        assert r.status == 200, await r.text()


async def assert_linked_once(crms: Crms, emails: set[str]) -> None:
    """Each email once on each side, the two records linked both ways."""
    hs = [h for h in await crms.hs_all() if not h.get("archived")]
    sf = await crms.sf_all("Contact")
    hs_by_email = Counter(str(h["properties"].get("email") or "").lower() for h in hs)
    sf_by_email = Counter(str(c.get("Email") or "").lower() for c in sf)
    assert {e: hs_by_email[e] for e in emails} == dict.fromkeys(emails, 1)
    assert {e: sf_by_email[e] for e in emails} == dict.fromkeys(emails, 1)
    sf_ids = {str(c["Email"]).lower(): (c["Id"], c.get("HubSpot_Id__c")) for c in sf if c.get("Email")}
    for h in hs:
        email = str(h["properties"].get("email") or "").lower()
        if email in emails:
            assert sf_ids[email] == (h["properties"].get("salesforcecontactid"), h["id"]), email


async def test_hundreds_of_hubspot_contacts_in_one_millisecond_across_pages(
    mocks: Mocks, tmp_path: Path
) -> None:
    crms = mocks.crms
    state = tmp_path / "s.db"
    settings = two_way(crms, state)
    await sync(settings)
    mock = mocks.hs_app[MOCK_KEY]
    otype = mock.portal.schema.find("contacts")
    assert otype is not None
    stamp = mock.clock.now_ms() + 5
    emails: set[str] = set()
    # 2.5 pages in one millisecond, with neighbours a millisecond either side.
    for ms, count, tag in (
        (stamp - 1, 30, "before"),
        (stamp, 5 * SEARCH_PAGE // 2, "same"),
        (stamp + 1, 30, "after"),
    ):
        for i in range(count):
            email = f"{tag}{i}@example.com"
            mock.portal.create(otype, {"email": email, "firstname": tag, "lastname": f"L{i}"}, ms=ms)
            emails.add(email)
    same = [
        h
        for h in await crms.hs_all()
        if h["properties"].get("lastmodifieddate") == h["properties"].get("createdate")
    ]
    assert (
        Counter(h["properties"]["lastmodifieddate"] for h in same).most_common(1)[0][1]
        == 5 * SEARCH_PAGE // 2
    )
    summary = await sync(settings)
    assert summary.errors == 0
    assert summary.created.salesforce == len(emails) == 60 + 5 * SEARCH_PAGE // 2
    await assert_linked_once(crms, emails)
    await assert_no_sync_errors(state)


@pytest.mark.parametrize("system", ["hubspot", "salesforce"])
async def test_a_record_that_becomes_visible_behind_the_cursor_is_synced(
    mocks: Mocks, tmp_path: Path, system: str
) -> None:
    crms = mocks.crms
    state = tmp_path / "s.db"
    settings = two_way(crms, state)
    await sync(settings)

    async def create(tag: str) -> None:
        if system == "hubspot":
            await crms.hs_create(email=f"{tag}@example.com", lastname=tag)
        else:
            await crms.sf_create("Contact", LastName=tag, Email=f"{tag}@example.com")

    await create("first")
    await anyio.sleep(1.1)  # a second apart, so Salesforce's whole-second stamps differ too
    await create("second")
    summary = await sync(settings)  # the cursor now stands at "second"
    assert summary.created.hubspot + summary.created.salesforce == 2
    # A record stamped 20 s before the cursor appears only now (committed late): inside the look-back.
    await set_clock(crms, system, -20)
    await create("late")
    await set_clock(crms, system, 0)
    late = await sync(settings)
    assert late.created.hubspot + late.created.salesforce == 1
    await assert_linked_once(crms, {"first@example.com", "second@example.com", "late@example.com"})
    # And it is not delivered again (the next run's look-back sees it, and its echo, as synced).
    quiet = await sync(settings)
    assert quiet.synced == quiet.created.hubspot == quiet.created.salesforce == 0
    await assert_no_sync_errors(state)


async def workload(
    crms: Crms, system: str, method: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    url = crms.ep.hubspot_url if system == "hubspot" else crms.ep.salesforce_url
    async with crms.s.request(method, url + "/__mock/workload", json=body, ssl=crms._ssl) as r:
        assert r.status == 200, await r.text()
        return dict(await r.json())


def text(value: object) -> str | None:
    return str(value).strip() or None if value is not None else None


async def test_records_edited_while_the_engine_pages_through_a_large_window(
    mocks: Mocks, tmp_path: Path
) -> None:
    crms = mocks.crms
    state = tmp_path / "s.db"
    settings = two_way(crms, state)
    await sync(settings)
    for system, body in (
        ("hubspot", {"object_type": "contacts", "count": 1_500, "seed": 21}),
        ("salesforce", {"sobject": "Contact", "count": 1_500, "seed": 22}),
    ):
        url = crms.ep.hubspot_url if system == "hubspot" else crms.ep.salesforce_url
        async with crms.s.post(url + "/__mock/seed", json=body, ssl=crms._ssl) as r:
            assert r.status == 200, await r.text()
    # Edits and creates on both sides, starting as the engine starts reading the 3,000 new records.
    for system, object_type, seed in (("hubspot", "contacts", 31), ("salesforce", "Contact", 32)):
        spec = {
            "object_type": object_type,
            "rate_per_s": 150,
            "duration_s": 4,
            "create": 0.2,
            "update": 0.8,
            "delete": 0,
            "seed": seed,
        }
        await workload(crms, system, "POST", spec)
    summary = await sync(settings)
    assert summary.errors == 0
    statuses = [await workload(crms, system, "GET") for system in ("hubspot", "salesforce")]
    with anyio.fail_after(30):  # the engine may be quicker than the workload
        while any(s["running"] for s in statuses):
            await anyio.sleep(0.2)
            statuses = [await workload(crms, system, "GET") for system in ("hubspot", "salesforce")]
    assert all(sum(s["done"].values()) > 100 and s["errors"] == 0 for s in statuses), statuses
    # "Idle" is a moment: edits made during the engine's last pass, after it had read their stream,
    # are the next run's. So one more run once the workload has stopped; everything must be there.
    summary = await sync(settings)
    assert summary.errors == 0

    # Every record's final version is on the other side: compare the mocks' records field by field.
    hs = [h for h in await crms.hs_all() if not h.get("archived")]
    sf = await crms.sf_all("Contact")
    sf_by_id = {c["Id"]: c for c in sf}
    assert len(sf) >= 1_500 + 150
    unlinked = []
    for h in hs:
        p = h["properties"]
        if not text(p.get("email")):
            continue  # no email: never synced to Salesforce (R-ELIG-1)
        c = sf_by_id.get(p.get("salesforcecontactid") or "")
        if c is None:
            unlinked.append(h["id"])
            continue
        assert c.get("HubSpot_Id__c") == h["id"]
        hs_values = (
            str(p["email"]).lower(),
            text(p.get("firstname")),
            text(p.get("lastname")),
            text(p.get("jobtitle")),
        )
        sf_values = (
            str(c["Email"]).lower(),
            text(c.get("FirstName")),
            text(c.get("LastName")),
            text(c.get("Title")),
        )
        assert hs_values == sf_values, h["id"]
    assert unlinked == []
    linked = {h["properties"].get("salesforcecontactid") for h in hs}
    assert [c["Id"] for c in sf if c["Id"] not in linked] == []
    await assert_no_sync_errors(state)
