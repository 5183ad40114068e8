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

from actors.sources import HubSpotSource, SalesforceSource
from actors.stream import Change, ChangeSource, ChangeStream
from engine.mapping import FieldKind, FieldMapping, SyncRule
from engine.runtime import open_engine, run_until_idle, sync_until_idle
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
    writes_before = write_calls(*await crms.calls())
    again = await sync(settings)  # everything since the first run, delivered a second time
    assert again.errors == 0
    assert again.created.hubspot == again.created.salesforce == 0
    assert await snapshot(crms) == before
    assert write_calls(*await crms.calls()) == writes_before  # and not one write

    # Rewound again, now with newer edits behind the redelivered old versions: the newest wins.
    rewind_cursors(state)
    await crms.hs_update(hs_ids[0], jobtitle="E3")
    await crms.sf_update("Contact", sf_ids[1], Title="E3")
    third = await sync(settings)
    assert third.errors == 0
    assert third.created.hubspot == third.created.salesforce == 0
    assert (third.updated.hubspot, third.updated.salesforce) == (1, 1)  # only the two new edits moved
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
    writes_before = write_calls(*await crms.calls())
    again = await sync(settings)
    assert again.errors == 0
    assert again.created.hubspot == again.created.salesforce == 0
    assert await snapshot(crms) == before
    assert write_calls(*await crms.calls()) == writes_before
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
    writes_before = write_calls(*await crms.calls())
    await sync(settings)
    assert await snapshot(crms) == before
    assert write_calls(*await crms.calls()) == writes_before
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


# -- the same change twice, and two versions out of order, counted in the mocks' own calls ---------


def write_calls(hs_stats: dict[str, Any], sf_stats: dict[str, Any]) -> int:
    """Writes in the mocks' own counters: anything but searches, SOQL, record and metadata reads
    (``/composite``: the engine's carry only reads, a poll's first reads or the email match)."""
    total = 0
    for stats in (hs_stats, sf_stats):
        for endpoint, n in stats["by_endpoint"].items():
            method, _, route = endpoint.partition(" ")
            if method in ("PATCH", "PUT", "DELETE") or (
                method == "POST" and not route.endswith(("/search", "/batch/read", "/composite"))
            ):
                total += n
    return total


class CountingSource:
    """A real change source, counting the changes its pages returned (re-reads included)."""

    def __init__(self, source: ChangeSource) -> None:
        self.source = source
        self.returned = 0

    async def page(
        self,
        since_ms: int,
        token: str | None,
        *,
        until_ms: int | None = None,
        after_id: str | None = None,
    ) -> tuple[list[Change], str | None]:
        changes, token = await self.source.page(since_ms, token, until_ms=until_ms, after_id=after_id)
        self.returned += len(changes)
        return changes, token


async def test_poll_overlap_rereads_the_window_every_pass_and_writes_nothing(
    crms: Crms, tmp_path: Path
) -> None:
    """One process polling again and again: every pass re-reads the look-back window (the records
    just synced and our own writes), and not one of them is delivered or written twice."""
    state = tmp_path / "s.db"
    settings = two_way(crms, state)
    await sync(settings)
    for i in range(10):
        await crms.hs_create(email=f"o.h{i}@example.com", lastname=f"H{i}", jobtitle="T0")
        await crms.sf_create("Contact", LastName=f"S{i}", Email=f"o.s{i}@example.com", Title="T0")
    with anyio.fail_after(120):
        async with open_engine(settings) as engine:
            io = engine.actor.io
            counting = [
                CountingSource(HubSpotSource(engine.hubspot, "contacts", io.hs_props)),
                *(
                    CountingSource(SalesforceSource(engine.salesforce, t, io.sf_fields[t]))
                    for t in io.sf_fields
                ),
            ]
            # The engine's own streams, except that every pass looks back (not every 30 s).
            engine.streams = [
                ChangeStream(name, source, engine.store, lookback_interval_s=0)
                for name, source in zip(
                    ["hubspot:contacts", *(f"salesforce:{t}" for t in io.sf_fields)], counting, strict=True
                )
            ]
            for stream in engine.streams:
                await stream.load(0)
            first = await run_until_idle(engine)
            assert first.created.hubspot == first.created.salesforce == 10
            before = await snapshot(crms)
            writes_before = write_calls(*await crms.calls())
            returned_before = sum(c.returned for c in counting)
            delivered_before = sum(s.delivered for s in engine.streams)
            for _ in range(3):
                again = await run_until_idle(engine)
                assert again.errors == 0
            # The window was read again (all 20 people and our write-backs), and nothing came of it.
            assert sum(c.returned for c in counting) - returned_before >= 3 * 40
            assert sum(s.delivered for s in engine.streams) == delivered_before
            assert write_calls(*await crms.calls()) == writes_before
    assert await snapshot(crms) == before
    await assert_no_sync_errors(state)


async def _version(source: ChangeSource, record_id: str) -> Change:
    """The record as a poll sees it now (a snapshot, to be handled later)."""
    changes, _ = await source.page(0, None)
    (change,) = [c for c in changes if c.record_id == record_id]
    return change


async def test_an_older_version_handled_after_a_newer_one_writes_nothing(crms: Crms, tmp_path: Path) -> None:
    """Two versions of one record, the newer handled first (a snapshot overtaken by a later poll,
    or redelivered late): the older one must neither write nor put its stale value back. Both
    systems, each version read through the engine's own change source."""
    state = tmp_path / "s.db"
    settings = two_way(crms, state)
    await sync(settings)
    hs_id = await crms.hs_create(email="ooo.hs@example.com", lastname="Hs", jobtitle="T0")
    sf_id = await crms.sf_create("Contact", LastName="Sf", Email="ooo.sf@example.com", Title="T0")
    await sync(settings)
    with anyio.fail_after(60):
        async with open_engine(settings) as engine:
            io = engine.actor.io
            hs_source = HubSpotSource(engine.hubspot, "contacts", io.hs_props)
            sf_source = SalesforceSource(engine.salesforce, "Contact", io.sf_fields["Contact"])
            await crms.hs_update(hs_id, jobtitle="v1")
            await crms.sf_update("Contact", sf_id, Title="v1")
            old = [await _version(hs_source, hs_id), await _version(sf_source, sf_id)]
            await crms.hs_update(hs_id, jobtitle="v2")
            await crms.sf_update("Contact", sf_id, Title="v2")
            new = [await _version(hs_source, hs_id), await _version(sf_source, sf_id)]
            assert [c.values.get("jobtitle") for c in (old[0], new[0])] == ["v1", "v2"]
            assert [c.values.get("Title") for c in (old[1], new[1])] == ["v1", "v2"]
            for change in new:
                await engine.actor.handle(f"{change.system}:{change.record_id}", change)
            writes = write_calls(*await crms.calls())
            for change in old:
                await engine.actor.handle(f"{change.system}:{change.record_id}", change)
            assert write_calls(*await crms.calls()) == writes  # the old versions wrote nothing
    hs_view, sf_view = await snapshot(crms)
    for email in ("ooo.hs@example.com", "ooo.sf@example.com"):
        assert hs_view[email][2] == sf_view[email][2] == "v2"
    await sync(settings)  # and the next run, which sees our writes come back, changes nothing
    assert await snapshot(crms) == (hs_view, sf_view)
    await assert_no_sync_errors(state)
