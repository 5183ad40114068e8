"""Upgrading a state file from an older schema, at open, without ever risking its links.

An older file's links, bases, cursors and errors are what stop the new release from re-creating
every record, so the upgrade is careful: first a verified backup copy next to the file
(``<state>.v<N>.bak``, made by ``VACUUM INTO`` through the open connection, so whatever is still
in the WAL is included), then every pending step ``N → N+1`` inside ONE transaction. A failure
anywhere leaves the file exactly at its old version, and stops with one line (exit 1); a failed
upgrade never falls back to a fresh file.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Sequence
from contextlib import closing, suppress
from urllib.parse import quote as urlquote

import aiosqlite
import anyio
from loguru import logger

from engine.errors import StateFileError
from engine.store_schema import MIGRATIONS


def backup_path(path: str, version: int) -> str:
    return f"{path}.v{version}.bak"


async def migrate(
    db: aiosqlite.Connection, path: str, version: int, steps: Sequence[Sequence[str]] = MIGRATIONS
) -> None:
    """Bring a file at schema ``version`` (0 = new and empty) to ``len(steps)`` (tests pass steps
    of their own to break a migration half way)."""
    target = len(steps)
    if version >= target:
        return
    # Shielded: a shutdown signal during the upgrade must not leave a half-written backup or an
    # open transaction behind; both take well under a second for any realistic state file.
    with anyio.CancelScope(shield=True):
        backup = await _backup(db, path, version, target) if version > 0 else None
        await _apply(db, path, version, steps, backup)
    if backup is not None:
        logger.info(
            "state file {} migrated from schema {} to {}; backup at {}", path, version, target, backup
        )


async def _apply(
    db: aiosqlite.Connection, path: str, version: int, steps: Sequence[Sequence[str]], backup: str | None
) -> None:
    try:
        await db.execute("BEGIN IMMEDIATE")
        try:
            for step in range(version, len(steps)):
                for statement in steps[step]:
                    await db.execute(statement)
                await db.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(step + 1),),
                )
            await db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # a failed COMMIT may already have ended it
                await db.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        if version == 0:
            raise StateFileError(path, f"cannot be created ({exc})") from exc
        kept = f"; a copy is at {backup}" if backup else ""
        raise StateFileError(
            path,
            f"migration from schema {version} to {len(steps)} failed ({exc}); "
            f"the file is unchanged at schema {version}{kept}",
        ) from exc


async def _backup(db: aiosqlite.Connection, path: str, version: int, target_version: int) -> str:
    target = backup_path(path, version)
    tmp = target + ".tmp"
    try:
        await anyio.Path(tmp).unlink(missing_ok=True)  # left by an earlier attempt cut short
        await db.execute("VACUUM INTO ?", (tmp,))
        await anyio.to_thread.run_sync(_seal, path, tmp, target, version)
    except (sqlite3.Error, OSError) as exc:
        with suppress(OSError):
            await anyio.Path(tmp).unlink(missing_ok=True)
        raise StateFileError(
            path,
            f"cannot write its backup {target} before migrating from schema {version} to "
            f"{target_version} ({exc}); the file is unchanged at schema {version}",
        ) from exc
    return target


def _seal(path: str, tmp: str, target: str, version: int) -> None:
    """Check the copy reads back whole at the old version, make it durable, then give it its
    name: a backup that only looks like one is worse than none."""
    with closing(sqlite3.connect(f"file:{urlquote(tmp)}?mode=ro", uri=True)) as copy:
        check = copy.execute("PRAGMA quick_check(1)").fetchone()
        row = copy.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if check is None or check[0] != "ok" or row is None or str(row[0]) != str(version):
        raise sqlite3.DatabaseError(f"the copy does not read back as a whole schema-{version} file")
    os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))  # as private as the state file itself
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)  # VACUUM INTO does not sync its output
    finally:
        os.close(fd)
    os.replace(tmp, target)
    folder = os.open(os.path.dirname(os.path.abspath(target)), os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
