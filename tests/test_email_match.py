"""SPEC §2's email match asks Salesforce for Contacts and Leads of a batch of emails in one
``/composite`` call (Salesforce counts it as one API request; the two queries were two calls, one
after the other), and still prefers a Contact to a Lead, and the oldest of several."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from engine.errors import RequestRejected
from tests.crms import Crms, engine_settings
from tests.test_echo import delta
from tests.test_faults import assert_no_sync_errors, crms, lifted, sync
from tests.test_schema_check import clients

__all__ = ["crms"]

COMPOSITE = "POST /services/data/v{version}/composite"


async def test_queries_go_in_one_call_and_a_failed_one_fails_them(crms: Crms, tmp_path: Path) -> None:
    await crms.sf_create("Contact", LastName="C", Email="both@example.com")
    await crms.sf_create("Lead", LastName="L", Company="Co", Email="both@example.com")
    async with clients(crms.ep, tmp_path / "s.db") as (_, sf):
        _, sf0 = await crms.calls()
        contacts, leads = await sf.queries(
            [
                "SELECT Id FROM Contact WHERE Email IN ('both@example.com')",
                "SELECT Id, Company FROM Lead WHERE Email = 'both@example.com' AND Company != 'a+b&c=d'",
            ]
        )
        _, sf1 = await crms.calls()
        assert (contacts.totalSize, leads.totalSize) == (1, 1)
        assert leads.records[0]["Company"] == "Co"
        assert delta(sf0, sf1) == Counter({COMPOSITE: 1})
        with pytest.raises(RequestRejected, match="query"):
            await sf.queries(["SELECT Id FROM Contact", "SELECT Nope FROM Lead"])


async def test_contacts_before_leads_in_one_call_per_batch(crms: Crms, tmp_path: Path) -> None:
    # Existing records (they do not sync by themselves): a Lead alone, a Lead and a Contact.
    lead_only = await crms.sf_create("Lead", LastName="L1", Company="Co", Email="lead@example.com")
    await crms.sf_create("Lead", LastName="L2", Company="Co", Email="both@example.com")
    contact = await crms.sf_create("Contact", LastName="C2", Email="both@example.com")
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    await sync(settings)
    emails = ["lead@example.com", "both@example.com", *(f"new{i}@example.com" for i in range(20))]
    for i, email in enumerate(emails):
        await crms.hs_create(email=email, lastname=f"N{i}")
    _, sf0 = await crms.calls()
    summary = await sync(settings)
    _, sf1 = await crms.calls()
    assert summary.errors == 0 and summary.created.salesforce == 20
    calls = delta(sf0, sf1)
    # Every contact was looked up in Contacts and Leads: one composite call per batch.
    assert 1 <= calls[COMPOSITE] <= 4, calls
    await assert_no_sync_errors(tmp_path / "s.db")
    contacts = {str(c["properties"]["email"]): c["properties"] for c in await crms.hs_all()}
    assert contacts["lead@example.com"].get("salesforceleadid") == lead_only
    assert contacts["both@example.com"].get("salesforcecontactid") == contact
    assert not contacts["both@example.com"].get("salesforceleadid")
