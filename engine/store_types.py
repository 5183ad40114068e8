"""What the state store holds, and the write operations callers hand to ``StateStore.commit``."""

from __future__ import annotations

from typing import Any

import msgspec


class Link(msgspec.Struct, frozen=True, kw_only=True):
    """A HubSpot record paired with a Salesforce record; followed by id only once made (R-OBJ-8)."""

    key: str
    """Stable identity of the pair, chosen when the link is made (a uuid)."""
    object: str
    """The HubSpot object type, e.g. ``contacts``."""
    hubspot_id: str | None = None
    salesforce_type: str | None = None
    """``Contact`` or ``Lead`` for contacts; the sObject for the others."""
    salesforce_id: str | None = None
    bases: dict[str, Any] = msgspec.field(default_factory=dict)
    """Per mapped field: the canonical value both sides last agreed on."""
    hubspot_modified_ms: int = 0
    salesforce_modified_ms: int = 0


class Cursor(msgspec.Struct, frozen=True, kw_only=True):
    """A change stream's position: every change up to (ts_ms, last_id) is durably handled."""

    ts_ms: int
    last_id: str
    floor_ms: int = 0
    """Changes modified at or before this (the first run's start) are never synced by the stream."""


class SyncError(msgspec.Struct, frozen=True, kw_only=True):
    """A record that could not sync, as the actor reports it."""

    object: str
    system: str
    """The system whose write or read failed: ``hubspot`` or ``salesforce``."""
    record_id: str
    error_type: str
    message: str
    fix: str
    seen_ms: int


class SyncErrorRow(msgspec.Struct, frozen=True, kw_only=True):
    """A sync error as stored, with how long and how often it has failed."""

    object: str
    system: str
    record_id: str
    error_type: str
    message: str
    fix: str
    first_seen_ms: int
    last_seen_ms: int
    attempts: int


class PutLink(msgspec.Struct, frozen=True):
    link: Link
    now_ms: int


class DeleteLink(msgspec.Struct, frozen=True):
    key: str


class PutCursor(msgspec.Struct, frozen=True):
    stream: str
    cursor: Cursor
    settled_ms: int | None = None
    """The stream's settled mark (``actors/stream.py``), or None when unknown."""


class AddApiCalls(msgspec.Struct, frozen=True):
    system: str
    minute: int
    calls: int


class PutError(msgspec.Struct, frozen=True):
    error: SyncError


class ClearError(msgspec.Struct, frozen=True):
    object: str
    system: str
    record_id: str


class Sides(msgspec.Struct, frozen=True, kw_only=True):
    """A count per CRM."""

    hubspot: int = 0
    salesforce: int = 0


class RunRow(msgspec.Struct, frozen=True, kw_only=True):
    """One ``crmsync run`` as the run history holds it (schema 2)."""

    id: int
    started_ms: int
    ended_ms: int | None
    mode: str
    """``until-idle`` or ``forever``."""
    backfill: bool
    pid: int
    outcome: str | None
    """``idle``, ``paused``, ``incomplete``, ``stopped``, ``failed`` or ``interrupted``; None while
    it runs (or after a kill -9, until the next run marks it ``interrupted``)."""
    detail: str | None
    """Why it paused or failed: ``hubspot allotment``, the fatal error's one line."""
    synced: int = 0
    created: Sides = Sides()
    updated: Sides = Sides()
    deleted: Sides = Sides()
    errors: int = 0
    api_calls: Sides = Sides()


class InterruptOpenRuns(msgspec.Struct, frozen=True):
    """Runs with no outcome, found at start: the lock says none is alive, so they were killed."""


class StartRun(msgspec.Struct, frozen=True):
    run: RunRow


class PruneRuns(msgspec.Struct, frozen=True):
    """Forget all but the newest ``keep`` runs: a run every few minutes adds up over the years."""

    keep: int


class EndRun(msgspec.Struct, frozen=True):
    run: RunRow


StoreOp = (
    PutLink
    | DeleteLink
    | PutCursor
    | AddApiCalls
    | PutError
    | ClearError
    | InterruptOpenRuns
    | StartRun
    | EndRun
    | PruneRuns
)
