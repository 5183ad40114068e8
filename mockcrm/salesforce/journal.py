"""An undo log, so ``/composite`` with ``allOrNone`` can roll back the subrequests that succeeded.

While ``Org.journal`` is a list, every commit appends how to undo itself; rolling back replays
those entries newest first. Outside composite calls the journal is None and costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from mockcrm.salesforce.rules import duplicate_key
from mockcrm.salesforce.store import Record, Table, unique_key


@dataclass
class Undo:
    table: Table
    id15: str
    before: Record | None
    """The record as it was (None: it was created)."""
    stamp_ms: int | None
    deleted: bool = False


def _drop_indexes(table: Table, id15: str, rec: Record, fields_by_rule: dict[str, list[str]]) -> None:
    for f, index in table.unique.items():
        v = rec.get(f)
        if v is not None and index.get(unique_key(v)) == id15:
            del index[unique_key(v)]
    for name, fields in fields_by_rule.items():
        key = duplicate_key(rec, fields)
        if key is not None:
            table.dup_index.get(name, {}).get(key, set()).discard(id15)


def _add_indexes(table: Table, id15: str, rec: Record, fields_by_rule: dict[str, list[str]]) -> None:
    for f, index in table.unique.items():
        v = rec.get(f)
        if v is not None:
            index[unique_key(v)] = id15
    for name, fields in fields_by_rule.items():
        key = duplicate_key(rec, fields)
        if key is not None:
            table.dup_index.setdefault(name, {}).setdefault(key, set()).add(id15)


def roll_back(entries: list[Undo], fields_by_rule: dict[str, dict[str, list[str]]]) -> None:
    for u in reversed(entries):
        table = u.table
        rules = fields_by_rule.get(table.name, {})
        current = table.records.get(u.id15)
        if current is None:
            continue
        if not current.get("IsDeleted"):
            _drop_indexes(table, u.id15, current, rules)
        if u.before is None:  # undo a create
            del table.records[u.id15]
            if table.keys and table.keys[-1] == u.id15:
                table.keys.pop()
            else:
                table.keys.remove(u.id15)
            table.live -= 1
            table.stamp_of.pop(u.id15, None)
            continue
        if u.deleted:
            table.live += 1
            for i in range(len(table.deleted_log) - 1, -1, -1):
                if table.deleted_log[i][1][:15] == u.id15:
                    del table.deleted_log[i]
                    break
        table.records[u.id15] = u.before
        table.index_lookup(u.id15, current, u.before)
        _add_indexes(table, u.id15, u.before, rules)
        if u.stamp_ms is not None:
            table.touch(u.id15, u.stamp_ms)
