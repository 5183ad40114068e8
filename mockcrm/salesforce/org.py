"""The whole mock org: object definitions, one Table per object, customisations, the clock."""

from __future__ import annotations

from mockcrm.clock import MockClock, salesforce_iso
from mockcrm.salesforce import geo
from mockcrm.salesforce.errors import RecordError, SalesforceError, not_found
from mockcrm.salesforce.ids import IdFactory, custom_prefix, key15, to18
from mockcrm.salesforce.journal import Undo
from mockcrm.salesforce.objects import custom_object, standard_objects
from mockcrm.salesforce.rules import CompiledRule, DuplicateRule, Formula
from mockcrm.salesforce.schema import FieldDef, SObjectDef
from mockcrm.salesforce.store import Record, Table

# Real SystemModstamp values have whole seconds (".000"); several changes share a stamp, which is
# exactly what makes change-stream cursors need their (SystemModstamp, Id) tie-break.
STAMP_RESOLUTION_MS = 1000

# The users of a fresh org; the first one is the API user that owns what the API creates.
_USERS = (
    ("integration@crmsync.mock", "Integration", "User", "integ"),
    ("alex.admin@crmsync.mock", "Alex", "Admin", "aadmi"),
    ("sam.sales@crmsync.mock", "Sam", "Sales", "ssale"),
)


class Org:
    def __init__(self, clock: MockClock) -> None:
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        """Back to a fresh org: standard objects only, no records but the seeded users, no rules."""
        self.ids = IdFactory()
        self.objects: dict[str, SObjectDef] = standard_objects()
        self._by_lower = {name.lower(): obj for name, obj in self.objects.items()}
        self._by_prefix = {obj.key_prefix: obj.name for obj in self.objects.values()}
        self.tables: dict[str, Table] = {name: Table(obj) for name, obj in self.objects.items()}
        self.validation_rules: dict[str, list[CompiledRule]] = {}
        self.duplicate_rules: dict[str, list[DuplicateRule]] = {}
        self.formulas: dict[str, list[tuple[FieldDef, Formula]]] = {}
        self.state_country = False
        self.custom_count = 0
        self.case_number = 1000
        self._templates: dict[str, Record] = {}
        self.journal: list[Undo] | None = None
        """Set by ``/composite`` with allOrNone while it runs, so it can undo its writes."""
        self.user_id = ""
        """The API user: owner and last modifier of what the REST API writes."""
        self.other_user_id = ""
        """A second user, the one seeded and generated records (``/__mock/seed``, workload) come from,
        so a client can tell its own writes from other people's by ``LastModifiedById``."""
        self.acting_user: str | None = None
        """Set while the store is written on another user's behalf; None = the API user."""
        now_ms = self.clock.now_ms()
        self.created_ms = now_ms - now_ms % 60_000
        """When this org was made: the earliest date its recycle bin can answer for."""
        self._seed_users()

    def _seed_users(self) -> None:
        ms, iso = self.stamp()
        for username, first, last, alias in _USERS:
            uid = self.ids.new_id("005")
            if self.user_id:
                self.other_user_id = self.other_user_id or uid
            self.user_id = self.user_id or uid
            rec = self.template("User")
            rec.update(
                {
                    "Id": uid,
                    "Username": username,
                    "Email": username,
                    "FirstName": first,
                    "LastName": last,
                    "Name": f"{first} {last}",
                    "Alias": alias,
                    "IsActive": True,
                    "CreatedDate": iso,
                    "LastModifiedDate": iso,
                    "SystemModstamp": iso,
                    "CreatedById": self.user_id,
                    "LastModifiedById": self.user_id,
                }
            )
            self.tables["User"].insert(uid[:15], rec, ms)

    # --- lookups ------------------------------------------------------------------------------------

    def sobject(self, name: str) -> SObjectDef | None:
        return self._by_lower.get(name.lower())

    def table(self, name: str) -> Table:
        """The table of an sObject named in a URL (case-insensitive), or 404 NOT_FOUND."""
        obj = self._by_lower.get(name.lower())
        if obj is None:
            raise not_found()
        return self.tables[obj.name]

    def table_for_id(self, record_id: str) -> Table | None:
        name = self._by_prefix.get(record_id[:3])
        return None if name is None else self.tables[name]

    def find(self, record_id: str) -> tuple[Table, Record] | None:
        k = key15(record_id)
        table = self.table_for_id(record_id) if k is not None else None
        if k is None or table is None:
            return None
        rec = table.get(k)
        return None if rec is None else (table, rec)

    def stamp(self) -> tuple[int, str]:
        """Now, as a (ms, Salesforce datetime) pair at SystemModstamp resolution."""
        ms = self.clock.now_ms()
        ms -= ms % STAMP_RESOLUTION_MS
        return ms, salesforce_iso(ms)

    def template(self, sobject: str) -> Record:
        """A new record of ``sobject`` with every field present (nulls are explicit, checkboxes false)."""
        tpl = self._templates.get(sobject)
        if tpl is None:
            obj = self.objects[sobject]
            tpl = {name: (False if f.type == "boolean" else None) for name, f in obj.fields.items()}
            self._templates[sobject] = tpl
        return dict(tpl)

    def record_counts(self) -> dict[str, int]:
        return {name: t.live for name, t in self.tables.items() if t.live}

    def next_case_number(self) -> str:
        self.case_number += 1
        return f"{self.case_number:08d}"

    # --- schema changes -----------------------------------------------------------------------------

    def schema_changed(self, sobject: str) -> None:
        """Give existing records the object's new fields (as nulls) and forget the cached template."""
        self._templates.pop(sobject, None)
        tpl = self.template(sobject)
        for rec in self.tables[sobject].records.values():
            for name, value in tpl.items():
                rec.setdefault(name, value)
        self.tables[sobject].refresh_unique_fields()

    def register_custom(self, name: str, label: str | None, fields: list[FieldDef]) -> SObjectDef:
        if not name.endswith("__c") or self.sobject(name) is not None:
            raise SalesforceError.one(400, "INVALID_INPUT", f"{name}: custom objects end in __c and are new")
        prefix = custom_prefix(self.custom_count)
        self.custom_count += 1
        obj = custom_object(name, prefix, label, fields)
        self.objects[name] = obj
        self._by_lower[name.lower()] = obj
        self._by_prefix[prefix] = name
        self.tables[name] = Table(obj)
        return obj

    def set_state_country(self, enabled: bool) -> None:
        if enabled == self.state_country:
            return
        self.state_country = enabled
        for obj in self.objects.values():
            if obj.address_groups:
                (geo.enable if enabled else geo.disable)(obj)
                if not enabled:
                    codes = [f + "Code" for group in obj.address_groups for f in group]
                    for rec in self.tables[obj.name].records.values():
                        for code in codes:
                            rec.pop(code, None)
                self.schema_changed(obj.name)

    def check_reference(self, fd: FieldDef, value: str) -> RecordError | None:
        """Why ``value`` cannot go into reference field ``fd``, or None when it points at a live record."""
        k = key15(value)
        if k is None:
            return RecordError("MALFORMED_ID", f"{fd.label}: id value of incorrect type: {value}", [fd.name])
        target = self.table_for_id(value)
        if target is None or (fd.reference_to and target.name not in fd.reference_to):
            return RecordError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"field integrity exception: unknown ({fd.label} ID: id value of incorrect type)",
                [fd.name],
            )
        rec = target.get(k)
        if rec is None or rec.get("IsDeleted"):
            return RecordError(
                "INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {value}", [fd.name]
            )
        if fd.name == "OwnerId" and rec.get("IsActive") is False:
            return RecordError(
                "INACTIVE_OWNER_OR_USER", f"operation performed with inactive user [{rec['Id']}] as owner", []
            )
        return None


def id18(id15: str) -> str:
    return to18(id15)
