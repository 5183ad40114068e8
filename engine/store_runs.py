"""The run history's SQL (schema 2): what ``StateStore`` runs for the run operations and reads."""

from __future__ import annotations

import sqlite3

from engine.store_types import EndRun, InterruptOpenRuns, PruneRuns, RunRow, Sides, StartRun, StoreOp

_COUNTS = (
    "synced, created_hubspot, created_salesforce, updated_hubspot, updated_salesforce,"
    " deleted_hubspot, deleted_salesforce, errors, api_calls_hubspot, api_calls_salesforce"
)

RUN_SQL: dict[type[StoreOp], str] = {
    InterruptOpenRuns: "UPDATE runs SET outcome = 'interrupted' WHERE outcome IS NULL",
    StartRun: "INSERT INTO runs (id, started_ms, mode, backfill, pid) VALUES (?, ?, ?, ?, ?)",
    PruneRuns: "DELETE FROM runs WHERE id <= (SELECT max(id) FROM runs) - ?",
    EndRun: """UPDATE runs SET ended_ms = ?, outcome = ?, detail = ?, synced = ?,
                   created_hubspot = ?, created_salesforce = ?, updated_hubspot = ?,
                   updated_salesforce = ?, deleted_hubspot = ?, deleted_salesforce = ?, errors = ?,
                   api_calls_hubspot = ?, api_calls_salesforce = ?
               WHERE id = ?""",
}

_COLUMNS = f"id, started_ms, ended_ms, mode, backfill, pid, outcome, detail, {_COUNTS}"
SELECT_RUNS = f"SELECT {_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?"
"""The newest runs first."""
SELECT_OPEN_RUNS = f"SELECT {_COLUMNS} FROM runs WHERE outcome IS NULL ORDER BY id"
NEXT_RUN_ID = "SELECT coalesce(max(id), 0) + 1 FROM runs"


def run_params(op: InterruptOpenRuns | StartRun | EndRun | PruneRuns) -> tuple[object, ...]:
    match op:
        case PruneRuns(keep=keep):
            return (keep,)
        case InterruptOpenRuns():
            return ()
        case StartRun(run=r):
            return (r.id, r.started_ms, r.mode, int(r.backfill), r.pid)
        case EndRun(run=r):
            return (
                r.ended_ms,
                r.outcome,
                r.detail,
                r.synced,
                r.created.hubspot,
                r.created.salesforce,
                r.updated.hubspot,
                r.updated.salesforce,
                r.deleted.hubspot,
                r.deleted.salesforce,
                r.errors,
                r.api_calls.hubspot,
                r.api_calls.salesforce,
                r.id,
            )


def run_row(row: sqlite3.Row | tuple[object, ...]) -> RunRow:
    r = tuple(row)
    n = [int(v) if isinstance(v, int) else 0 for v in r[8:18]]
    return RunRow(
        id=int(str(r[0])),
        started_ms=int(str(r[1])),
        ended_ms=None if r[2] is None else int(str(r[2])),
        mode=str(r[3]),
        backfill=bool(r[4]),
        pid=int(str(r[5])),
        outcome=None if r[6] is None else str(r[6]),
        detail=None if r[7] is None else str(r[7]),
        synced=n[0],
        created=Sides(hubspot=n[1], salesforce=n[2]),
        updated=Sides(hubspot=n[3], salesforce=n[4]),
        deleted=Sides(hubspot=n[5], salesforce=n[6]),
        errors=n[7],
        api_calls=Sides(hubspot=n[8], salesforce=n[9]),
    )
