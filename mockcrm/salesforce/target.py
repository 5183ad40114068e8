"""The org as a ``WorkloadTarget`` and a seeder: writes straight to the store, no HTTP.

Records go through the same prepare/commit path as API writes, so seeded and generated records
obey every validation and duplicate rule. FakeData leaves reference fields out; the few objects that
require one (OpportunityContactRole, CampaignMember) get a random live parent, made on the spot if
there is none.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

from mockcrm.fakedata import FakeData
from mockcrm.salesforce import writes
from mockcrm.salesforce.errors import RecordError
from mockcrm.salesforce.org import Org

_PARENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "OpportunityContactRole": (("OpportunityId", "Opportunity"), ("ContactId", "Contact")),
    "CampaignMember": (("CampaignId", "Campaign"), ("ContactId", "Contact")),
}


class WriteRejected(Exception):
    def __init__(self, errors: list[RecordError]) -> None:
        super().__init__("; ".join(f"{e.code}: {e.message}" for e in errors))
        self.errors = errors


class OrgTarget:
    def __init__(self, org: Org) -> None:
        self.org = org
        self._rng = random.Random(0)

    def _fields(self, sobject: str, fake: FakeData) -> dict[str, object]:
        values = fake.salesforce_fields(sobject)
        obj = self.org.objects[sobject]
        if obj.custom:
            # FakeData only knows Name for custom objects: give required custom fields a plain value.
            for fd in obj.fields.values():
                if fd.required and fd.name not in values:
                    values[fd.name] = (
                        1
                        if fd.type in ("int", "double", "currency", "percent")
                        else ("2024-01-01" if fd.type == "date" else fd.picklist[0] if fd.picklist else "x")
                    )
        for field, parent in _PARENTS.get(sobject, ()):
            values[field] = self._parent(parent, fake)
        return values

    def _parent(self, sobject: str, fake: FakeData) -> str:
        rid = self.pick_id(sobject, self._rng)
        if rid is None:
            rid = self.create(sobject, fake)
        return rid

    @contextmanager
    def _as_other_user(self) -> Iterator[None]:
        # Generated changes are someone else's edits, not the API user's (see Org.other_user_id).
        before = self.org.acting_user
        self.org.acting_user = self.org.other_user_id
        try:
            yield
        finally:
            self.org.acting_user = before  # creating a parent nests one of these in another

    def create(self, object_type: str, fake: FakeData) -> str:
        table = self.org.table(object_type)
        with self._as_other_user():
            prepared = writes.prepare_create(self.org, table, self._fields(table.name, fake))
            if isinstance(prepared, list):
                raise WriteRejected(prepared)
            return writes.commit(self.org, prepared, self.org.stamp())

    def update(self, object_type: str, record_id: str, fake: FakeData) -> None:
        table = self.org.table(object_type)
        prepared = writes.prepare_update(self.org, table, record_id, fake.salesforce_update(table.name))
        if isinstance(prepared, list):
            raise WriteRejected(prepared)
        with self._as_other_user():
            writes.commit(self.org, prepared, self.org.stamp())

    def delete(self, object_type: str, record_id: str) -> None:
        table = self.org.table(object_type)
        k = writes.prepare_delete(table, record_id)
        if isinstance(k, RecordError):
            raise WriteRejected([k])
        with self._as_other_user():
            writes.commit_delete(self.org, table, k, self.org.stamp())

    def pick_id(self, object_type: str, rng: random.Random) -> str | None:
        obj = self.org.sobject(object_type)
        if obj is None:
            raise ValueError(f"unknown sObject {object_type!r}")
        table = self.org.tables[obj.name]
        if table.live == 0:
            return None
        # Sampling a few keys is enough; a table mostly of deleted records falls back to a scan.
        keys = table.keys
        for _ in range(8):
            rec = table.records[keys[rng.randrange(len(keys))]]
            if not rec["IsDeleted"]:
                return str(rec["Id"])
        live = [str(r["Id"]) for r in table.records.values() if not r["IsDeleted"]]
        return rng.choice(live) if live else None
