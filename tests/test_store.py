"""The state store over a real SQLite file: round trips, group commit, and refusing bad files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import pytest

from engine.errors import StateFileError
from engine.store import StateStore
from engine.store_schema import SCHEMA_VERSION
from engine.store_types import (
    AddApiCalls,
    ClearError,
    Cursor,
    DeleteLink,
    Link,
    PutCursor,
    PutError,
    PutLink,
    SyncError,
)


def _link(i: int, **kw: object) -> Link:
    base: dict[str, object] = {
        "key": f"k{i}",
        "object": "contacts",
        "hubspot_id": str(100 + i),
        "salesforce_type": "Contact",
        "salesforce_id": f"003000000000{i:03d}AAA",
        "bases": {"email": f"p{i}@example.com", "amount": 1.5, "flag": False, "empty": None},
    }
    base.update(kw)
    return Link(**base)  # type: ignore[arg-type]


async def test_links_round_trip_and_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with anyio.fail_after(10):
        async with await StateStore.open(path) as store:
            await store.commit([PutLink(_link(i), now_ms=1) for i in range(1200)])
            got = await store.links_by_hubspot("contacts", [str(100 + i) for i in range(1200)] + ["nope"])
            assert len(got) == 1200
            assert got["105"] == _link(5)
        async with await StateStore.open(path) as store:
            by_sf = await store.links_by_salesforce("contacts", ["003000000000007AAA"])
            assert by_sf["003000000000007AAA"].bases == _link(7).bases
            assert await store.links_by_hubspot("companies", ["105"]) == {}
            await store.commit([DeleteLink("k7"), PutLink(_link(8, salesforce_type="Lead"), now_ms=2)])
            assert await store.links_by_salesforce("contacts", ["003000000000007AAA"]) == {}
            assert (await store.links_by_hubspot("contacts", ["108"]))["108"].salesforce_type == "Lead"
            assert await store.count_links("contacts") == 1199


async def test_one_hubspot_record_cannot_be_linked_twice(tmp_path: Path) -> None:
    async with await StateStore.open(tmp_path / "s.db") as store:
        await store.commit([PutLink(_link(1), now_ms=1)])
        with pytest.raises(StateFileError, match="UNIQUE"):
            await store.commit([PutLink(_link(2, hubspot_id="101"), now_ms=1)])
        # The failed transaction rolled back entirely and the store still works.
        assert await store.count_links("contacts") == 1
        await store.commit([PutLink(_link(3), now_ms=1)])
        assert await store.count_links("contacts") == 2


async def test_concurrent_commits_share_transactions(tmp_path: Path) -> None:
    async with await StateStore.open(tmp_path / "s.db", linger_s=0.01) as store:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for i in range(300):
                    tg.start_soon(store.commit, [PutLink(_link(i), now_ms=1)])
        assert await store.count_links("contacts") == 300
        assert store.transactions <= 5  # 300 callers, a handful of transactions


async def test_cursors_ledger_and_errors(tmp_path: Path) -> None:
    async with await StateStore.open(tmp_path / "s.db") as store:
        assert await store.cursor("hubspot:contacts") is None
        await store.commit([PutCursor("hubspot:contacts", Cursor(ts_ms=5, last_id="9"))])
        await store.commit([PutCursor("hubspot:contacts", Cursor(ts_ms=7, last_id="3"))])
        assert await store.cursor("hubspot:contacts") == Cursor(ts_ms=7, last_id="3")

        await store.commit([AddApiCalls("salesforce", 10, 3), AddApiCalls("salesforce", 10, 2)])
        await store.commit([AddApiCalls("salesforce", 11, 4), AddApiCalls("hubspot", 11, 100)])
        assert await store.api_calls_since("salesforce", 10) == 9
        assert await store.api_calls_since("salesforce", 11) == 4
        await store.prune_api_ledger(11)
        assert await store.api_calls_since("salesforce", 0) == 4

        err = SyncError(
            object="contacts",
            system="salesforce",
            record_id="101",
            error_type="validation",
            message="Email: invalid email address: x",
            fix="Correct the email in HubSpot",
            seen_ms=1,
        )
        await store.commit([PutError(err)])
        await store.commit([PutError(msgspec_replace(err, seen_ms=9))])
        (row,) = await store.sync_errors()
        assert (row.first_seen_ms, row.last_seen_ms, row.attempts) == (1, 9, 2)
        await store.commit([ClearError("contacts", "salesforce", "101")])
        assert await store.sync_errors() == []


def msgspec_replace(err: SyncError, **changes: object) -> SyncError:
    import msgspec

    return msgspec.structs.replace(err, **changes)


async def test_second_engine_on_the_same_file_is_refused(tmp_path: Path) -> None:
    async with await StateStore.open(tmp_path / "s.db"):
        with pytest.raises(StateFileError, match="in use by another crmsync process"):
            await StateStore.open(tmp_path / "s.db")


async def test_bad_files_are_refused_never_reset(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateFileError, match="not a usable crmsync state file"):
        await StateStore.open(garbage)
    assert garbage.read_bytes() == b"this is not sqlite" * 100

    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(StateFileError, match="no crmsync schema"):
        await StateStore.open(foreign)

    newer = tmp_path / "newer.db"
    async with await StateStore.open(newer):
        pass
    with sqlite3.connect(newer) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StateFileError, match="newer crmsync"):
        await StateStore.open(newer)
