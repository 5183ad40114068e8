"""The state store: links, field bases, cursors, the API ledger and sync errors, in one SQLite file.

Why it is shaped this way: one aiosqlite statement costs a thread hop (~250 µs here), which would
cap the engine at a few thousand records/s. So reads take many keys per ``IN (...)`` query and
writes are *group-committed*: every caller's writes that arrive while a commit is being prepared
go into the same transaction, written with ``executemany``. Callers still get the simple contract
"when ``commit`` returns, my writes are durable" — which is what lets a change stream advance its
cursor only past changes that are safely recorded.

Durability: WAL with ``synchronous=NORMAL`` survives a killed process (``kill -9``); a power cut
may lose the last transactions, which the CRMs' upserts on external ids then make harmless.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

import aiosqlite
import anyio
import msgspec

from engine import failpoints
from engine.errors import StateFileError
from engine.link_cache import CAPACITY, LinkCache
from engine.migrations import migrate
from engine.store_runs import NEXT_RUN_ID, RUN_SQL, SELECT_OPEN_RUNS, SELECT_RUNS, run_params, run_row
from engine.store_schema import SCHEMA_VERSION
from engine.store_types import (
    AddApiCalls,
    ClearError,
    Cursor,
    DeleteLink,
    EndRun,
    InterruptOpenRuns,
    Link,
    PruneRuns,
    PutCursor,
    PutError,
    PutLink,
    RunRow,
    StartRun,
    StoreOp,
    SyncErrorRow,
)

_IN_CHUNK = 500  # keys per IN (...) query: well under SQLite's 32,766 bound parameters
_encode = msgspec.json.encode
_decode_bases = msgspec.json.Decoder(dict[str, Any]).decode

_SQL: dict[type[StoreOp], str] = {
    PutLink: """INSERT INTO links (key, object, hubspot_id, salesforce_type, salesforce_id, bases,
                    hubspot_modified_ms, salesforce_modified_ms, updated_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET hubspot_id = excluded.hubspot_id,
                    salesforce_type = excluded.salesforce_type, salesforce_id = excluded.salesforce_id,
                    bases = excluded.bases, hubspot_modified_ms = excluded.hubspot_modified_ms,
                    salesforce_modified_ms = excluded.salesforce_modified_ms,
                    updated_ms = excluded.updated_ms""",
    DeleteLink: "DELETE FROM links WHERE key = ?",
    PutCursor: """INSERT INTO cursors (stream, ts_ms, last_id, floor_ms, settled_ms) VALUES (?, ?, ?, ?, ?)
                  ON CONFLICT (stream) DO UPDATE SET ts_ms = excluded.ts_ms, last_id = excluded.last_id,
                      floor_ms = excluded.floor_ms, settled_ms = excluded.settled_ms""",
    AddApiCalls: """INSERT INTO api_ledger (system, minute, calls) VALUES (?, ?, ?)
                    ON CONFLICT (system, minute) DO UPDATE SET calls = calls + excluded.calls""",
    PutError: """INSERT INTO sync_errors (object, system, record_id, error_type, message, fix,
                     first_seen_ms, last_seen_ms, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)
                 ON CONFLICT (object, system, record_id) DO UPDATE SET error_type = excluded.error_type,
                     message = excluded.message, fix = excluded.fix, last_seen_ms = excluded.last_seen_ms,
                     attempts = attempts + 1""",
    ClearError: "DELETE FROM sync_errors WHERE object = ? AND system = ? AND record_id = ?",
    **RUN_SQL,
}


_TABLE: dict[type[StoreOp], str] = {
    PutLink: "links",
    DeleteLink: "links",
    PutCursor: "cursors",
    AddApiCalls: "api_ledger",
    PutError: "sync_errors",
    ClearError: "sync_errors",
    **dict.fromkeys(RUN_SQL, "runs"),
}
"""The table each operation writes. Tables share no triggers or foreign keys, so a transaction's
writes may be regrouped by table, each table's in their given order."""


def _statements(ops: Sequence[StoreOp]) -> list[tuple[str, list[tuple[object, ...]]]]:
    """One ``executemany`` per run of one kind within a table. The ops of concurrent commits
    interleave (each actor's link, then its cleared errors): grouped as they came, a transaction
    of 50 pairs made 100 statements, each a thread hop; by table it makes two."""
    by_table: dict[str, list[StoreOp]] = {}
    for op in ops:
        by_table.setdefault(_TABLE[type(op)], []).append(op)
    return [
        (_SQL[kind], [_row(op) for op in run])
        for table_ops in by_table.values()
        for kind, run in groupby(table_ops, type)
    ]


def _row(op: StoreOp) -> tuple[object, ...]:
    match op:
        case PutLink(link=link, now_ms=now_ms):
            return (
                link.key,
                link.object,
                link.hubspot_id,
                link.salesforce_type,
                link.salesforce_id,
                _encode(link.bases),
                link.hubspot_modified_ms,
                link.salesforce_modified_ms,
                now_ms,
            )
        case DeleteLink(key=key):
            return (key,)
        case PutCursor(stream=stream, cursor=cursor, settled_ms=settled_ms):
            return (stream, cursor.ts_ms, cursor.last_id, cursor.floor_ms, settled_ms)
        case AddApiCalls(system=system, minute=minute, calls=calls):
            return (system, minute, calls)
        case PutError(error=e):
            return (e.object, e.system, e.record_id, e.error_type, e.message, e.fix, e.seen_ms, e.seen_ms)
        case ClearError(object=obj, system=system, record_id=record_id):
            return (obj, system, record_id)
        case InterruptOpenRuns() | StartRun() | EndRun() | PruneRuns():
            return run_params(op)
    raise TypeError(f"not a store operation: {op!r}")


class _Batch:
    """Writes that will share one transaction, and the news of how it went."""

    def __init__(self) -> None:
        self.ops: list[StoreOp] = []
        self.done = anyio.Event()
        self.error: BaseException | None = None


class StateStore:
    """Open with ``async with await StateStore.open(path) as store:`` (or ``await store.close()``)."""

    def __init__(
        self, path: str, db: aiosqlite.Connection, lock_fd: int, linger_s: float, link_cache: int = CAPACITY
    ) -> None:
        self.path = path
        self._db = db
        self._lock_fd = lock_fd
        self._linger_s = linger_s
        self._batch = _Batch()
        self._committing = False
        self.transactions = 0
        """Write transactions so far: with group commit, far fewer than ``commit`` calls."""
        self.schema_version = SCHEMA_VERSION
        """Below the current only for a file opened read-only (``crmsync health``), never migrated."""
        self.links = LinkCache(link_cache)
        """The links committed lately (``engine/link_cache.py``): ``links_by_*`` look here first."""

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    async def open(
        cls, path: str | Path, *, linger_s: float = 0.002, link_cache: int = CAPACITY
    ) -> StateStore:
        path = str(path)
        lock_fd = _lock(path)
        try:
            db = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            os.close(lock_fd)
            raise StateFileError(path, f"cannot be opened ({exc})") from exc
        try:
            await _prepare(db, path)
        except BaseException:
            await db.close()
            os.close(lock_fd)
            raise
        return cls(path, db, lock_fd, linger_s, link_cache)

    async def close(self) -> None:
        with anyio.CancelScope(shield=True):
            if self._batch.ops:
                await self._commit_batch()
            await self._db.close()
            os.close(self._lock_fd)

    async def __aenter__(self) -> StateStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- writes (group commit) -----------------------------------------------------------------

    async def commit(self, ops: Iterable[StoreOp]) -> None:
        """Make ``ops`` durable, in one transaction with whatever other callers commit meanwhile."""
        batch = self._batch
        batch.ops.extend(ops)
        if self._committing:
            await batch.done.wait()
        else:
            self._committing = True
            try:
                # Leader: give concurrent actors a moment to join, then commit for everyone.
                await anyio.sleep(self._linger_s)
            finally:
                # Even when the leader is cancelled, the followers' writes must not be stranded.
                with anyio.CancelScope(shield=True):
                    await self._commit_batch()
                    while self._batch.ops:  # writes that arrived during our commit
                        await self._commit_batch()
                self._committing = False
        if batch.error is not None:
            raise StateFileError(self.path, f"write failed ({batch.error})") from batch.error

    async def _commit_batch(self) -> None:
        batch, self._batch = self._batch, _Batch()
        self.transactions += 1
        try:
            with anyio.CancelScope(shield=True):  # a half-sent transaction helps nobody
                await self._db.execute("BEGIN IMMEDIATE")
                try:
                    for sql, rows in _statements(batch.ops):
                        await self._db.executemany(sql, rows)
                    if failpoints.ARMED:
                        failpoints.hit("store_commit")
                    await self._db.execute("COMMIT")
                except BaseException:
                    await self._db.execute("ROLLBACK")
                    raise
            self._cache_links(batch.ops)
        except sqlite3.Error as exc:
            batch.error = exc
        finally:
            batch.done.set()

    def _cache_links(self, ops: Sequence[StoreOp]) -> None:
        """The committed transaction's links, in its order, into the cache."""
        for op in ops:
            if isinstance(op, PutLink):
                self.links.put(op.link)
            elif isinstance(op, DeleteLink):
                self.links.delete(op.key)

    # -- reads ---------------------------------------------------------------------------------

    async def links_by_hubspot(self, obj: str, ids: Sequence[str]) -> dict[str, Link]:
        return await self._links_by("hubspot_id", self.links.by_hubspot, obj, ids)

    async def links_by_salesforce(self, obj: str, ids: Sequence[str]) -> dict[str, Link]:
        return await self._links_by("salesforce_id", self.links.by_salesforce, obj, ids)

    async def _links_by(
        self, column: str, cached: Callable[[str, str], Link | None], obj: str, ids: Sequence[str]
    ) -> dict[str, Link]:
        """Links by one side's id (``column``): the cache's first, the state file's for the rest."""
        found = {i: link for i in ids if (link := cached(obj, i)) is not None}
        missing = [i for i in ids if i not in found]
        if missing:
            for link in await self._select_links(column, obj, missing):
                key = link.hubspot_id if column == "hubspot_id" else link.salesforce_id
                if key is not None:
                    # A commit may have landed while we read: the cache, filled as it commits, is newer.
                    found[key] = cached(obj, key) or link
        return found

    async def _select_links(self, column: str, obj: str, ids: Sequence[str]) -> list[Link]:
        sql = f"SELECT * FROM links WHERE object = ? AND {column} IN"  # column: ours, never input
        return [_link(row) for row in await self._select_in(sql, obj, ids)]

    async def prefetch_links(self, obj: str, side: str, ids: Sequence[str]) -> None:
        """Look the links of ``ids`` (one side's) up in one query, into the link cache: found ones
        as links, the rest as absent. A change stream's page is looked up this way before it is
        routed, so that its actors (and the router's check for echoes) find them in memory."""
        links = self.links
        missing = list({i: None for i in ids if not links.known(obj, side, i)})
        if not missing:
            return
        watch = links.watch()
        try:
            read = await self._select_links(
                "hubspot_id" if side == "hubspot" else "salesforce_id", obj, missing
            )
        finally:
            links.unwatch(watch)
        if watch.blind:
            return  # a link we never saw was deleted meanwhile: what we read may include it
        found: set[str] = set()
        for link in read:
            record_id = link.hubspot_id if side == "hubspot" else link.salesforce_id
            if record_id is None:
                continue
            found.add(record_id)
            ids_of = {("hubspot", link.hubspot_id), ("salesforce", link.salesforce_id)}
            if not ids_of & watch.ids:
                links.read(link)
        for record_id in missing:
            if record_id not in found and (side, record_id) not in watch.ids:
                links.read_absent(obj, side, record_id)

    async def count_links(self, obj: str) -> int:
        rows = await self._rows("SELECT count(*) FROM links WHERE object = ?", (obj,))
        return int(rows[0][0]) if rows else 0

    async def cursor(self, stream: str) -> Cursor | None:
        sql = "SELECT ts_ms, last_id, floor_ms FROM cursors WHERE stream = ?"
        rows = await self._rows(sql, (stream,))
        return (
            Cursor(ts_ms=int(rows[0][0]), last_id=str(rows[0][1]), floor_ms=int(rows[0][2])) if rows else None
        )

    async def settled_mark(self, stream: str) -> int | None:
        """The stream's settled mark as last checkpointed; None when unknown (none saved yet, or
        a file older than schema 3 opened read-only)."""
        if self.schema_version < 3:
            return None
        rows = await self._rows("SELECT settled_ms FROM cursors WHERE stream = ?", (stream,))
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    async def api_calls_since(self, system: str, minute: int) -> int:
        """Calls recorded for ``system`` in minutes >= ``minute``."""
        sql = "SELECT coalesce(sum(calls), 0) FROM api_ledger WHERE system = ? AND minute >= ?"
        rows = await self._rows(sql, (system, minute))
        return int(rows[0][0]) if rows else 0

    async def api_ledger(self, system: str, since_minute: int) -> list[tuple[int, int]]:
        """(minute, calls) rows for ``system`` from ``since_minute`` on, oldest first."""
        sql = "SELECT minute, calls FROM api_ledger WHERE system = ? AND minute >= ? ORDER BY minute"
        return [(int(r[0]), int(r[1])) for r in await self._rows(sql, (system, since_minute))]

    async def prune_api_ledger(self, before_minute: int) -> None:
        try:
            await self._db.execute("DELETE FROM api_ledger WHERE minute < ?", (before_minute,))
        except sqlite3.Error as exc:
            raise StateFileError(self.path, f"write failed ({exc})") from exc

    async def sync_errors(self) -> list[SyncErrorRow]:
        sql = "SELECT * FROM sync_errors ORDER BY error_type, last_seen_ms"
        rows = await self._rows(sql, ())
        return [
            SyncErrorRow(
                object=r[0],
                system=r[1],
                record_id=r[2],
                error_type=r[3],
                message=r[4],
                fix=r[5],
                first_seen_ms=r[6],
                last_seen_ms=r[7],
                attempts=r[8],
            )
            for r in rows
        ]

    async def runs(self, limit: int) -> list[RunRow]:
        """The newest ``limit`` runs, newest first; none in a schema-1 file (no history yet)."""
        if self.schema_version < 2:
            return []
        return [run_row(r) for r in await self._rows(SELECT_RUNS, (limit,))]

    async def open_runs(self) -> list[RunRow]:
        """Runs without an outcome: alive, or killed before they could record one."""
        return [run_row(r) for r in await self._rows(SELECT_OPEN_RUNS, ())]

    async def next_run_id(self) -> int:
        rows = await self._rows(NEXT_RUN_ID, ())
        return int(rows[0][0])

    async def _select_in(self, sql: str, obj: str, ids: Sequence[str]) -> list[sqlite3.Row]:
        out: list[sqlite3.Row] = []
        for i in range(0, len(ids), _IN_CHUNK):
            chunk = ids[i : i + _IN_CHUNK]
            query = f"{sql} ({','.join('?' * len(chunk))})"
            out.extend(await self._rows(query, (obj, *chunk)))
        return out

    async def _rows(self, sql: str, params: tuple[object, ...]) -> list[sqlite3.Row]:
        # A page damaged behind an intact schema only shows when it is read, mid-run: that stops
        # the engine with the state file's one-line message, like damage found at open.
        try:
            # One thread hop (a cursor's execute, fetch and close were three).
            return list(await self._db.execute_fetchall(sql, params))
        except sqlite3.Error as exc:
            raise StateFileError(self.path, f"read failed ({exc})") from exc


def _link(row: sqlite3.Row) -> Link:
    return Link(
        key=row[0],
        object=row[1],
        hubspot_id=row[2],
        salesforce_type=row[3],
        salesforce_id=row[4],
        bases=_decode_bases(row[5]),
        hubspot_modified_ms=row[6],
        salesforce_modified_ms=row[7],
    )


def _lock(path: str) -> int:
    """One engine per state file: a second one would race the first into duplicate creates."""
    lock_path = path + ".lock"
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StateFileError(path, f"cannot create its lock file {lock_path} ({exc.strerror})") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        raise StateFileError(path, "is in use by another crmsync process") from exc
    return fd


async def _prepare(db: aiosqlite.Connection, path: str) -> None:
    try:
        await db.execute("PRAGMA busy_timeout = 5000")
        # The schema is checked before anything is written: switching to WAL rewrites the file's
        # header, and a file we refuse (someone else's database, a newer crmsync's) must be left
        # byte for byte as it was.
        version = await _schema_version(db)
        if version > SCHEMA_VERSION:
            raise StateFileError(
                path, f"was written by a newer crmsync (schema {version}; this one knows {SCHEMA_VERSION})"
            )
        # Damage behind an intact schema would otherwise only show at its first read, mid-run,
        # after the engine had written into a damaged file. quick_check reads every page once
        # (about a second per few hundred MB), which a state file that stops duplicates is worth.
        async with db.execute("PRAGMA quick_check(1)") as cur:
            check = await cur.fetchone()
        if check is None or check[0] != "ok":
            detail = " ".join(str(check[0]).split()) if check else "no integrity answer"  # one line
            raise sqlite3.DatabaseError(f"damaged: {detail}")
        async with db.execute("PRAGMA journal_mode = WAL") as cur:
            mode = await cur.fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            raise StateFileError(path, "cannot switch to WAL mode (is the file or its folder read-only?)")
        await db.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.OperationalError as exc:
        raise StateFileError(path, f"cannot be used ({exc})") from exc
    except sqlite3.DatabaseError as exc:
        raise StateFileError(path, f"is not a usable crmsync state file ({exc})") from exc
    try:
        # Another SQLite client (not crmsync: our lock file covers that) may hold the write lock;
        # find out now, with a clear message, rather than at the first write mid-run.
        await db.execute("BEGIN IMMEDIATE")
        await db.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        if "readonly" in str(exc):  # "attempt to write a readonly database": no lock involved
            raise StateFileError(path, f"is read-only ({exc})") from exc
        raise StateFileError(path, f"is locked by another program ({exc})") from exc
    await migrate(db, path, version)


async def _schema_version(db: aiosqlite.Connection) -> int:
    async with db.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cur:
        tables = {str(r[0]) for r in await cur.fetchall()}
    if not tables:
        return 0
    if "meta" not in tables:
        raise sqlite3.DatabaseError(
            f"it holds other tables ({', '.join(sorted(tables))}) and no crmsync schema"
        )
    async with db.execute("SELECT value FROM meta WHERE key = 'schema_version'") as cur:
        row = await cur.fetchone()
    if row is None:
        raise sqlite3.DatabaseError("its schema version is missing")
    return int(row[0])
