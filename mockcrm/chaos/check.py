"""``check(expected, endpoints)``: compare what the mocks hold with the oracle, field by field, and
count records per email and per external id (duplicates). Reads only the mocks' control plane
(``/__mock/dump``), so checking costs no API call.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import msgspec

from engine.canonical import CanonicalError, from_hubspot, from_salesforce
from mockcrm.chaos.apply import Snapshot, mock_client
from mockcrm.chaos.history import Person
from mockcrm.chaos.oracle import Expected, ExpectedPerson, ExpectedSalesforce
from mockcrm.config import MockEndpoints

ID_PROPERTY = {"Contact": "salesforcecontactid", "Lead": "salesforceleadid"}
"""Where HubSpot keeps the linked Salesforce id (SPEC §2)."""


class Finding(msgspec.Struct, frozen=True, omit_defaults=True):
    person: int | None
    side: str
    """``hubspot`` or ``salesforce:<sObject>``."""
    what: str
    field: str | None = None
    expected: str | None = None
    actual: str | None = None
    record_id: str | None = None

    def line(self) -> str:
        who = "-" if self.person is None else f"person {self.person}"
        rec = f" {self.record_id}" if self.record_id else ""
        text = f"{who} {self.side}{rec}: {self.what}"
        if self.field is not None:
            text += f" {self.field}: expected {self.expected!r}, got {self.actual!r}"
        return text


class CheckResult(msgspec.Struct):
    records_checked: int = 0
    lost: list[Finding] = msgspec.field(default_factory=list)
    """Expected but missing, or a value that never arrived (expected a value, found blank)."""
    duplicated: list[Finding] = msgspec.field(default_factory=list)
    """More than one live record per email on a side, or per external id / link."""
    mismatched: list[Finding] = msgspec.field(default_factory=list)
    """A field (or a link) holding another value than expected."""
    unexpected: list[Finding] = msgspec.field(default_factory=list)
    """Live records that should not exist."""

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.mismatched or self.unexpected)

    def describe(self) -> str:
        head = (
            f"{self.records_checked} records checked: {len(self.lost)} lost, {len(self.duplicated)} "
            f"duplicated, {len(self.mismatched)} mismatched, {len(self.unexpected)} unexpected"
        )
        lines = [head]
        for name in ("lost", "duplicated", "mismatched", "unexpected"):
            lines += [f"  {name}: {f.line()}" for f in getattr(self, name)]
        return "\n".join(lines)


async def check(expected: Expected, endpoints: MockEndpoints) -> CheckResult:
    async with mock_client(endpoints) as client:
        snap = await client.snapshot()
    return compare(expected, snap)


def compare(expected: Expected, snap: Snapshot) -> CheckResult:
    """The check against one snapshot of both mocks."""
    return _Checker(expected, snap).run()


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class _Checker:
    def __init__(self, expected: Expected, snap: Snapshot) -> None:
        self.x = expected
        self.snap = snap
        self.out = CheckResult()
        self.live_hs = {str(r["id"]) for r in snap.hs_live()}
        # A converted Lead stays, read-only: a contact may still carry its id (SPEC §5).
        self.live_sf = {
            str(r["Id"])
            for s in snap.salesforce.values()
            for r in s
            if not r.get("IsDeleted") and not r.get("IsConverted")
        }
        self.hs_fields = {m.hubspot: m for ms in expected.fields.values() for m in ms}

    def run(self) -> CheckResult:
        for p in self.x.people:
            person = Person(index=p.index, email=p.email)
            hs = self._hubspot(p, person)
            for sobject in ("Contact", "Lead"):
                self._salesforce(p, person, sobject, hs)
            self._hubspot_link(p, hs)
        self._strangers()
        self._external_ids()
        return self.out

    def _field(self, person: int, side: str, rid: str, name: str, want: str | None, got: str | None) -> None:
        if want == got:
            return
        finding = Finding(person, side, "field", name, want, got, rid)
        (self.out.lost if got is None else self.out.mismatched).append(finding)

    # -- HubSpot -------------------------------------------------------------------------------

    def _hubspot(self, p: ExpectedPerson, person: Person) -> dict[str, Any] | None:
        live = self.snap.hs_of(person)
        if p.hubspot is None:
            self.out.unexpected += [
                Finding(p.index, "hubspot", "contact", record_id=str(r["id"])) for r in live
            ]
            return None
        if not live:
            self.out.lost.append(Finding(p.index, "hubspot", "contact missing"))
            return None
        self.out.duplicated += [
            Finding(p.index, "hubspot", "second contact", record_id=str(r["id"])) for r in live[1:]
        ]
        rec = live[0]
        self.out.records_checked += 1
        props = rec["properties"]
        for prop, want in p.hubspot.items():
            m = self.hs_fields[prop]
            try:
                got = from_hubspot(m.kind, props.get(prop), m.table)
            except CanonicalError:
                got = _text(props.get(prop))
            self._field(p.index, "hubspot", str(rec["id"]), prop, want, got)
        return rec

    def _hubspot_link(self, p: ExpectedPerson, hs: dict[str, Any] | None) -> None:
        """The HubSpot contact carries its linked record's id, and no other live record's."""
        if hs is None:
            return
        linked = {e.sobject: e for e in p.salesforce if e.linked}
        for sobject, prop in ID_PROPERTY.items():
            got = hs["properties"].get(prop) or None
            if sobject in linked:
                continue  # compared with the actual record in _salesforce
            if got is not None and got in self.live_sf:
                self.out.mismatched.append(
                    Finding(
                        p.index, "hubspot", "linked to an unexpected record", prop, None, got, str(hs["id"])
                    )
                )

    # -- Salesforce ----------------------------------------------------------------------------

    def _salesforce(self, p: ExpectedPerson, person: Person, sobject: str, hs: dict[str, Any] | None) -> None:
        side = f"salesforce:{sobject}"
        want = [e for e in p.salesforce if e.sobject == sobject and e.alive]
        got = [r for r in self.snap.sf_of(person, sobject) if not r.get("IsDeleted")]
        self.out.lost += [Finding(p.index, side, f"record #{e.nth} missing") for e in want[len(got) :]]
        self.out.duplicated += [
            Finding(p.index, side, "more records for this email than expected", record_id=str(r["Id"]))
            for r in got[len(want) :]
        ]
        for e, rec in zip(want, got, strict=False):
            self.out.records_checked += 1
            self._sf_record(p, side, e, rec, hs)

    def _sf_record(
        self,
        p: ExpectedPerson,
        side: str,
        e: ExpectedSalesforce,
        rec: dict[str, Any],
        hs: dict[str, Any] | None,
    ) -> None:
        rid = str(rec["Id"])
        mappings = {m.salesforce: m for m in self.x.fields[e.sobject]}
        for name, want in e.values.items():
            m = mappings[name]
            try:
                got = from_salesforce(m.kind, rec.get(name), m.table)
            except CanonicalError:
                got = _text(rec.get(name))
            self._field(p.index, side, rid, name, want, got)
        ext = rec.get(self.x.external_id_field) or None
        if e.converted:
            return  # it keeps the id of the contact it was linked to
        if e.linked and hs is not None:
            self._field(p.index, side, rid, self.x.external_id_field, str(hs["id"]), ext)
            hs_side = hs["properties"].get(ID_PROPERTY[e.sobject]) or None
            self._field(p.index, "hubspot", str(hs["id"]), ID_PROPERTY[e.sobject], rid, hs_side)
        elif ext is not None and ext in self.live_hs:
            self.out.mismatched.append(
                Finding(
                    p.index, side, "linked to an unexpected contact", self.x.external_id_field, None, ext, rid
                )
            )

    # -- everyone ------------------------------------------------------------------------------

    def _strangers(self) -> None:
        """Live records that belong to nobody in the history."""
        emails = {(p.email or "").strip().lower() for p in self.x.people if p.email}
        markers = {p.marker for p in self.x.people if p.email is None}
        for r in self.snap.hs_live():
            props = r["properties"]
            email = (props.get("email") or "").strip().lower()
            if email not in emails and props.get("message") not in markers:
                self.out.unexpected.append(
                    Finding(None, "hubspot", f"contact {email!r}", record_id=str(r["id"]))
                )
        for sobject, records in self.snap.salesforce.items():
            for r in records:
                email = (r.get("Email") or "").strip().lower()
                if not r.get("IsDeleted") and email not in emails:
                    self.out.unexpected.append(
                        Finding(None, f"salesforce:{sobject}", f"record {email!r}", record_id=str(r["Id"]))
                    )

    def _external_ids(self) -> None:
        """One live record per external id on each side (SPEC §2: every create is an upsert)."""
        ext = self.x.external_id_field
        sf = Counter(
            str(r[ext])
            for recs in self.snap.salesforce.values()
            for r in recs
            if r.get(ext) and str(r["Id"]) in self.live_sf
        )
        for value, n in sf.items():
            if n > 1:
                self.out.duplicated.append(
                    Finding(None, "salesforce", f"{n} live records with {ext}={value}")
                )
        for prop in ID_PROPERTY.values():
            hs = Counter(str(r["properties"][prop]) for r in self.snap.hs_live() if r["properties"].get(prop))
            for value, n in hs.items():
                if n > 1:
                    self.out.duplicated.append(
                        Finding(None, "hubspot", f"{n} live contacts with {prop}={value}")
                    )
