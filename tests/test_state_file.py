"""Issue 4 case 10: a damaged, locked, read-only or foreign-schema state file stops ``crmsync run``
with one clear line and exit code 1 — and never silently resets (its bytes stay as they were, and
neither CRM gains a record)."""

from __future__ import annotations

import json
import os
import sqlite3
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from mockcrm.config import MockEndpoints
from tests.test_cli_run import crmsync, hubspot_create, write_config


def _count(ep: MockEndpoints) -> tuple[int, int]:
    """Records in HubSpot and Salesforce Contacts, as the mocks hold them."""
    with urllib.request.urlopen(ep.hubspot_url + "/__mock/dump/contacts", timeout=10) as resp:
        hs = len(json.loads(resp.read()))
    ctx = ssl.create_default_context(cafile=ep.ca_file)
    with urllib.request.urlopen(ep.salesforce_url + "/__mock/dump/Contact", timeout=10, context=ctx) as resp:
        sf = len(json.loads(resp.read())["records"])
    return hs, sf


@pytest.fixture
def linked(threaded_mocks: MockEndpoints, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A state file that links one synced pair, and a pending HubSpot contact that any run that
    went ahead would create in Salesforce."""
    state = tmp_path / "state.db"
    config = write_config(tmp_path / "crmsync.toml", threaded_mocks, state)
    assert crmsync("run", "--config", str(config), "--until-idle").returncode == 0
    hubspot_create(threaded_mocks, email=f"linked.{tmp_path.name}@example.com", lastname="Linked")
    second = crmsync("run", "--config", str(config), "--until-idle")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout.splitlines()[-1])["created"]["salesforce"] == 1
    with closing(sqlite3.connect(state)) as db:
        assert db.execute("SELECT count(*) FROM links").fetchone()[0] == 1
    hubspot_create(threaded_mocks, email=f"pending.{tmp_path.name}@example.com", lastname="Pending")
    yield config, state


def _edit(state: Path, sql: str) -> None:
    """One statement, committed and closed: the last connection's close folds the WAL back into
    the file, so the file's bytes are all there is to compare."""
    with closing(sqlite3.connect(state)) as db:
        db.execute(sql)
        db.commit()
    assert not Path(str(state) + "-wal").exists()


def _refused(ep: MockEndpoints, config: Path, state: Path, expect: str, *, check_health: bool = True) -> None:
    """Run once: exit 1, one line naming the state file and the problem, nothing touched; then
    ``crmsync health`` and ``crmsync errors`` over the same file (unless the file is only refused
    for writing: a locked or read-only file can still be read for a report)."""
    before_bytes = state.read_bytes()
    before_counts = _count(ep)
    result = crmsync("run", "--config", str(config), "--until-idle")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    # The message is the last line; log lines may come before it when the damage shows mid-run.
    assert "Traceback" not in result.stderr, result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith(f"crmsync: state file {state}") and expect in message, message
    assert state.read_bytes() == before_bytes
    assert _count(ep) == before_counts
    if not check_health:
        return
    for command in ("health", "errors"):
        shown = crmsync(command, "--config", str(config))
        assert shown.returncode == 1, (command, shown.stdout, shown.stderr)
        line = shown.stderr.strip()
        assert "\n" not in line and line.startswith(f"crmsync: state file {state}"), (command, line)
        assert state.read_bytes() == before_bytes


def test_garbage_file_is_refused(threaded_mocks: MockEndpoints, linked: tuple[Path, Path]) -> None:
    config, state = linked
    state.write_bytes(b"this is not a database, it is a grocery list\n" * 200)
    _refused(threaded_mocks, config, state, "is not a usable crmsync state file")


def test_truncated_file_is_refused(threaded_mocks: MockEndpoints, linked: tuple[Path, Path]) -> None:
    config, state = linked
    data = state.read_bytes()
    state.write_bytes(data[: len(data) // 3])
    _refused(threaded_mocks, config, state, "state file")


def test_damaged_pages_behind_an_intact_header_are_refused(
    threaded_mocks: MockEndpoints, linked: tuple[Path, Path]
) -> None:
    config, state = linked
    data = bytearray(state.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    # Keep page 1 (header and schema) intact; scribble over every table page after it.
    for i in range(page, len(data)):
        data[i] = (i * 7 + 13) & 0xFF
    state.write_bytes(bytes(data))
    _refused(threaded_mocks, config, state, "state file")


def test_foreign_sqlite_file_is_refused(threaded_mocks: MockEndpoints, linked: tuple[Path, Path]) -> None:
    config, state = linked
    state.unlink()
    _edit(state, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    _refused(threaded_mocks, config, state, "no crmsync schema")


def test_newer_schema_is_refused(threaded_mocks: MockEndpoints, linked: tuple[Path, Path]) -> None:
    config, state = linked
    _edit(state, "UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    _refused(threaded_mocks, config, state, "newer crmsync (schema 99")


def test_missing_schema_version_is_refused(threaded_mocks: MockEndpoints, linked: tuple[Path, Path]) -> None:
    """A file with crmsync's tables but no version cannot be placed on the migration path: it is
    refused, not treated as new (which would re-run migration 1 over the links, or reset them)."""
    config, state = linked
    _edit(state, "DELETE FROM meta WHERE key = 'schema_version'")
    _refused(threaded_mocks, config, state, "schema version is missing")


def test_file_in_use_by_another_crmsync_is_refused(
    threaded_mocks: MockEndpoints, linked: tuple[Path, Path]
) -> None:
    config, state = linked
    # Another process holds the lock: a child that takes it and waits on stdin.
    lock_code = (
        "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT);"
        " fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()"
    )
    with _holding(lock_code, Path(str(state) + ".lock")):
        _refused(threaded_mocks, config, state, "is in use by another crmsync process", check_health=False)
    # Once the other process is gone, the same file works again (and the pending contact syncs).
    after = crmsync("run", "--config", str(config), "--until-idle")
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout.splitlines()[-1])["created"]["salesforce"] == 1


def test_file_locked_by_another_sqlite_client_is_refused(
    threaded_mocks: MockEndpoints, linked: tuple[Path, Path]
) -> None:
    """Not crmsync but any SQLite client (a backup tool, a curious admin) holding a write lock."""
    config, state = linked
    sqlite_code = (
        "import sqlite3, sys; db = sqlite3.connect(sys.argv[1], isolation_level=None);"
        " db.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.read()"
    )
    with _holding(sqlite_code, state):
        _refused(threaded_mocks, config, state, "state file", check_health=False)


@contextmanager
def _holding(code: str, path: Path) -> Iterator[None]:
    """Run ``code`` in a child that takes a lock on ``path``, says 'locked', and holds it until the
    block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.kill()
        holder.wait()


def _bind_read_only(src: Path, dst: Path) -> bool:
    """A read-only bind mount: tests run as root, so file modes would not stop a write."""
    dst.mkdir()
    done = subprocess.run(
        ["mount", "--bind", "-o", "ro", str(src), str(dst)], capture_output=True, check=False
    )
    return done.returncode == 0


def test_read_only_file_is_refused(
    threaded_mocks: MockEndpoints, linked: tuple[Path, Path], tmp_path: Path
) -> None:
    _, state = linked
    src = tmp_path / "rw"
    src.mkdir()
    os.replace(state, src / "state.db")
    (src / "state.db.lock").touch()
    ro = tmp_path / "ro"
    if not _bind_read_only(src, ro):
        pytest.skip("cannot make a read-only bind mount here (needs CAP_SYS_ADMIN)")
    try:
        with pytest.raises(OSError):
            (ro / "probe").write_bytes(b"x")  # the mount really is read-only, even for root
        config = write_config(tmp_path / "ro.toml", threaded_mocks, ro / "state.db")
        _refused(threaded_mocks, config, ro / "state.db", "state file", check_health=False)
    finally:
        subprocess.run(["umount", str(ro)], check=True)


def test_damaged_links_table_behind_an_intact_schema_is_refused(
    threaded_mocks: MockEndpoints, linked: tuple[Path, Path]
) -> None:
    """Opening succeeds (the header, schema and meta pages are fine); the damage shows at the first
    read of a link, mid-run. It must still be one clear line and exit 1, and nothing created."""
    config, state = linked
    with closing(sqlite3.connect(state)) as db:
        (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'links'").fetchone()
        (page_size,) = db.execute("PRAGMA page_size").fetchone()
    data = bytearray(state.read_bytes())
    start = (root - 1) * page_size
    data[start : start + page_size] = bytes((i * 7 + 13) & 0xFF for i in range(page_size))
    state.write_bytes(bytes(data))
    _refused(threaded_mocks, config, state, "state file")
