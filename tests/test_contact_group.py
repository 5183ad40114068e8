"""A page's new records handled as one group (``actors/contact_group.py``): the same pairs as one
record at a time, in one wait per batch, and whatever is not the plain case goes the single way
beside the group — a record whose email lock someone holds, two of the page with one email, a
match that is linked already (R-ID-3), a HubSpot contact that carries its Salesforce id."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import anyio
import msgspec

from actors.sources import HubSpotSource, SalesforceSource
from actors.stream import Change
from engine.runtime import Engine, open_engine, run_until_idle
from tests.crms import Crms, engine_settings, wait_until
from tests.test_echo import delta
from tests.test_faults import assert_no_sync_errors, crms, lifted

__all__ = ["crms"]

UPSERT = "POST /crm/v3/objects/{objectType}/batch/upsert"


async def _page(engine: Engine, system: str) -> list[tuple[str, Change]]:
    """Everything one source has, as the stream would route it (links looked up with the page)."""
    io = engine.actor.io
    if system == "hubspot":
        changes, _ = await HubSpotSource(engine.hubspot, "contacts", io.hs_props).page(0, None)
    else:
        changes, _ = await SalesforceSource(engine.salesforce, "Contact", io.sf_fields["Contact"]).page(
            0, None
        )
    await engine.actor.prefetch(changes)
    return [(f"{c.system}:{c.record_id}", c) for c in changes]


async def test_new_records_of_a_page_pair_and_create_as_one_group(crms: Crms, tmp_path: Path) -> None:
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    for i in range(120):
        await crms.sf_create("Contact", LastName=f"S{i}", Email=f"s{i}@example.com", Title=f"T{i}")
    for i in range(30):  # on both sides already: paired by email
        await crms.hs_create(email=f"both{i}@example.com", lastname=f"B{i}", jobtitle="from hubspot")
        await crms.sf_create("Contact", LastName=f"B{i}", Email=f"both{i}@example.com")
    with anyio.fail_after(60):
        async with open_engine(settings, backfill=True) as engine:
            items = await _page(engine, "salesforce")
            assert len(items) == 150 and all(engine.actor.grouped(c) for _, c in items)
            hs0, _ = await crms.calls()
            outcomes = await engine.actor.handle_group(items)
            hs1, _ = await crms.calls()
            assert outcomes == [None] * 150
            assert engine.summary.created.hubspot == 120 and engine.summary.errors == 0
            # 120 creates in two upserts of up to 100: the group's records share their batches.
            assert delta(hs0, hs1)[UPSERT] == 2
            linked = await engine.store.links_by_salesforce("contacts", [c.record_id for _, c in items])
            assert len(linked) == 150 and all(link.hubspot_id for link in linked.values())
            # A run after it finds the pairs agreed: nothing more to create or write.
            before = msgspec.json.encode(engine.summary.created)
            await run_until_idle(engine)
            assert msgspec.json.encode(engine.summary.created) == before
    await assert_no_sync_errors(tmp_path / "s.db")
    contacts = await crms.hs_all()
    assert len(contacts) == 150
    by_email = {str(c["properties"]["email"]): c["properties"] for c in contacts}
    assert by_email["both7@example.com"]["jobtitle"] == "from hubspot"  # linked, not created again
    assert by_email["s7@example.com"]["jobtitle"] == "T7"


async def test_what_is_not_the_plain_case_goes_the_single_way(crms: Crms, tmp_path: Path) -> None:
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    # One email on two Salesforce records of the page: one contact, not two (SPEC §2, R-ID-3).
    twin_a = await crms.sf_create("Contact", LastName="TwinA", Email="twin@example.com")
    twin_b = await crms.sf_create("Contact", LastName="TwinB", Email="twin@example.com")
    locked = await crms.sf_create("Contact", LastName="Locked", Email="locked@example.com")
    plain = await crms.sf_create("Contact", LastName="Plain", Email="plain@example.com")
    no_email = await crms.sf_create("Contact", LastName="NoEmail")
    with anyio.fail_after(60):
        async with open_engine(settings, backfill=True) as engine:
            actor = engine.actor
            items = await _page(engine, "salesforce")
            assert actor.locks.try_hold("email:locked@example.com")  # someone else pairs it now
            async with anyio.create_task_group() as tg:
                outcome: list[object] = []

                async def run() -> None:
                    outcome.extend(await actor.handle_group(items))

                tg.start_soon(run)

                async def plain_linked() -> bool:
                    return actor.io.store.links.by_salesforce("contacts", plain) is not None

                await wait_until(plain_linked, timeout_s=20)
                # The group's own records are done; the locked one waits for its lock alone.
                assert actor.io.store.links.by_salesforce("contacts", locked) is None
                actor.locks.release("email:locked@example.com")
            assert outcome == [None] * len(items)
            links = await engine.store.links_by_salesforce(
                "contacts", [twin_a, twin_b, locked, plain, no_email]
            )
            assert engine.summary.errors == 0
    contacts = await crms.hs_all()
    emails = Counter(str(c["properties"].get("email")) for c in contacts)
    assert emails["twin@example.com"] == 1 and emails["locked@example.com"] == 1
    assert emails["plain@example.com"] == 1
    twin_contact = next(c["id"] for c in contacts if c["properties"].get("email") == "twin@example.com")
    # One of the twins feeds the contact (R-ID-3); the record without email made one of its own.
    assert [link.hubspot_id for sf_id, link in links.items() if sf_id in (twin_a, twin_b)].count(
        twin_contact
    ) >= 1
    assert links[no_email].hubspot_id is not None and links[locked].hubspot_id is not None


async def test_hubspot_contacts_pair_with_salesforce_by_email_as_a_group(crms: Crms, tmp_path: Path) -> None:
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    lead = await crms.sf_create("Lead", LastName="L", Company="Co", Email="lead@example.com")
    contact = await crms.sf_create("Contact", LastName="C", Email="both@example.com")
    await crms.sf_create("Lead", LastName="L2", Company="Co", Email="both@example.com")
    for i in range(40):
        await crms.hs_create(email=f"h{i}@example.com", lastname=f"H{i}", jobtitle=f"J{i}")
    await crms.hs_create(email="lead@example.com", lastname="L")
    await crms.hs_create(email="both@example.com", lastname="C")
    with anyio.fail_after(60):
        async with open_engine(settings, backfill=True) as engine:
            items = await _page(engine, "hubspot")
            assert len(items) == 42 and all(engine.actor.grouped(c) for _, c in items)
            assert await engine.actor.handle_group(items) == [None] * 42
            assert engine.summary.created.salesforce == 40 and engine.summary.errors == 0
    by_email = {str(c["properties"]["email"]): c["properties"] for c in await crms.hs_all()}
    assert by_email["lead@example.com"].get("salesforceleadid") == lead
    assert by_email["both@example.com"].get("salesforcecontactid") == contact  # Contacts before Leads
    assert by_email["h3@example.com"].get("salesforcecontactid") or by_email["h3@example.com"].get(
        "salesforceleadid"
    )
