"""Issue 4 case 10, the older schema: a schema-1 state file, made by a real sync and left with its
writes still in the WAL (as a kill -9 of crmsync 1 leaves it), is migrated by ``crmsync run``:
backed up first, links, bases, cursors and errors kept, nothing re-created, and only once. A
migration that cannot finish leaves the file at schema 1 and stops with one line and exit 1."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import aiohttp
import aiosqlite
import anyio
import pytest

from engine.errors import StateFileError
from engine.migrations import backup_path, migrate
from engine.runtime import sync_until_idle
from engine.store import StateStore
from engine.store_schema import SCHEMA_V1, SCHEMA_VERSION, V1_TO_V2
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings
from tests.test_health import config_file
from tests.test_health import crmsync as crmsync_async
from tests.test_state_file import _bind_read_only as bind_read_only

# Version 1's DDL, as released. If this fails, SCHEMA_V1 was edited: put the change in a new
# migration step instead, or files made by crmsync 1 would be migrated from the wrong shape.
SCHEMA_V1_SHA256 = "604e65c71b32a3d104c2eeb0adac988834e1d7e985ccba85f1063dee75418fc4"

# Copies a state file's rows into a new file built from the frozen version-1 DDL, then holds the
# connection open until it is killed: every page stays in the WAL, none reaches the main file.
BUILD_V1 = """
import sqlite3, sys
from engine.store_schema import SCHEMA_V1
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA wal_autocheckpoint = 0")
db.execute("ATTACH DATABASE ? AS made", (sys.argv[2],))
db.execute("BEGIN")
for statement in SCHEMA_V1:
    db.execute(statement)
db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
# Version 1's columns only (later versions added some, e.g. the cursors' settled mark in 3).
columns = {"cursors": "stream, ts_ms, last_id, floor_ms"}
for table in ("links", "cursors", "api_ledger", "sync_errors"):
    db.execute(f"INSERT INTO main.{table} SELECT {columns.get(table, '*')} FROM made.{table}")
db.execute("COMMIT")
print("ready", flush=True)
sys.stdin.read()
"""


# A migration killed with kill -9 inside its transaction: the step's first statement done, the
# process gone at the second (an SQL function that SIGKILLs it), nothing committed.
KILL_MID_MIGRATION = """
import os, signal, sys
import aiosqlite, anyio
from engine.migrations import migrate
from engine.store_schema import SCHEMA_V1, V1_TO_V2

async def main() -> None:
    db = await aiosqlite.connect(sys.argv[1], isolation_level=None)
    await db.create_function("die", 0, lambda: os.kill(os.getpid(), signal.SIGKILL))
    await migrate(db, sys.argv[1], 1, (SCHEMA_V1, (*V1_TO_V2, "SELECT die()")))

anyio.run(main)
"""


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config()) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


class V1File:
    def __init__(self, state: Path, config: Path, emails: list[str]) -> None:
        self.state = state
        self.config = config
        self.emails = emails


def rows(state: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True)) as db:
        return list(db.execute(sql).fetchall())


def schema_version(state: Path) -> int:
    return int(str(rows(state, "SELECT value FROM meta WHERE key = 'schema_version'")[0][0]))


LINKS = "SELECT key, object, hubspot_id, salesforce_type, salesforce_id, bases FROM links ORDER BY key"
ERRORS = "SELECT object, system, record_id, error_type, message FROM sync_errors ORDER BY record_id"
CURSORS = "SELECT stream, ts_ms, last_id FROM cursors ORDER BY stream"


async def validation_rule(crms: Crms) -> None:
    rule = {"sobject": "Contact", "field": "Title", "condition": "equals", "value": "Intern"}
    rule |= {"message": "Interns are not kept in Salesforce", "error_field": "Title"}
    async with crms.s.post(
        crms.ep.salesforce_url + "/__mock/rules", json={"validation_rules": [rule]}, ssl=crms._ssl
    ) as r:
        assert r.status == 200, await r.text()


@pytest.fixture
async def v1(crms: Crms, tmp_path: Path) -> V1File:
    """Links both ways, field bases, every stream's cursor and one sync error, made by a real sync
    and copied into a schema-1 file whose pages are all still in its WAL."""
    made = tmp_path / "made.db"
    settings = engine_settings(crms.ep, made)
    await validation_rule(crms)
    with anyio.fail_after(60):
        await sync_until_idle(settings)  # a new file starts at "now"
        emails = [f"hs{i}@example.com" for i in range(3)] + [f"sf{i}@example.com" for i in range(2)]
        await crms.hs_create(email=emails[0], lastname="Ada", jobtitle="Engineer")
        await crms.hs_create(email=emails[1], lastname="Grace")
        await crms.hs_create(email=emails[2], lastname="Intern", jobtitle="Intern")  # refused by Salesforce
        await crms.sf_create("Contact", Email=emails[3], LastName="Edsger")
        await crms.sf_create("Contact", Email=emails[4], LastName="Barbara", Title="CTO")
        summary = await sync_until_idle(settings)
    assert (summary.created.hubspot, summary.created.salesforce, summary.errors) == (2, 2, 1)
    state = tmp_path / "state.db"
    build_v1(state, made)
    return V1File(state, config_file(tmp_path / "crmsync.toml", crms.ep, state), emails)


def build_v1(state: Path, made: Path) -> None:
    builder = subprocess.Popen(
        [sys.executable, "-c", BUILD_V1, str(state), str(made)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert builder.stdout is not None and builder.stdout.readline().strip() == b"ready"
    finally:
        builder.send_signal(signal.SIGKILL)
        builder.wait(timeout=30)
    assert Path(f"{state}-wal").stat().st_size > 0  # the data lives in the WAL only
    for name in (made, *(Path(f"{made}{sidecar}") for sidecar in ("-wal", "-shm", ".lock"))):
        name.unlink(missing_ok=True)


async def per_email(crms: Crms) -> tuple[Counter[str], Counter[str]]:
    hs = Counter(h["properties"]["email"].lower() for h in await crms.hs_all() if not h.get("archived"))
    sf = Counter(c["Email"].lower() for c in await crms.sf_all("Contact"))
    return hs, sf


def test_v1_ddl_is_frozen() -> None:
    digest = hashlib.sha256("\n".join(SCHEMA_V1).encode()).hexdigest()
    assert digest == SCHEMA_V1_SHA256, digest


async def test_run_migrates_a_v1_file_once_and_keeps_every_link(crms: Crms, v1: V1File) -> None:
    # Read what the file holds with the WAL's content (a read-only connection sees the WAL).
    links, errors, cursors = rows(v1.state, LINKS), rows(v1.state, ERRORS), rows(v1.state, CURSORS)
    assert len(links) == 4 and len(errors) == 1 and len(cursors) == 5
    assert schema_version(v1.state) == 1
    hs_before, sf_before = await per_email(crms)

    code, out, err = await crmsync_async("run", "--config", str(v1.config), "--until-idle")
    assert code == 0, err
    backup = anyio.Path(backup_path(str(v1.state), 1))
    assert f"state file {v1.state} migrated from schema 1 to {SCHEMA_VERSION}; backup at {backup}" in err
    summary = json.loads(out.splitlines()[-1])
    # Nothing re-created and nothing old re-synced: the links and cursors were kept.
    assert summary["created"] == {"hubspot": 0, "salesforce": 0} and summary["synced"] == 0, summary
    assert await per_email(crms) == (hs_before, sf_before)
    assert all(hs_before[e] == 1 for e in v1.emails) and all(
        sf_before[e] == 1 for e in v1.emails[:2] + v1.emails[3:]
    )
    assert schema_version(v1.state) == SCHEMA_VERSION
    assert rows(v1.state, LINKS) == links and rows(v1.state, ERRORS) == errors
    assert [(s, ts) for s, ts, _ in rows(v1.state, CURSORS)] >= [(s, ts) for s, ts, _ in cursors]

    # The backup stands alone (no WAL beside it) and holds what the WAL held, at schema 1.
    alone = v1.state.parent / "alone" / "copy.db"
    await anyio.Path(alone.parent).mkdir()
    await anyio.to_thread.run_sync(shutil.copy, backup, alone)
    assert schema_version(alone) == 1
    assert rows(alone, LINKS) == links and rows(alone, ERRORS) == errors and rows(alone, CURSORS) == cursors
    assert os.stat(backup).st_mode & 0o777 == os.stat(v1.state).st_mode & 0o777

    # The upgraded file syncs on, and a second run does not migrate again.
    backup_bytes = await backup.read_bytes()
    await crms.hs_create(email="after@example.com", lastname="After")
    code, out, err = await crmsync_async("run", "--config", str(v1.config), "--until-idle")
    assert code == 0, err
    assert "migrated" not in err
    assert json.loads(out.splitlines()[-1])["created"] == {"hubspot": 0, "salesforce": 1}
    assert await backup.read_bytes() == backup_bytes
    hs, sf = await per_email(crms)
    assert hs["after@example.com"] == sf["after@example.com"] == 1

    code, out, err = await crmsync_async("runs", "--config", str(v1.config), "--json")
    assert code == 0, err
    runs = json.loads(out)
    assert [(r["id"], r["mode"], r["outcome"]) for r in runs] == [
        (2, "until-idle", "idle"),
        (1, "until-idle", "idle"),
    ]
    assert runs[0]["created"] == {"hubspot": 0, "salesforce": 1} and runs[0]["synced"] == 1
    assert runs[1]["created"] == {"hubspot": 0, "salesforce": 0}
    assert all(r["api_calls"]["hubspot"] > 0 and r["api_calls"]["salesforce"] > 0 for r in runs)


async def test_unwritable_backup_stops_the_migration_before_anything_changes(crms: Crms, v1: V1File) -> None:
    links = rows(v1.state, LINKS)
    counts = await per_email(crms)
    backup = anyio.Path(backup_path(str(v1.state), 1))
    await backup.mkdir()  # the backup's name is taken by a folder: it cannot be written
    await (backup / "keep").write_text("someone's file")
    code, out, err = await crmsync_async("run", "--config", str(v1.config), "--until-idle")
    assert (code, out) == (1, ""), err
    message = err.strip().splitlines()[-1]
    assert message.startswith(f"crmsync: state file {v1.state}: cannot write its backup {backup}"), message
    assert message.endswith("the file is unchanged at schema 1"), message
    assert schema_version(v1.state) == 1 and rows(v1.state, LINKS) == links
    assert not await anyio.Path(f"{backup}.tmp").exists()
    assert await (backup / "keep").read_text() == "someone's file"
    assert await per_email(crms) == counts
    # Once the folder is gone, the same file migrates.
    await anyio.to_thread.run_sync(shutil.rmtree, backup)
    code, out, err = await crmsync_async("run", "--config", str(v1.config), "--until-idle")
    assert code == 0, err
    assert schema_version(v1.state) == SCHEMA_VERSION and await backup.is_file()


async def test_failing_step_rolls_back_to_the_old_schema(crms: Crms, v1: V1File) -> None:
    """A step that fails half way (its first statement done, the next one failing) leaves no trace
    of itself: the migration is one transaction."""
    links = rows(v1.state, LINKS)
    broken = (SCHEMA_V1, (*V1_TO_V2, "INSERT INTO no_such_table VALUES (1)"))
    with anyio.fail_after(30):
        db = await aiosqlite.connect(v1.state, isolation_level=None)
        try:
            with pytest.raises(StateFileError) as caught:
                await migrate(db, str(v1.state), 1, broken)
        finally:
            await db.close()
    message = str(caught.value)
    assert "migration from schema 1 to 2 failed (no such table: no_such_table)" in message, message
    assert "unchanged at schema 1" in message and backup_path(str(v1.state), 1) in message
    assert schema_version(v1.state) == 1 and rows(v1.state, LINKS) == links
    assert rows(v1.state, "SELECT name FROM sqlite_master WHERE name = 'runs'") == []


async def test_kill_9_mid_migration_leaves_v1_and_the_next_run_migrates(crms: Crms, v1: V1File) -> None:
    links = rows(v1.state, LINKS)
    with anyio.fail_after(60):
        killed = await anyio.run_process(
            [sys.executable, "-c", KILL_MID_MIGRATION, str(v1.state)], check=False
        )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert schema_version(v1.state) == 1 and rows(v1.state, LINKS) == links
    assert rows(v1.state, "SELECT name FROM sqlite_master WHERE name = 'runs'") == []
    counts = await per_email(crms)
    code, out, err = await crmsync_async("run", "--config", str(v1.config), "--until-idle")
    assert code == 0, err
    assert f"migrated from schema 1 to {SCHEMA_VERSION}" in err
    assert json.loads(out.splitlines()[-1])["created"] == {"hubspot": 0, "salesforce": 0}
    assert schema_version(v1.state) == SCHEMA_VERSION and rows(v1.state, LINKS) == links
    assert await per_email(crms) == counts


async def test_stray_table_in_the_way_exits_1_and_keeps_v1(crms: Crms, v1: V1File) -> None:
    """Someone's own ``runs`` table in the file: the step cannot create ours, so the run stops."""
    with closing(sqlite3.connect(v1.state)) as db:
        db.execute("CREATE TABLE runs (note TEXT)")
        db.commit()
    counts = await per_email(crms)
    code, out, err = await crmsync_async("run", "--config", str(v1.config), "--until-idle")
    assert (code, out) == (1, ""), err
    message = err.strip().splitlines()[-1]
    expected = f"crmsync: state file {v1.state}: migration from schema 1 to {SCHEMA_VERSION} failed"
    assert message.startswith(expected), message
    assert "table runs already exists" in message and "unchanged at schema 1" in message
    assert schema_version(v1.state) == 1
    assert await per_email(crms) == counts
    # health reads an old file as it is (a report never migrates) and says the history is to come.
    code, out, err = await crmsync_async("health", "--config", str(v1.config), "--json")
    assert code == 0, err
    assert json.loads(out)["runs"] == [] and json.loads(out)["errors"]["total"] == 1


async def test_new_file_is_created_at_the_current_schema_without_a_backup(tmp_path: Path) -> None:
    state = tmp_path / "new.db"
    with anyio.fail_after(30):
        async with await StateStore.open(state):
            pass
    assert schema_version(state) == SCHEMA_VERSION
    assert not [p.name async for p in anyio.Path(tmp_path).iterdir() if ".bak" in p.name]


async def test_read_only_v1_file_is_refused_untouched(crms: Crms, v1: V1File, tmp_path: Path) -> None:
    """On a read-only mount nothing can be migrated (nor backed up beside it): one line, exit 1."""
    src = tmp_path / "rw"
    await anyio.Path(src).mkdir()
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        await anyio.Path(tmp_path / name).rename(src / name)
    await anyio.Path(src / "state.db.lock").touch()
    ro = tmp_path / "ro"
    if not bind_read_only(src, ro):
        pytest.skip("cannot make a read-only bind mount here (needs CAP_SYS_ADMIN)")
    try:
        before = {p.name: await p.read_bytes() async for p in anyio.Path(ro).iterdir()}
        config = config_file(tmp_path / "ro.toml", crms.ep, ro / "state.db")
        code, out, err = await crmsync_async("run", "--config", str(config), "--until-idle")
        assert (code, out) == (1, ""), err
        message = err.strip().splitlines()[-1]
        assert message.startswith(f"crmsync: state file {ro / 'state.db'}"), message
        assert "read-only" in message.lower(), message
        assert {p.name: await p.read_bytes() async for p in anyio.Path(ro).iterdir()} == before
    finally:
        await anyio.run_process(["umount", str(ro)])
    assert schema_version(src / "state.db") == 1
