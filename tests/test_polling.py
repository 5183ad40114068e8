"""Issue 5, polling: an idle poll costs one read per stream, and one CRM's long pass does not hold
back the other CRM's changes. Calls are the mocks' own counts (``/__mock/stats``); latency is only
ever "it arrives while the other CRM's pass is still going", never a wall-clock figure."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anyio
import pytest

from actors.sources import HubSpotSource, SalesforceDeletedSource, SalesforceSource
from actors.stream import Change, ChangeSource, ChangeStream
from engine.runtime import Engine, open_engine, run_forever, run_until_idle
from engine.settings import Settings
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings, wait_until
from tests.test_faults import LIFTED, lifted

OVERLAP_MS = 2000
SEEDED = 450  # three search pages of 200, all inside one look-back window


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config(**LIFTED)) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


class Counted:
    """A real change source, counting its pages and its passes (a page asked for without a token)."""

    def __init__(self, source: ChangeSource) -> None:
        self.source = source
        self.pages = 0
        self.passes = 0
        self.gate: anyio.Event | None = None
        """While set to an unset event, a pass waits on it before its first page."""

    async def page(
        self,
        since_ms: int,
        token: str | None,
        *,
        until_ms: int | None = None,
        after_id: str | None = None,
    ) -> tuple[list[Change], str | None]:
        if token is None:
            self.passes += 1
            if self.gate is not None:
                await self.gate.wait()
        self.pages += 1
        return await self.source.page(since_ms, token, until_ms=until_ms, after_id=after_id)


async def counted_streams(engine: Engine) -> dict[str, Counted]:
    """The engine's own streams and sources, with a short look-back window read on every pass."""
    io = engine.actor.io
    sources: dict[str, ChangeSource] = {
        "hubspot:contacts": HubSpotSource(engine.hubspot, "contacts", io.hs_props)
    }
    for t, fields in io.sf_fields.items():
        sources[f"salesforce:{t}"] = SalesforceSource(engine.salesforce, t, fields)
    for t in io.sf_fields:
        sources[f"salesforce:{t}:deleted"] = SalesforceDeletedSource(engine.salesforce, t)
    counted = {name: Counted(source) for name, source in sources.items()}
    old = {s.name: s for s in engine.streams}
    assert set(old) == set(counted)
    engine.streams = [
        ChangeStream(name, source, engine.store, overlap_ms=OVERLAP_MS, lookback_interval_s=0)
        for name, source in counted.items()
    ]
    for stream in engine.streams:
        stream.cursor = old[stream.name].cursor  # where open_engine started it (a new state file)
    return counted


async def api_calls(crms: Crms) -> tuple[int, int]:
    hs, sf = await crms.calls()
    return int(hs["api_calls"]), int(sf["api_calls"])


async def seed_hubspot(crms: Crms, count: int) -> None:
    async with crms.s.post(
        crms.ep.hubspot_url + "/__mock/seed", json={"object_type": "contacts", "count": count, "seed": 5}
    ) as r:
        assert r.status == 200, await r.text()


async def test_an_idle_poll_reads_once_per_stream_once_its_window_is_settled(
    crms: Crms, tmp_path: Path
) -> None:
    await seed_hubspot(crms, SEEDED)  # all stamped within the look-back window of the newest
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    with anyio.fail_after(60):
        async with open_engine(settings) as engine, anyio.create_task_group() as tg:
            counted = await counted_streams(engine)
            hubspot = counted["hubspot:contacts"]
            tg.start_soon(run_forever, engine)
            # A new state file's window lies at or below its floor, where nothing is ever
            # delivered: it is settled from the start, and no pass reads it again (the seeded
            # contacts were three pages, re-read until the CRM's time passed them by the overlap).
            # Each pass reads one page, here as in production where the look-back is every 30 s.
            await wait_until(lambda: _passes(hubspot, 1), timeout_s=30)
            await wait_until(lambda: _one_page_pass(hubspot), timeout_s=30)
            assert hubspot.pages <= hubspot.passes + 1  # the pass in flight may have read ahead
            calls0, passes0 = await api_calls(crms), {n: c.passes for n, c in counted.items()}
            await wait_until(lambda: _passes(hubspot, passes0["hubspot:contacts"] + 5), timeout_s=30)
            tg.cancel_scope.cancel()
    calls1, passes1 = await api_calls(crms), {n: c.passes for n, c in counted.items()}
    hs_passes = passes1["hubspot:contacts"] - passes0["hubspot:contacts"]
    sf_passes = sum(passes1[n] - passes0[n] for n in counted if n.startswith("salesforce:"))
    assert hs_passes >= 5 and sf_passes >= 4 * 4
    # One search per HubSpot pass, one query or delete-log read per Salesforce pass (these sources
    # read alone; the engine's own share one call per poll: test_poll_round). Each CRM has one
    # polling loop, its streams polled at once: the passes in flight at each snapshot may count
    # their calls on one side only.
    assert abs(calls1[0] - calls0[0] - hs_passes) <= 2
    assert abs(calls1[1] - calls0[1] - sf_passes) <= 2 * 4
    assert engine.summary.synced == 0  # nothing synced: all of it existed before the first run


async def _passes(counted: Counted, n: int) -> bool:
    return counted.passes >= n


async def _one_page_pass(counted: Counted) -> bool:
    """True once a whole pass (started and ended between two looks) read one page."""
    before = (counted.passes, counted.pages)
    await anyio.sleep(0.25)
    passes, pages = counted.passes - before[0], counted.pages - before[1]
    return passes >= 2 and pages <= passes


async def test_a_salesforce_change_syncs_while_a_hubspot_pass_is_held(crms: Crms, tmp_path: Path) -> None:
    """Each CRM's streams are polled by their own loop: a HubSpot pass that does not end (a burst of
    changes behind full mailboxes, here a gate) leaves Salesforce's changes flowing."""
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    with anyio.fail_after(60):
        async with open_engine(settings) as engine, anyio.create_task_group() as tg:
            counted = await counted_streams(engine)
            hubspot = counted["hubspot:contacts"]
            hubspot.gate = anyio.Event()
            tg.start_soon(run_forever, engine)
            await wait_until(lambda: _passes(hubspot, 1))  # HubSpot's first pass is held
            await crms.sf_create("Contact", LastName="Held", Email="held@example.com")
            await wait_until(lambda: _in_hubspot(crms, "held@example.com"), timeout_s=30)
            assert hubspot.passes == 1 and hubspot.pages == 0  # still held the whole time
            hubspot.gate.set()
            hs_id = await crms.hs_create(email="after@example.com", lastname="After")
            await wait_until(lambda: _in_salesforce(crms, hs_id), timeout_s=30)
            tg.cancel_scope.cancel()


async def _in_hubspot(crms: Crms, email: str) -> bool:
    return any(c["properties"].get("email") == email for c in await crms.hs_all())


async def _in_salesforce(crms: Crms, hs_id: str) -> bool:
    return any(c.get("HubSpot_Id__c") == hs_id for c in await crms.sf_all("Contact"))


async def _synced_but_echo_unread(crms: Crms, settings: Settings, email: str) -> str:
    """A HubSpot contact synced to Salesforce by a run that then stops before reading its own
    Salesforce write back (only the HubSpot stream runs); returns the contact's id."""
    async with open_engine(settings) as engine:
        await run_until_idle(engine)
    hs_id = await crms.hs_create(email=email, lastname="Pair")
    async with open_engine(settings) as engine:
        engine.streams = [s for s in engine.streams if s.name.startswith("hubspot:")]
        assert (await run_until_idle(engine)).created.salesforce == 1
    return hs_id


async def test_an_unread_echo_does_not_bring_back_a_deleted_contact(crms: Crms, tmp_path: Path) -> None:
    """Found while polling the CRMs at once: a run that stops after syncing a contact to Salesforce,
    before reading that write back, then the contact deleted in HubSpot (a HubSpot delete never
    deletes in Salesforce, R-CON-4). The next run reads the Salesforce record it made itself and
    must leave HubSpot alone: no edit happened in Salesforce after the delete."""
    settings = engine_settings(crms.ep, tmp_path / "state.db")
    with anyio.fail_after(90):
        old = await _synced_but_echo_unread(crms, settings, "gone@example.com")
        await crms.hs_delete(old)
        async with open_engine(settings) as engine:
            summary = await run_until_idle(engine)
    assert summary.created.hubspot == 0
    assert [c["id"] for c in await crms.hs_all() if not c.get("archived")] == []


async def test_a_salesforce_edit_after_our_unread_create_still_brings_the_contact_back(
    crms: Crms, tmp_path: Path
) -> None:
    """The other side of the test above: the record we made was edited in Salesforce (a second
    later, so its LastModifiedDate is past its CreatedDate) before the contact was deleted in
    HubSpot. That edit has yet to sync: under create_or_update the contact is made again with it."""
    settings = engine_settings(crms.ep, tmp_path / "state.db")
    with anyio.fail_after(90):
        old = await _synced_but_echo_unread(crms, settings, "edited@example.com")
        (made,) = [c for c in await crms.sf_all("Contact") if c.get("HubSpot_Id__c") == old]
        await anyio.sleep(1.1)  # Salesforce stamps whole seconds
        await crms.sf_update("Contact", made["Id"], Title="Chief Editor")
        await crms.hs_delete(old)
        async with open_engine(settings) as engine:
            summary = await run_until_idle(engine)
    assert summary.created.hubspot == 1
    live = [c for c in await crms.hs_all() if not c.get("archived")]
    assert [c["properties"].get("jobtitle") for c in live] == ["Chief Editor"]


async def test_a_hubspot_pass_reads_each_record_once_across_shared_milliseconds(
    crms: Crms, tmp_path: Path
) -> None:
    """Seeded contacts share milliseconds (dozens to each), so pages end inside one: each page
    resumes after the ids it saw there, and the pass returns every contact exactly once."""
    await seed_hubspot(crms, SEEDED)
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    with anyio.fail_after(60):
        async with open_engine(settings) as engine:
            source = HubSpotSource(engine.hubspot, "contacts", engine.actor.io.hs_props)
            read: list[Change] = []
            token: str | None = None
            while True:
                changes, token = await source.page(0, token)
                read += changes
                if token is None:
                    break
    stamps = Counter(c.modified_ms for c in read)
    assert max(stamps.values()) > 1  # the case in point: milliseconds shared
    assert len(read) == len({c.record_id for c in read}) == SEEDED
