"""Duplicate rules: the index of matching values per rule and the DUPLICATES_DETECTED error (B10)."""

from __future__ import annotations

from mockcrm.salesforce.errors import RecordError
from mockcrm.salesforce.org import Org
from mockcrm.salesforce.rules import duplicate_key
from mockcrm.salesforce.store import Record, Table


def duplicates_detected(table: Table, rule_name: str, message: str, ids: list[str]) -> RecordError:
    match_records = [
        {
            "additionalInformation": [],
            "fieldDiffs": [],
            "matchConfidence": 100.0,
            "record": {
                "attributes": {
                    "type": table.name,
                    "url": f"/services/data/v59.0/sobjects/{table.name}/{table.records[i]['Id']}",
                },
                "Id": table.records[i]["Id"],
            },
        }
        for i in sorted(ids)
    ]
    result = {
        "allowSave": False,
        "duplicateRule": rule_name,
        "duplicateRuleEntityType": table.name,
        "errorMessage": message,
        "matchResults": [
            {
                "entityType": table.name,
                "errors": [],
                "matchEngine": "ExactMatchEngine",
                "matchRecords": match_records,
                "rule": rule_name + "_Match_Rule",
                "size": len(ids),
                "success": True,
            }
        ],
    }
    return RecordError("DUPLICATES_DETECTED", message, [], duplicate_result=result)


def index_duplicates(org: Org, table: Table, id15: str, old: Record | None, new: Record) -> None:
    for rule in org.duplicate_rules.get(table.name, ()):
        entries = table.dup_index.setdefault(rule.name, {})
        if old is not None:
            before = duplicate_key(old, rule.fields)
            if before is not None and before in entries:
                entries[before].discard(id15)
        after = duplicate_key(new, rule.fields)
        if after is not None:
            entries.setdefault(after, set()).add(id15)


def unindex_duplicates(org: Org, table: Table, id15: str, rec: Record) -> None:
    """A deleted record matches nothing: out of each rule's entry for its values (only those)."""
    for rule in org.duplicate_rules.get(table.name, ()):
        key = duplicate_key(rec, rule.fields)
        if key is not None:
            ids = table.dup_index.get(rule.name, {}).get(key)
            if ids is not None:
                ids.discard(id15)


def rebuild_duplicate_index(org: Org, table: Table) -> None:
    table.dup_index.clear()
    for id15, rec in table.records.items():
        if not rec.get("IsDeleted"):
            index_duplicates(org, table, id15, None, rec)
