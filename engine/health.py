"""Sync health (SPEC §8, §9): API calls per system against the allotments, and the sync errors.

``crmsync health`` and ``crmsync errors`` read the state file *read-only* and without its lock, so
they work while ``crmsync run`` holds it, never create a state file and never migrate one. Calls
in the last 24 h come from the API ledger the budget writes before every call; "limited by
Salesforce" is the org's ``DailyApiRequests`` from ``/limits`` (None when it cannot be read).
Nothing here ever puts a token into its output or its error messages.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote as urlquote

import aiohttp
import aiosqlite
import anyio
import msgspec
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from engine.auth import TokenProvider, salesforce_grant
from engine.budget import WINDOW_MINUTES
from engine.errors import AuthFailed, StateFileError, Transient
from engine.http import ssl_context
from engine.runs_view import RunView, run_view, runs_table
from engine.settings import Settings
from engine.store import StateStore
from engine.store_schema import SCHEMA_VERSION
from engine.store_types import SyncErrorRow

LIMITS_TIMEOUT_S = 10.0
HEALTH_RUNS = 5
"""The last runs ``crmsync health`` shows (``crmsync runs`` shows more)."""


class HubSpotHealth(msgspec.Struct, kw_only=True):
    calls_24h: int
    allotment: int
    remaining: int


class SalesforceHealth(msgspec.Struct, kw_only=True):
    calls_24h: int
    allotment: int
    limited_by_salesforce: int | None
    """The org's DailyApiRequests Max, shared by every integration; None when /limits is unreachable."""
    remaining: int


class ErrorGroup(msgspec.Struct, kw_only=True):
    errors: int
    records: int


class ErrorsHealth(msgspec.Struct, kw_only=True):
    total: int
    by_type: dict[str, ErrorGroup]


class Health(msgspec.Struct, kw_only=True):
    """Field order is the documented ``crmsync health --json`` shape."""

    hubspot: HubSpotHealth
    salesforce: SalesforceHealth
    errors: ErrorsHealth
    runs: list[RunView] = msgspec.field(default_factory=list)
    """The last runs, newest first."""
    notes: list[str] = msgspec.field(default_factory=list)
    """What a reader should know beside the figures (not part of the JSON shape)."""

    def public(self) -> dict[str, object]:
        """Exactly the documented ``--json`` keys."""
        out: dict[str, object] = msgspec.to_builtins(self)
        out.pop("notes")
        return out


class OrgLimit(msgspec.Struct, frozen=True):
    Max: int
    Remaining: int


class _Limits(msgspec.Struct, frozen=True):
    DailyApiRequests: OrgLimit


_limits = msgspec.json.Decoder(_Limits)


async def open_read_only(path: str | Path) -> StateStore:
    """The state file for reading only: no lock, no migration, never created."""
    path = str(path)
    if not await anyio.Path(path).is_file():
        raise StateFileError(path, "does not exist (crmsync run creates it)")
    try:
        db = await aiosqlite.connect(f"file:{urlquote(path)}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StateFileError(path, f"cannot be opened for reading ({exc})") from exc
    try:
        version = await _check_version(db, path)
    except BaseException:
        await db.close()
        raise
    # StateStore closes the fd it is given; a reader holds no lock, so it gets one of its own.
    store = StateStore(path, db, os.open(os.devnull, os.O_RDONLY), 0.0)
    store.schema_version = version
    return store


async def _check_version(db: aiosqlite.Connection, path: str) -> int:
    """The file's schema version; an older one is read as it is (a report never migrates)."""
    try:
        async with db.execute("SELECT value FROM meta WHERE key = 'schema_version'") as cur:
            row = await cur.fetchone()
        # A report from a damaged file would read as "all well" while crmsync run refuses it.
        async with db.execute("PRAGMA quick_check(1)") as cur:
            check = await cur.fetchone()
        if check is None or check[0] != "ok":
            detail = " ".join(str(check[0]).split()) if check else "no integrity answer"  # one line
            raise sqlite3.DatabaseError(f"damaged: {detail}")
    except sqlite3.DatabaseError as exc:
        raise StateFileError(path, f"is not a usable crmsync state file ({exc})") from exc
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise StateFileError(
            path, f"was written by a newer crmsync (schema {version}; this one knows {SCHEMA_VERSION})"
        )
    if version < 1:
        raise StateFileError(path, "is not a usable crmsync state file (its schema version is missing)")
    return version


def _old_schema_note(store: StateStore) -> list[str]:
    if store.schema_version >= SCHEMA_VERSION:
        return []
    return [
        f"The state file has schema {store.schema_version} (no run history yet); the next crmsync run "
        f"upgrades it to {SCHEMA_VERSION}, keeping a backup."
    ]


async def read_runs(settings: Settings, limit: int) -> tuple[list[RunView], list[str]]:
    """The newest ``limit`` runs, and notes for the reader (an old schema has no history)."""
    store = await open_read_only(settings.state.path)
    try:
        return [run_view(r) for r in await store.runs(limit)], _old_schema_note(store)
    finally:
        await store.close()


async def salesforce_org_limit(settings: Settings) -> OrgLimit | str:
    """DailyApiRequests from ``/limits``, or why it could not be read (never raises). The reason
    names the HTTP status or the exception type only: nothing that could carry the token."""
    sf = settings.salesforce
    try:
        ssl = ssl_context(sf.ca_file)
        timeout = aiohttp.ClientTimeout(total=LIMITS_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(ssl=ssl)) as session:
            # With refresh credentials, a token comes from the token endpoint (once more on a 401).
            auth = TokenProvider("salesforce", sf.token, salesforce_grant(sf), session, backoff_s=0.2)
            for _ in range(2):
                token, generation = await auth.bearer()
                headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
                base = auth.instance_url or sf.instance_url.rstrip("/")
                url = f"{base}/services/data/v{sf.api_version}/limits"
                async with session.get(url, headers=headers) as resp:
                    status, body = resp.status, await resp.read()
                if status != 401 or not auth.can_refresh:
                    break
                await auth.refresh_after(generation)
            if status in (401, 403):
                return f"Salesforce refused the credentials (HTTP {status})"
            if status != 200:
                return f"Salesforce answered HTTP {status}"
            return _limits.decode(body).DailyApiRequests
    except AuthFailed:  # its message names the keys to fix; it never holds a secret, but keep it short
        return "Salesforce refused the OAuth refresh credentials"
    except Transient:
        return "Salesforce's OAuth token endpoint is not reachable"
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return f"Salesforce is not reachable ({type(exc).__name__})"
    except (msgspec.DecodeError, ValueError):
        return "Salesforce's /limits answer has no DailyApiRequests"


def group_errors(rows: Iterable[SyncErrorRow]) -> ErrorsHealth:
    """Per type: stored errors, and the distinct records they concern."""
    errors: dict[str, int] = {}
    records: dict[str, set[tuple[str, str, str]]] = {}
    for row in rows:
        errors[row.error_type] = errors.get(row.error_type, 0) + 1
        records.setdefault(row.error_type, set()).add((row.object, row.system, row.record_id))
    by_type = {t: ErrorGroup(errors=n, records=len(records[t])) for t, n in sorted(errors.items())}
    return ErrorsHealth(total=sum(errors.values()), by_type=by_type)


async def read_health(settings: Settings, *, now: float | None = None, ask_salesforce: bool = True) -> Health:
    minute = int((time.time() if now is None else now) // 60)
    since = minute - WINDOW_MINUTES + 1  # the same rolling window the budget keeps
    store = await open_read_only(settings.state.path)
    try:
        hs_calls = await store.api_calls_since("hubspot", since)
        sf_calls = await store.api_calls_since("salesforce", since)
        errors = group_errors(await store.sync_errors())
        runs = [run_view(r) for r in await store.runs(HEALTH_RUNS)]
        notes = _old_schema_note(store)
    finally:
        await store.close()
    org = await salesforce_org_limit(settings) if ask_salesforce else "not asked"
    if not isinstance(org, OrgLimit):
        notes.append(f"Limited by Salesforce is unknown: {org}.")
    hs_allot = settings.hubspot.daily_api_allotment
    sf_allot = settings.salesforce.daily_api_allotment
    sf_left = sf_allot - sf_calls
    if isinstance(org, OrgLimit):
        sf_left = min(sf_left, org.Remaining)  # other integrations spend the org's calls too
    health = Health(
        hubspot=HubSpotHealth(calls_24h=hs_calls, allotment=hs_allot, remaining=max(0, hs_allot - hs_calls)),
        salesforce=SalesforceHealth(
            calls_24h=sf_calls,
            allotment=sf_allot,
            limited_by_salesforce=org.Max if isinstance(org, OrgLimit) else None,
            remaining=max(0, sf_left),
        ),
        errors=errors,
        runs=runs,
        notes=notes,
    )
    for name, system in (("HubSpot", health.hubspot), ("Salesforce", health.salesforce)):
        if system.remaining == 0:
            health.notes.append(
                f"{name}: no calls left in the rolling 24 h; crmsync run pauses that direction and "
                "resumes by itself as older calls leave the window."
            )
    return health


async def read_errors(settings: Settings) -> list[SyncErrorRow]:
    store = await open_read_only(settings.state.path)
    try:
        return await store.sync_errors()
    finally:
        await store.close()


# -- rendering ---------------------------------------------------------------------------------


def _utc(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))


def health_view(health: Health) -> RenderableType:
    api = Table(title="API calls, rolling 24 h", title_justify="left")
    for column in ("System", "Used (24 h)", "Allotment", "Limited by Salesforce", "Remaining"):
        api.add_column(column, justify="left" if column == "System" else "right")
    hs, sf = health.hubspot, health.salesforce
    api.add_row("HubSpot", f"{hs.calls_24h:,}", f"{hs.allotment:,}", "—", f"{hs.remaining:,}")
    limited = "unknown" if sf.limited_by_salesforce is None else f"{sf.limited_by_salesforce:,}"
    api.add_row("Salesforce", f"{sf.calls_24h:,}", f"{sf.allotment:,}", limited, f"{sf.remaining:,}")
    errors = Table(title=f"Sync errors: {health.errors.total}", title_justify="left")
    errors.add_column("Type")
    errors.add_column("Errors", justify="right")
    errors.add_column("Records", justify="right")
    for name, group in health.errors.by_type.items():
        errors.add_row(name, str(group.errors), str(group.records))
    if not health.errors.by_type:
        errors.add_row("(none)", "0", "0")
    notes = [Text(f"• {note}", style="yellow") for note in health.notes]
    runs = runs_table(health.runs, "Last runs, newest first (crmsync runs lists more)")
    return Group(api, *notes, "", errors, "", runs)


def errors_view(rows: list[SyncErrorRow]) -> RenderableType:
    """One block per error rather than a table: messages and fixes are sentences, which a table
    at terminal width would squeeze into one word per line."""
    parts: list[RenderableType] = [Text(f"Sync errors: {len(rows)}", style="bold")]
    for e in rows:
        times = "attempt" if e.attempts == 1 else "attempts"
        head = Text.assemble(
            (f"{e.system} {e.object} {e.record_id}", "bold"),
            "  ",
            (e.error_type, "yellow"),
            f"  {e.attempts} {times}, first seen {_utc(e.first_seen_ms)} UTC,"
            f" last seen {_utc(e.last_seen_ms)} UTC",
        )
        parts += [
            "",
            head,
            Padding(Text(e.message), (0, 0, 0, 2), expand=False),
            Padding(Text(f"Fix: {e.fix}"), (0, 0, 0, 2), expand=False),
        ]
    return Group(*parts)


def console() -> Console:
    """stdout; off a terminal (a pipe, a CI log) wider than rich's 80 columns unless COLUMNS says."""
    if sys.stdout.isatty() or "COLUMNS" in os.environ:
        return Console()
    return Console(width=140)
