"""Creates, updates, deletes and upserts against the org, in two steps: prepare, then commit.

``prepare_*`` checks everything (fields, org rules, uniqueness, duplicates) and changes nothing;
``commit`` applies a prepared write. Collections with ``allOrNone`` prepare every record before
committing any, so a failure leaves the org untouched; ``Pending`` carries what earlier records of
the same request claim (unique values) so two records of one batch cannot both take one value.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from mockcrm.salesforce import derived, geo
from mockcrm.salesforce.duplicates import duplicates_detected, index_duplicates, unindex_duplicates
from mockcrm.salesforce.errors import RecordError
from mockcrm.salesforce.ids import key15
from mockcrm.salesforce.journal import Undo
from mockcrm.salesforce.org import Org
from mockcrm.salesforce.rules import duplicate_key
from mockcrm.salesforce.store import Record, Table, unique_key
from mockcrm.salesforce.validation import check_values

_SKIP = frozenset({"attributes"})
_SKIP_WITH_ID = frozenset({"attributes", "id"})


class Prepared(msgspec.Struct):
    table: Table
    id15: str | None
    """None for a create (the id is assigned at commit)."""
    record: Record
    """The complete record as it will be stored."""
    changed: Record


class Pending:
    """Unique values claimed by the not-yet-committed records of one request."""

    def __init__(self) -> None:
        self.unique: dict[tuple[str, str], str] = {}


def _org_checks(
    org: Org, table: Table, id15: str | None, rec: Record, changed: Record, pending: Pending | None
) -> list[RecordError]:
    name = table.name
    errors: list[RecordError] = [
        rule.error() for rule in org.validation_rules.get(name, ()) if rule.violated(rec)
    ]
    if errors:
        return errors
    for field, index in table.unique.items():
        value = changed.get(field)
        if value is None:
            continue
        key = unique_key(value)
        holder = index.get(key)
        if holder is not None and holder != id15:
            errors.append(
                RecordError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {field} duplicates value on record with id: "
                    f"{table.records[holder]['Id']}",
                    [],
                )
            )
        elif pending is not None:
            claimed = pending.unique.get((field, key))
            if claimed is not None and claimed != (id15 or ""):
                errors.append(
                    RecordError(
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {field} duplicates value on record with id: ",
                        [],
                    )
                )
    if errors:
        return errors
    for dup in org.duplicate_rules.get(name, ()):
        dkey = duplicate_key(rec, dup.fields)
        if dkey is None:
            continue
        matches = [i for i in table.dup_index.get(dup.name, {}).get(dkey, set()) if i != id15]
        if matches:
            errors.append(duplicates_detected(table, dup.name, dup.message, matches))
            break
    return errors


def _claim(pending: Pending | None, table: Table, id15: str | None, changed: Record) -> None:
    if pending is None:
        return
    for field in table.unique:
        value = changed.get(field)
        if value is not None:
            pending.unique[(field, unique_key(value))] = id15 or ""


def _finish(org: Org, table: Table, rec: Record, changed: Record) -> None:
    derived.recompute(table.name, rec, changed)
    for fd, formula in org.formulas.get(table.name, ()):
        rec[fd.name] = formula.evaluate(rec, fd.type)


def prepare_create(
    org: Org, table: Table, values: Mapping[str, object], pending: Pending | None = None
) -> Prepared | list[RecordError]:
    obj = table.sobject
    clean, errors = check_values(obj, values, creating=True, ref_check=org.check_reference, skip=_SKIP)
    if org.state_country and obj.address_groups:
        errors += geo.apply(obj, None, clean)
    if errors:
        return errors
    rec = org.template(table.name)
    rec.update(clean)
    derived.apply_defaults(table.name, rec, clean)
    _finish(org, table, rec, rec)
    errors = _org_checks(org, table, None, rec, clean, pending)
    if errors:
        return errors
    _claim(pending, table, None, clean)
    return Prepared(table, None, rec, clean)


def prepare_update(
    org: Org,
    table: Table,
    record_id: str,
    values: Mapping[str, object],
    pending: Pending | None = None,
    skip_id: bool = False,
    known15: str | None = None,
) -> Prepared | list[RecordError]:
    """``known15``: the caller already resolved the id (an upsert match), so it is not re-parsed."""
    obj = table.sobject
    k = known15 or key15(record_id)
    if k is None or record_id[:3] != obj.key_prefix:
        return [
            RecordError("MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {record_id}", ["Id"])
        ]
    old = table.get(k)
    if old is None:
        return [RecordError("NOT_FOUND", "The requested resource does not exist")]
    if old.get("IsDeleted"):
        return [RecordError("ENTITY_IS_DELETED", "entity is deleted", [])]
    if old.get("IsConverted"):
        return [RecordError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])]
    clean, errors = check_values(
        obj, values, creating=False, ref_check=org.check_reference, skip=_SKIP_WITH_ID if skip_id else _SKIP
    )
    if org.state_country and obj.address_groups:
        errors += geo.apply(obj, old, clean)
    if errors:
        return errors
    rec = dict(old)
    rec.update(clean)
    _finish(org, table, rec, clean)
    errors = _org_checks(org, table, k, rec, clean, pending)
    if errors:
        return errors
    _claim(pending, table, k, clean)
    return Prepared(table, k, rec, clean)


def commit(org: Org, p: Prepared, stamp: tuple[int, str]) -> str:
    """Apply a prepared create or update; returns the record's 18-character id."""
    ms, iso = stamp
    table, rec = p.table, p.record
    user = org.acting_user or org.user_id
    rec["LastModifiedDate"] = rec["SystemModstamp"] = iso
    rec["LastModifiedById"] = user
    if p.id15 is None:
        rid = org.ids.new_id(table.sobject.key_prefix)
        id15 = rid[:15]
        rec["Id"] = rid
        rec["CreatedDate"] = iso
        rec["CreatedById"] = user
        if "OwnerId" in rec and rec["OwnerId"] is None:
            rec["OwnerId"] = user
        if table.name == "Case":
            rec["CaseNumber"] = org.next_case_number()
        table.insert(id15, rec, ms)
        index_duplicates(org, table, id15, None, rec)
        if org.journal is not None:
            org.journal.append(Undo(table, id15, None, None))
        return rid
    id15 = p.id15
    old = table.records[id15]
    if org.journal is not None:
        org.journal.append(Undo(table, id15, old, table.stamp_of.get(id15)))
    table.reindex_unique(id15, old, p.changed)
    table.index_lookup(id15, old, rec)
    index_duplicates(org, table, id15, old, rec)
    # The prepared record replaces the stored one: the old dict is never mutated, so the undo
    # journal can keep it as it is instead of copying it.
    table.records[id15] = rec
    table.touch(id15, ms)
    return str(rec["Id"])


def prepare_delete(table: Table, record_id: str) -> str | RecordError:
    """The id15 to delete, or why not."""
    obj = table.sobject
    k = key15(record_id)
    if k is None or record_id[:3] != obj.key_prefix:
        return RecordError("MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {record_id}", ["Id"])
    rec = table.get(k)
    if rec is None:
        return RecordError("NOT_FOUND", "The requested resource does not exist")
    if rec.get("IsDeleted"):
        return RecordError("ENTITY_IS_DELETED", "entity is deleted", [])
    return k


def commit_delete(org: Org, table: Table, id15: str, stamp: tuple[int, str]) -> str:
    ms, iso = stamp
    rec = table.records[id15]
    if org.journal is not None:
        org.journal.append(Undo(table, id15, dict(rec), table.stamp_of.get(id15), deleted=True))
    unindex_duplicates(org, table, id15, rec)  # by its values as they were indexed
    rec["IsDeleted"] = True
    rec["LastModifiedDate"] = rec["SystemModstamp"] = iso
    rec["LastModifiedById"] = org.acting_user or org.user_id
    table.mark_deleted(id15, rec, ms, str(rec["Id"]))
    _cascade(org, table.name, str(rec["Id"]), stamp)
    return str(rec["Id"])


# Master-detail and cascading lookups of a default org: deleting the parent sends these children
# to the recycle bin too (they then show in /deleted and queryAll like any deleted record).
_CASCADE: dict[str, tuple[tuple[str, str], ...]] = {
    "Account": (("Contact", "AccountId"), ("Opportunity", "AccountId"), ("Case", "AccountId")),
    "Opportunity": (("OpportunityContactRole", "OpportunityId"),),
    "Contact": (("OpportunityContactRole", "ContactId"), ("CampaignMember", "ContactId")),
    "Lead": (("CampaignMember", "LeadId"),),
    "Campaign": (("CampaignMember", "CampaignId"),),
}


def _cascade(org: Org, parent: str, parent_id: str, stamp: tuple[int, str]) -> None:
    # A scan of the child tables: parents are deleted rarely next to how often records are written,
    # so a reverse index on every reference field would cost more than it saves.
    for child, field in _CASCADE.get(parent, ()):
        table = org.tables[child]
        doomed = [k for k, r in table.records.items() if r.get(field) == parent_id and not r["IsDeleted"]]
        for k in doomed:
            commit_delete(org, table, k, stamp)


def recompute_formulas(org: Org, table: Table) -> None:
    for rec in table.records.values():
        for fd, formula in org.formulas.get(table.name, ()):
            rec[fd.name] = formula.evaluate(rec, fd.type)
