"""The state file's schema and its migrations, by version number.

A state file is precious: its links are what stop a restart from re-creating records. So an
unknown, newer or damaged file is refused with a clear message, never silently reset.
"""

from __future__ import annotations

SCHEMA_VERSION = 3

# Version 1 exactly as crmsync 1 created it. Frozen: a file from that release is migrated from this
# shape, and the migration tests build their version-1 files from it, so it must never be edited
# as the live schema evolves (later changes are later steps below).
SCHEMA_V1: tuple[str, ...] = (
    """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    # One row per linked record pair. ``bases`` holds the last values both sides agreed on,
    # per mapped field, as msgspec JSON: one row per pair keeps reads to one IN (...) query.
    """CREATE TABLE links (
            key TEXT PRIMARY KEY,
            object TEXT NOT NULL,
            hubspot_id TEXT,
            salesforce_type TEXT,
            salesforce_id TEXT,
            bases BLOB NOT NULL,
            hubspot_modified_ms INTEGER NOT NULL DEFAULT 0,
            salesforce_modified_ms INTEGER NOT NULL DEFAULT 0,
            updated_ms INTEGER NOT NULL
        )""",
    "CREATE UNIQUE INDEX links_hubspot ON links (object, hubspot_id) WHERE hubspot_id IS NOT NULL",
    "CREATE UNIQUE INDEX links_salesforce ON links (object, salesforce_id) WHERE salesforce_id IS NOT NULL",
    # A change stream's position: the (timestamp, id) of the last change durably handled, and
    # its floor: changes at or before the first run's start never sync by themselves.
    """CREATE TABLE cursors (
            stream TEXT PRIMARY KEY,
            ts_ms INTEGER NOT NULL,
            last_id TEXT NOT NULL,
            floor_ms INTEGER NOT NULL DEFAULT 0
        )""",
    # API calls per system per minute; the rolling 24-hour sum survives restarts.
    """CREATE TABLE api_ledger (
            system TEXT NOT NULL,
            minute INTEGER NOT NULL,
            calls INTEGER NOT NULL,
            PRIMARY KEY (system, minute)
        ) WITHOUT ROWID""",
    """CREATE TABLE sync_errors (
            object TEXT NOT NULL,
            system TEXT NOT NULL,
            record_id TEXT NOT NULL,
            error_type TEXT NOT NULL,
            message TEXT NOT NULL,
            fix TEXT NOT NULL,
            first_seen_ms INTEGER NOT NULL,
            last_seen_ms INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            PRIMARY KEY (object, system, record_id)
        ) WITHOUT ROWID""",
)

# Version 2: the run history, one row per ``crmsync run``. ``outcome`` stays NULL while the run is
# alive; a run killed with kill -9 keeps NULL until the next run marks it ``interrupted``. The
# counts are the run's summary, in columns so that plain SQL can total them.
V1_TO_V2: tuple[str, ...] = (
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_ms INTEGER NOT NULL,
        ended_ms INTEGER,
        mode TEXT NOT NULL,
        backfill INTEGER NOT NULL DEFAULT 0,
        pid INTEGER NOT NULL,
        outcome TEXT,
        detail TEXT,
        synced INTEGER NOT NULL DEFAULT 0,
        created_hubspot INTEGER NOT NULL DEFAULT 0,
        created_salesforce INTEGER NOT NULL DEFAULT 0,
        updated_hubspot INTEGER NOT NULL DEFAULT 0,
        updated_salesforce INTEGER NOT NULL DEFAULT 0,
        deleted_hubspot INTEGER NOT NULL DEFAULT 0,
        deleted_salesforce INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        api_calls_hubspot INTEGER NOT NULL DEFAULT 0,
        api_calls_salesforce INTEGER NOT NULL DEFAULT 0
    )""",
)

# Version 3: a stream's settled mark beside its cursor (every stamp up to it has been read once it
# could no longer change, see ``actors/stream.py``), so a restart does not read the last minute of
# each stream again. NULL (a row from an older version) means unknown: the look-back reads it once.
V2_TO_V3: tuple[str, ...] = ("ALTER TABLE cursors ADD COLUMN settled_ms INTEGER",)

# Each entry upgrades the schema from version ``i`` to ``i + 1`` (index 0 creates version 1 in a
# new, empty file). Append only: a released step never changes, or files it already migrated
# would differ from files it migrates from now on.
MIGRATIONS: tuple[tuple[str, ...], ...] = (SCHEMA_V1, V1_TO_V2, V2_TO_V3)

assert len(MIGRATIONS) == SCHEMA_VERSION
