"""Issue 5, Salesforce polling: one API call per idle poll (the streams' first reads share one
``/composite``), the cursor's second read from its id on once the CRM's clock has left it, and the
settled mark kept across a restart. Calls are counted by the mocks (``/__mock/stats``) or by the
fake source's pages; no wall-clock figure is asserted."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import aiosqlite
import anyio
import pytest

from actors.stream import Change, ChangeStream
from engine.migrations import migrate
from engine.runtime import Engine, open_engine, run_forever, run_until_idle
from engine.store import StateStore
from engine.store_schema import MIGRATIONS, SCHEMA_VERSION
from engine.store_types import Cursor, PutCursor
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings, wait_until
from tests.test_faults import LIFTED, lifted
from tests.test_stream import Handler, ListSource, now_ms

COMPOSITE = "POST /services/data/v{version}/composite"


class KeysetSource(ListSource):
    """The test_stream source, honouring a keyset start as Salesforce's does."""

    def __init__(self, page_size: int) -> None:
        super().__init__(page_size=page_size)
        self.since: list[tuple[int, str | None]] = []
        """(since, after_id) of every pass's first page."""

    async def page(
        self,
        since_ms: int,
        token: str | None,
        *,
        until_ms: int | None = None,
        after_id: str | None = None,
    ) -> tuple[list[Change], str | None]:
        if token is None:
            self.since.append((since_ms, after_id))
        if after_id is None or token is not None:
            return await super().page(since_ms, token, until_ms=until_ms)
        hidden = {r: ms for r, ms in self.records.items() if ms == since_ms and r <= after_id}
        for r in hidden:
            del self.records[r]
        try:
            return await super().page(since_ms, None, until_ms=until_ms)
        finally:
            self.records.update(hidden)


async def test_a_second_of_more_than_a_page_is_read_again_only_while_it_is_recent(tmp_path: Path) -> None:
    """Seven records in one stamp, pages of three: each poll re-read all three pages (a second
    query on every idle Salesforce poll, with 2,600 of our writes in one second). Once a pass has
    read the stamp 3 s (PROMPT_MS) after it by the CRM's clock, a poll reads from the cursor's id
    on: one page. A record stamped later is still read at once."""
    source = KeysetSource(page_size=3)
    stamp = now_ms()
    for i in range(7):
        source.touch(f"r{i}", stamp)
    async with await StateStore.open(tmp_path / "s.db") as store:
        stream = ChangeStream("s:o", source, store, overlap_ms=1000, lookback_interval_s=0)
        await stream.load(initial_ms=0)
        handler = Handler()
        assert await stream.poll(handler) == 7
        pages = source.pages
        assert await stream.poll(handler) == 0
        assert source.pages - pages == 3  # still recent: the whole stamp again
        assert source.since[-1][1] is None
        await anyio.sleep(3.1)
        await stream.poll(handler)  # read after the CRM's clock left it by PROMPT_MS
        pages = source.pages
        assert await stream.poll(handler) == 0
        assert source.pages - pages == 1
        assert source.since[-1] == (stamp, "r6")
        source.touch("r9", stamp)  # a higher id at the cursor's own stamp (our write, say)
        source.touch("n", now_ms())
        assert await stream.poll(handler) == 2
        assert sorted(rid for rid, _ in handler.seen[-2:]) == ["n", "r9"]


async def test_a_recent_second_is_read_whole_so_a_lower_id_edited_in_it_is_not_missed(
    tmp_path: Path,
) -> None:
    source = KeysetSource(page_size=100)
    stamp = now_ms()
    source.touch("b", stamp)
    source.touch("c", stamp)
    async with await StateStore.open(tmp_path / "s.db") as store:
        stream = ChangeStream("s:o", source, store, overlap_ms=60_000, lookback_interval_s=0)
        await stream.load(initial_ms=0)
        handler = Handler()
        assert await stream.poll(handler) == 2
        source.touch("a", stamp)  # edited later in the same whole second, with a lower id
        assert await stream.poll(handler) == 1
        assert handler.seen[-1] == ("a", stamp)
        assert all(after is None for _, after in source.since)


async def test_a_restart_does_not_read_the_settled_window_again(tmp_path: Path) -> None:
    source = KeysetSource(page_size=100)
    for i in range(5):
        source.touch(f"r{i}", now_ms() - 5000 + i)
    path = tmp_path / "s.db"
    async with await StateStore.open(path) as store:
        stream = ChangeStream("s:o", source, store, overlap_ms=1000, lookback_interval_s=0)
        await stream.load(initial_ms=0)
        assert await stream.poll(Handler()) == 5
        await anyio.sleep(1.1)  # the CRM's clock (known from its stamps) is past them by the overlap
        await stream.poll(Handler())
        await stream.checkpoint()
        cursor = stream.cursor
        assert (await store.settled_mark("s:o")) == cursor.ts_ms  # kept no higher than that
    async with await StateStore.open(path) as store:
        stream = ChangeStream("s:o", source, store, overlap_ms=1000, lookback_interval_s=0)
        await stream.load(initial_ms=0)
        returned = len(source.returned)
        assert await stream.poll(Handler()) == 0
        assert source.since[-1][0] == cursor.ts_ms  # from the cursor, not a window below it
        assert source.returned[returned:] == ["r4"]  # the cursor's own record only


async def test_a_schema_2_state_file_opens_and_its_streams_look_back_once(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    async with aiosqlite.connect(path, isolation_level=None) as db:
        await migrate(db, str(path), 0, MIGRATIONS[:2])
        await db.execute(
            "INSERT INTO cursors (stream, ts_ms, last_id, floor_ms) VALUES ('s:o', 9000, 'r', 10)"
        )
    async with await StateStore.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 3
        assert await store.cursor("s:o") == Cursor(ts_ms=9000, last_id="r", floor_ms=10)
        assert await store.settled_mark("s:o") is None  # unknown: the window is read once more
        source = KeysetSource(page_size=100)
        stream = ChangeStream("s:o", source, store, overlap_ms=1000)
        await stream.load(initial_ms=0)
        await stream.poll(Handler())
        assert source.since[0] == (9000 - 1000, None)
        await store.commit([PutCursor("s:o", Cursor(ts_ms=9001, last_id="s", floor_ms=10), 8999)])
        assert await store.settled_mark("s:o") == 8999


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config(**LIFTED)) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


def salesforce_calls(sf: dict[str, Any]) -> Counter[str]:
    return Counter({k: int(v) for k, v in sf["by_endpoint"].items()})


async def test_an_idle_salesforce_poll_is_one_call_and_changes_still_flow(crms: Crms, tmp_path: Path) -> None:
    """The engine's four Salesforce streams (Contact, Lead and their delete logs) read through one
    ``/composite`` per poll; an edit and a deletion still sync, the edit first."""
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db", on_salesforce_delete="delete"))
    contact = await crms.sf_create("Contact", LastName="Kept", Email="kept@example.com")
    with anyio.fail_after(60):
        async with open_engine(settings, backfill=True) as engine:
            assert (await run_until_idle(engine, backfill=True)).created.hubspot == 1
        async with open_engine(settings) as engine, anyio.create_task_group() as tg:
            rounds = engine.rounds["salesforce"]
            tg.start_soon(run_forever, engine)
            await wait_until(lambda: _calls_at_least(rounds.calls, 3))
            _, sf0 = await crms.calls()
            calls0 = rounds.calls
            await wait_until(lambda: _calls_at_least(rounds.calls, calls0 + 10))
            _, sf1 = await crms.calls()
            calls1 = rounds.calls
            spent = salesforce_calls(sf1) - salesforce_calls(sf0)
            # Each poll: one composite call, nothing else (one in flight at each snapshot at most).
            assert set(spent) == {COMPOSITE}, spent
            assert abs(spent[COMPOSITE] - (calls1 - calls0)) <= 1
            # Changes flow as before: an edit, then the record deleted.
            await crms.sf_update("Contact", contact, Title="Edited")
            await wait_until(lambda: _hubspot_title(crms, "kept@example.com", "Edited"), timeout_s=20)
            await crms.sf_delete("Contact", contact)
            await wait_until(lambda: _unlinked(engine), timeout_s=20)
            assert engine.summary.deleted.hubspot == 1
            tg.cancel_scope.cancel()


async def _calls_at_least(value: int, n: int) -> bool:
    return value >= n


async def _hubspot_title(crms: Crms, email: str, title: str) -> bool:
    found = [c for c in await crms.hs_all() if c["properties"].get("email") == email]
    return bool(found) and found[0]["properties"].get("jobtitle") == title


async def _unlinked(engine: Engine) -> bool:
    return await engine.store.count_links("contacts") == 0


async def seed_one_second(crms: Crms, count: int) -> None:
    """``count`` Contacts stamped in one whole second (seeding takes ~0.1 s: it starts just after a
    second begins, and is checked)."""
    for _ in range(5):
        await anyio.sleep(1 - time.time() % 1)  # the start of the next second
        async with crms.s.post(
            crms.ep.salesforce_url + "/__mock/seed",
            json={"sobject": "Contact", "count": count, "seed": 3},
            ssl=crms._ssl,
        ) as r:
            assert r.status == 200, await r.text()
        stamps = Counter(str(c["SystemModstamp"]) for c in await crms.sf_all("Contact"))
        if max(stamps.values()) >= count:
            return
    pytest.fail("could not seed a second of more than a page")


async def test_a_second_of_more_than_a_page_at_the_start_costs_no_second_query(
    crms: Crms, tmp_path: Path
) -> None:
    """A new state file starts at the newest second; holding more than a page (2,000), it cost a
    second query on every poll (its first page all old records). Nothing there is ever delivered,
    so polls read past it: each is one composite call and no query of its own."""
    await seed_one_second(crms, 2100)
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    with anyio.fail_after(60):
        async with open_engine(settings) as engine, anyio.create_task_group() as tg:
            rounds = engine.rounds["salesforce"]
            tg.start_soon(run_forever, engine)
            await wait_until(lambda: _calls_at_least(rounds.calls, 2))
            _, sf0 = await crms.calls()
            calls0 = rounds.calls
            await wait_until(lambda: _calls_at_least(rounds.calls, calls0 + 8))
            _, sf1 = await crms.calls()
            tg.cancel_scope.cancel()
    spent = salesforce_calls(sf1) - salesforce_calls(sf0)
    assert set(spent) == {COMPOSITE}, spent
    assert engine.summary.synced == 0
