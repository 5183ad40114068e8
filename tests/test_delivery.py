"""Issue 4, case 4: the same change delivered twice and out of order gives the same end state.

Redelivery is driven through real runs: between two runs the state file's cursors are rewound with
sqlite3, as if the engine had crashed after its writes but before its checkpoint. Every change since
the first run then arrives again, older versions after newer ones have already been applied.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest

from engine.mapping import FieldKind, FieldMapping, SyncRule
from engine.runtime import sync_until_idle
from engine.settings import Settings
from engine.summary import Summary
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings
from tests.test_faults import LIFTED, assert_no_sync_errors, lifted

Snapshot = tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]]]


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config(**LIFTED)) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


def two_way(crms: Crms, state: Path, **contacts: Any) -> Settings:
    """Edits travel from either side (the default rules revert HubSpot edits by design, R-MAP-1)."""
    fields = [
        FieldMapping("email", "Email", SyncRule.TWO_WAY, FieldKind.EMAIL),
        FieldMapping("lastname", "LastName", SyncRule.TWO_WAY),
        FieldMapping("jobtitle", "Title", SyncRule.TWO_WAY),
    ]
    return lifted(engine_settings(crms.ep, state, fields=fields, **contacts))


async def sync(settings: Settings) -> Summary:
    with anyio.fail_after(90):
        return await sync_until_idle(settings)


def rewind_cursors(state: Path) -> int:
    """Every stream back to where the first run started (a crash before any checkpoint)."""
    with sqlite3.connect(state) as db:
        n = db.execute("UPDATE cursors SET ts_ms = floor_ms, last_id = ''").rowcount
    db.close()
    return n


async def snapshot(crms: Crms) -> Snapshot:
    """Both sides by email; fails on any duplicate email or external id."""
    hs = [h for h in await crms.hs_all() if not h.get("archived")]
    sf = await crms.sf_all("Contact")
    for counts in (
        Counter(h["properties"]["email"].lower() for h in hs),
        Counter(c["Email"].lower() for c in sf),
        Counter(c.get("HubSpot_Id__c") for c in sf if c.get("HubSpot_Id__c")),
        Counter(
            h["properties"].get("salesforcecontactid")
            for h in hs
            if h["properties"].get("salesforcecontactid")
        ),
    ):
        assert [k for k, n in counts.items() if n > 1] == []
    hs_view = {
        h["properties"]["email"].lower(): (
            h["id"],
            h["properties"].get("lastname"),
            h["properties"].get("jobtitle") or None,
            h["properties"].get("salesforcecontactid") or None,
        )
        for h in hs
    }
    sf_view = {
        c["Email"].lower(): (
            c["Id"],
            c.get("LastName"),
            c.get("Title") or None,
            c.get("HubSpot_Id__c") or None,
        )
        for c in sf
    }
    return hs_view, sf_view


async def test_redelivery_after_a_crash_before_the_checkpoint_changes_nothing(
    crms: Crms, tmp_path: Path
) -> None:
    state = tmp_path / "s.db"
    settings = two_way(crms, state)
    await sync(settings)
    hs_ids = [
        await crms.hs_create(email=f"h{i}@example.com", lastname=f"H{i}", jobtitle="T0") for i in range(8)
    ]
    sf_ids = [
        await crms.sf_create("Contact", LastName=f"S{i}", Email=f"s{i}@example.com", Title="T0")
        for i in range(8)
    ]
    await sync(settings)
    # Edits (several versions of one record), a clear, on both sides.
    for hs_id in hs_ids[:4]:
        await crms.hs_update(hs_id, jobtitle="E1")
        await crms.hs_update(hs_id, jobtitle="E2")
    for sf_id in sf_ids[:4]:
        await crms.sf_update("Contact", sf_id, Title="E1")
        await crms.sf_update("Contact", sf_id, Title="E2")
    await crms.hs_update(hs_ids[5], jobtitle="")
    await crms.sf_update("Contact", sf_ids[5], Title=None)
    await sync(settings)
    before = await snapshot(crms)
    hs_view, sf_view = before
    assert len(hs_view) == len(sf_view) == 16
    for i in range(4):
        assert hs_view[f"h{i}@example.com"][2] == sf_view[f"h{i}@example.com"][2] == "E2"
        assert hs_view[f"s{i}@example.com"][2] == sf_view[f"s{i}@example.com"][2] == "E2"
    assert hs_view["h5@example.com"][2] is None and sf_view["h5@example.com"][2] is None
    assert hs_view["s5@example.com"][2] is None and sf_view["s5@example.com"][2] is None

    assert rewind_cursors(state) >= 3
    again = await sync(settings)  # everything since the first run, delivered a second time
    assert again.errors == 0
    assert again.created.hubspot == again.created.salesforce == 0
    assert await snapshot(crms) == before

    # Rewound again, now with newer edits behind the redelivered old versions: the newest wins.
    rewind_cursors(state)
    await crms.hs_update(hs_ids[0], jobtitle="E3")
    await crms.sf_update("Contact", sf_ids[1], Title="E3")
    third = await sync(settings)
    assert third.errors == 0
    assert third.created.hubspot == third.created.salesforce == 0
    hs_after, sf_after = await snapshot(crms)
    expected_hs, expected_sf = dict(hs_view), dict(sf_view)
    for email in ("h0@example.com", "s1@example.com"):
        expected_hs[email] = (*hs_view[email][:2], "E3", hs_view[email][3])
        expected_sf[email] = (*sf_view[email][:2], "E3", sf_view[email][3])
    assert (hs_after, sf_after) == (expected_hs, expected_sf)
    await assert_no_sync_errors(state)


async def test_redelivered_deletes_do_not_resurrect_or_duplicate(crms: Crms, tmp_path: Path) -> None:
    state = tmp_path / "s.db"
    settings = two_way(crms, state, on_salesforce_delete="delete")
    await sync(settings)
    hs_id = await crms.hs_create(email="gone.hs@example.com", lastname="GoneHs")
    sf_id = await crms.sf_create("Contact", LastName="GoneSf", Email="gone.sf@example.com")
    keep = await crms.hs_create(email="keep@example.com", lastname="Keep")
    await sync(settings)
    await crms.hs_delete(hs_id)  # never deletes in Salesforce (R-CON-4)
    await crms.sf_delete("Contact", sf_id)  # deletes the HubSpot contact (on_salesforce_delete)
    await sync(settings)
    before = await snapshot(crms)
    hs_view, sf_view = before
    assert sorted(hs_view) == ["keep@example.com"] and hs_view["keep@example.com"][0] == keep
    assert sorted(sf_view) == ["gone.hs@example.com", "keep@example.com"]

    rewind_cursors(state)  # the creates, the link write-backs and both deletes arrive again
    again = await sync(settings)
    assert again.errors == 0
    assert again.created.hubspot == again.created.salesforce == 0
    assert await snapshot(crms) == before
    await assert_no_sync_errors(state)


async def test_one_person_changed_on_both_sides_in_one_pass_then_redelivered(
    crms: Crms, tmp_path: Path
) -> None:
    """Two streams deliver the same pair in one pass; a rewind delivers both again, out of order."""
    state = tmp_path / "s.db"
    settings = two_way(crms, state)
    await sync(settings)
    hs_id = await crms.hs_create(email="both@example.com", lastname="Both", jobtitle="T0")
    await sync(settings)
    (contact,) = await crms.sf_all("Contact")
    await crms.hs_update(hs_id, lastname="FromHs")
    await crms.sf_update("Contact", contact["Id"], Title="FromSf")
    await sync(settings)
    before = await snapshot(crms)
    hs_view, sf_view = before
    assert hs_view["both@example.com"][1:3] == sf_view["both@example.com"][1:3] == ("FromHs", "FromSf")

    rewind_cursors(state)
    await sync(settings)
    assert await snapshot(crms) == before
    await assert_no_sync_errors(state)


async def test_salesforce_delete_in_the_pass_that_redelivers_its_pair_leaves_no_error(
    crms: Crms, tmp_path: Path
) -> None:
    state = tmp_path / "s.db"
    settings = lifted(engine_settings(crms.ep, state, on_salesforce_delete="delete"))  # default mapping
    await sync(settings)
    sf_id = await crms.sf_create("Contact", LastName="GoneSf", Email="gone.sf@example.com")
    await sync(settings)
    await sync(settings)  # a quiet run: nothing changed
    await crms.sf_delete("Contact", sf_id)
    summary = await sync(settings)  # the look-back redelivers the HubSpot contact, then the delete
    assert summary.deleted.hubspot == 1
    assert [h for h in await crms.hs_all() if not h.get("archived")] == []
    await assert_no_sync_errors(state)
