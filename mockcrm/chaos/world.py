"""The oracle's model of SPEC §2–5: what each person's records hold after the engine converges.

Written from SPEC, not from the engine: nothing here imports ``engine.reconcile*`` or ``actors``
(``engine.canonical`` gives the canonical form of values, which SPEC §3.2 defines). Values are kept
canonical, per side, under each side's own field names; a link joins the person's current HubSpot
contact to one of their Salesforce records and carries the bases (SPEC §3: the last agreed value
per field; a missing key means no base).

Where SPEC is silent or disputed the generator does not go (``sf_edit_allowed``), and the model
asserts rather than guess:
- a Salesforce record edited after its linked HubSpot contact was deleted: SPEC says HubSpot deletes
  never delete in Salesforce (R-CON-4) but not whether the edit re-creates the contact;
- a second Salesforce record with the email of a contact linked elsewhere: R-ID-3 says the most
  recently updated record feeds the contact; what the link does then is not said.
Owner mappings are not modelled (the workload never sets owners) and are not compared.

A contact whose Salesforce record was deleted (R-CON-3 "do nothing") makes a new record on its
next change of any kind, as a contact that never synced does (SPEC §4 does not tell them apart).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from engine.canonical import from_hubspot, from_salesforce
from engine.mapping import FieldKind, FieldMapping, SyncRule
from mockcrm.chaos.history import (
    TEXT_FIELDS,
    History,
    HsCreate,
    HsDelete,
    HsEdit,
    Op,
    SfConvert,
    SfCreate,
    SfDelete,
    SfEdit,
    SObject,
    sf_field,
)

Values = dict[str, str | None]


@dataclass
class HsModel:
    values: Values
    tick: int
    alive: bool = True
    generation: int = 0
    """Counts the person's HubSpot contacts: a re-created contact is a new record."""


@dataclass
class SfModel:
    sobject: SObject
    nth: int
    values: Values
    tick: int
    alive: bool = True
    converted: bool = False
    """A converted Lead: read-only, never matched again; its Contact carries the person on."""


@dataclass
class PersonModel:
    index: int
    email: str | None
    hs: HsModel | None = None
    sf: list[SfModel] = field(default_factory=list)
    link: tuple[int, int] | None = None
    """(HubSpot generation, index into ``sf``) of the linked pair."""
    bases: Values = field(default_factory=dict)

    def live_sf(self) -> list[SfModel]:
        return [r for r in self.sf if r.alive]

    def hs_linked(self) -> bool:
        return self.hs is not None and self.link is not None and self.link[0] == self.hs.generation

    def hs_value(self, prop: str) -> str | None:
        return None if self.hs is None else self.hs.values.get(prop)

    def linked_sf(self) -> SfModel | None:
        """The Salesforce record linked to the live HubSpot contact, if any."""
        if self.hs is None or not self.hs.alive or not self.hs_linked():
            return None
        assert self.link is not None
        return self.sf[self.link[1]]

    def nth_of(self, sobject: str) -> int:
        return sum(1 for r in self.sf if r.sobject == sobject)


def _hs(m: FieldMapping, raw: str | None) -> str | None:
    return from_hubspot(m.kind, raw, m.table)


def _sf(m: FieldMapping, raw: str | None) -> str | None:
    return from_salesforce(m.kind, raw, m.table)


class World:
    """People's records as SPEC says they end up. ``apply`` performs a round's ops on the model,
    ``converge`` what the engine must make of them."""

    def __init__(self, history: History) -> None:
        self.h = history
        self.settings = history.contacts
        self.maps = {s: history.mappings(s) for s in ("Contact", "Lead")}
        self.people = [PersonModel(p.index, p.email) for p in history.people]
        self.tick = 0

    def person(self, index: int) -> PersonModel:
        return self.people[index]

    def _next(self) -> int:
        self.tick += 1
        return self.tick

    # -- the workload's own writes ------------------------------------------------------------

    def _hs_canonical(self, raw: dict[str, str | None]) -> Values:
        kinds = {m.hubspot: m for m in self.maps["Lead"]} | {m.hubspot: m for m in self.maps["Contact"]}
        return {k: (_hs(kinds[k], v) if k in kinds else (v or None)) for k, v in raw.items()}

    def _sf_canonical(self, sobject: str, raw: dict[str, str | None]) -> Values:
        kinds = {m.salesforce: m for m in self.maps[sobject]}
        return {
            k: (_sf(kinds[k], v) if k in kinds else (v.strip() if v else None) or None)
            for k, v in raw.items()
        }

    def apply(self, ops: Iterable[Op]) -> None:
        for op in ops:
            p = self.people[op.person]
            if isinstance(op, HsCreate):
                gen = 0 if p.hs is None else p.hs.generation + 1
                p.hs = HsModel(self._hs_canonical(dict(op.values)), self._next(), generation=gen)
            elif isinstance(op, HsEdit):
                assert p.hs is not None and p.hs.alive
                p.hs.values.update(self._hs_canonical(op.values))
                p.hs.tick = self._next()
            elif isinstance(op, HsDelete):
                assert p.hs is not None
                p.hs.alive = False
            elif isinstance(op, SfCreate):
                rec = SfModel(op.sobject, p.nth_of(op.sobject), {}, self._next())
                rec.values = self._sf_canonical(op.sobject, dict(op.values))
                p.sf.append(rec)
            elif isinstance(op, SfConvert):
                lead = self._sf_rec(p, "Lead", op.nth)
                assert lead.alive and not lead.converted
                lead.converted, lead.tick = True, self._next()
                p.sf.append(SfModel("Contact", p.nth_of("Contact"), self._converted(lead), self._next()))
            else:
                rec = self._sf_rec(p, op.sobject, op.nth)
                if isinstance(op, SfEdit):
                    rec.values.update(self._sf_canonical(op.sobject, op.values))
                    rec.tick = self._next()
                else:
                    rec.alive = False

    def _converted(self, lead: SfModel) -> Values:
        """The new Contact's values: the Lead's, field for field (Street → MailingStreet, ...;
        Company goes to the Account), as Salesforce's conversion maps them."""
        raw: dict[str, str | None] = {"Email": lead.values.get("Email")}
        for prop in TEXT_FIELDS:
            lead_field, contact_field = sf_field(prop, "Lead"), sf_field(prop, "Contact")
            if lead_field and contact_field and lead.values.get(lead_field) is not None:
                raw[contact_field] = lead.values[lead_field]
        return self._sf_canonical("Contact", raw)

    @staticmethod
    def _sf_rec(p: PersonModel, sobject: str, nth: int) -> SfModel:
        return next(r for r in p.sf if r.sobject == sobject and r.nth == nth)

    # -- what the engine must make of them ----------------------------------------------------

    def converge(self, ops: Sequence[Op]) -> None:
        """The engine's end state after a round: each op is one change to one person (the
        generator's rule), and people do not interact, so each is settled on its own."""
        for op in ops:
            p = self.people[op.person]
            if isinstance(op, HsCreate | HsEdit):
                self._hubspot_changed(p)
            elif isinstance(op, SfCreate):
                self._salesforce_changed(p, p.sf[-1])
            elif isinstance(op, SfEdit):
                self._salesforce_changed(p, self._sf_rec(p, op.sobject, op.nth))
            elif isinstance(op, SfDelete):
                self._salesforce_deleted(p, self._sf_rec(p, op.sobject, op.nth))
            elif isinstance(op, SfConvert):
                self._lead_converted(p, self._sf_rec(p, "Lead", op.nth), p.sf[-1])
            # HsDelete: R-CON-4, a HubSpot delete never deletes in Salesforce; the link stays.

    def _hubspot_changed(self, p: PersonModel) -> None:
        assert p.hs is not None and p.hs.alive
        if p.hs_linked():
            assert p.link is not None
            self._sync_pair(p, p.sf[p.link[1]])
            return
        if p.email is None:
            return  # R-ELIG-1: no email, no sync to Salesforce
        match = self._first_match(p)
        if match is not None:
            self._link(p, match)
            self._sync_pair(p, match)
            return
        self._create_in_salesforce(p)

    def _first_match(self, p: PersonModel) -> SfModel | None:
        """SPEC §2 / R-ID-1/2: by email, Contacts before Leads, the oldest first. (Every record of a
        person carries the person's email; the workload never edits emails.)"""
        for sobject in ("Contact", "Lead"):
            for r in p.sf:
                if r.sobject == sobject and r.alive and not r.converted:
                    return r
        return None

    def _link(self, p: PersonModel, rec: SfModel) -> None:
        assert p.hs is not None
        p.link = (p.hs.generation, p.sf.index(rec))
        p.bases = {}  # a brand-new link has no base (SPEC §3)

    def _salesforce_changed(self, p: PersonModel, rec: SfModel) -> None:
        assert rec.alive
        linked = p.link is not None and p.sf[p.link[1]] is rec
        if linked:
            assert p.hs is not None and p.hs_linked() and p.hs.alive, "SPEC is silent: see module doc"
            self._sync_pair(p, rec)
            return
        if self.settings.salesforce_to_hubspot == "do_nothing":
            return  # R-CON-1
        if p.hs is not None and p.hs.alive:
            assert not p.hs_linked(), "R-ID-3 is disputed: see module doc"
            self._link(p, rec)
            self._sync_pair(p, rec)
            return
        self._create_in_hubspot(p, rec)

    def _lead_converted(self, p: PersonModel, lead: SfModel, contact: SfModel) -> None:
        """SPEC §5: a converted Lead follows its new Contact — the link moves there with its
        bases; an unlinked Lead's Contact is a new Salesforce record like any other."""
        if p.link is not None and p.sf[p.link[1]] is lead:
            assert p.hs is not None and p.hs.alive and p.hs_linked(), "SPEC is silent: see module doc"
            p.link = (p.hs.generation, p.sf.index(contact))
            self._sync_pair(p, contact)
            return
        self._salesforce_changed(p, contact)

    def _salesforce_deleted(self, p: PersonModel, rec: SfModel) -> None:
        """R-CON-3: delete the HubSpot contact or do nothing; either way the pair is unlinked, so a
        later HubSpot change finds (or makes) a live Salesforce record."""
        if p.link is None or p.sf[p.link[1]] is not rec:
            return
        if self.settings.on_salesforce_delete == "delete" and p.hs is not None and p.hs_linked():
            p.hs.alive = False
        p.link = None
        p.bases = {}

    # -- creates (SPEC §3: the new link's other side is entirely blank) -------------------------

    def _create_in_salesforce(self, p: PersonModel) -> None:
        assert p.hs is not None
        sobject = self.settings.create_in_salesforce_as
        values: Values = {}
        bases: Values = {}
        for m in self._synced(self.maps[sobject]):
            v = p.hs.values.get(m.hubspot)
            if v is None:
                bases[m.hubspot] = None
            elif m.rule is not SyncRule.ALWAYS_SALESFORCE:
                values[m.salesforce] = v
                bases[m.hubspot] = v
        if not values.get("LastName") or (sobject == "Lead" and not values.get("Company")):
            return  # Salesforce refuses it: a sync error on the contact, nothing created
        rec = SfModel(sobject, p.nth_of(sobject), values, self._next())
        p.sf.append(rec)
        p.link = (p.hs.generation, len(p.sf) - 1)
        p.bases = bases

    def _create_in_hubspot(self, p: PersonModel, rec: SfModel) -> None:
        values: Values = {"email": p.email.strip().lower() if p.email else None}
        bases: Values = {}
        for m in self._synced(self.maps[rec.sobject]):
            v = rec.values.get(m.salesforce)
            if v is None:
                bases[m.hubspot] = None
            elif m.rule is not SyncRule.ALWAYS_HUBSPOT:
                values[m.hubspot] = v
                bases[m.hubspot] = v
        gen = 0 if p.hs is None else p.hs.generation + 1
        p.hs = HsModel(values, self._next(), generation=gen)
        p.link = (gen, p.sf.index(rec))
        p.bases = bases

    @staticmethod
    def _synced(mappings: Iterable[FieldMapping]) -> list[FieldMapping]:
        return [m for m in mappings if m.rule is not SyncRule.DONT_SYNC and m.kind is not FieldKind.OWNER]

    # -- SPEC §3's rule table for an existing pair --------------------------------------------

    def _sync_pair(self, p: PersonModel, rec: SfModel) -> None:
        assert p.hs is not None
        hs, bases = p.hs, p.bases
        wrote_hs = wrote_sf = False
        for m in self._synced(self.maps[rec.sobject]):
            h, s = hs.values.get(m.hubspot), rec.values.get(m.salesforce)
            has_base, base = m.hubspot in bases, bases.get(m.hubspot)
            if h == s:
                bases[m.hubspot] = h
                continue
            winner = self._decide(m.rule, h, s, has_base, base, hs.tick, rec.tick)
            if winner == "salesforce":
                hs.values[m.hubspot] = s
                bases[m.hubspot] = s
                wrote_hs = True
            elif winner == "hubspot":
                rec.values[m.salesforce] = h
                bases[m.hubspot] = h
                wrote_sf = True
        # The engine's writes are modifications too (they matter to a later "later change wins").
        if wrote_hs:
            hs.tick = self._next()
        if wrote_sf:
            rec.tick = self._next()

    @staticmethod
    def _decide(
        rule: SyncRule,
        h: str | None,
        s: str | None,
        has_base: bool,
        base: str | None,
        h_tick: int,
        s_tick: int,
    ) -> str | None:
        """Which side's value wins ("hubspot"/"salesforce"), or None when nothing moves."""
        if rule in (SyncRule.PREFER_SALESFORCE_UNLESS_BLANK, SyncRule.ALWAYS_SALESFORCE):
            fill = rule is SyncRule.PREFER_SALESFORCE_UNLESS_BLANK
            return _prefer("salesforce", s, has_base, base, fill)
        if rule in (SyncRule.PREFER_HUBSPOT_UNLESS_BLANK, SyncRule.ALWAYS_HUBSPOT):
            fill = rule is SyncRule.PREFER_HUBSPOT_UNLESS_BLANK
            return _prefer("hubspot", h, has_base, base, fill)
        assert rule is SyncRule.TWO_WAY
        if not has_base:
            if h is None:
                return "salesforce"
            if s is None:
                return "hubspot"
            return "hubspot" if h_tick > s_tick else "salesforce"
        h_changed, s_changed = h != base, s != base
        if h_changed and not s_changed:
            return "hubspot"
        if s_changed and not h_changed:
            return "salesforce"
        return "hubspot" if h_tick > s_tick else "salesforce"  # both changed: the later wins, ties SF

    # -- questions the generator asks --------------------------------------------------------

    def sf_edit_allowed(self, index: int, rec: SfModel) -> bool:
        """False where SPEC is silent or disputed (module doc)."""
        p = self.people[index]
        if p.link is not None and p.sf[p.link[1]] is rec:
            return p.hs is not None and p.hs.alive and p.hs_linked()
        return not (p.hs is not None and p.hs.alive and p.hs_linked())

    def may_link_with_values(self, ops: Sequence[Op]) -> bool:
        """Whether a round may link two existing records (the two-way "later change wins" then
        compares the records' modification times, which Salesforce keeps to the second)."""
        for op in ops:
            p = self.people[op.person]
            hs_unlinked = p.hs is not None and p.hs.alive and not p.hs_linked()
            if (
                isinstance(op, HsCreate | HsEdit)
                and p.live_sf()
                and (hs_unlinked or isinstance(op, HsCreate))
            ):
                return True
            if isinstance(op, SfCreate | SfEdit | SfConvert) and hs_unlinked:
                return True
        return False


def _prefer(preferred: str, value: str | None, has_base: bool, base: str | None, fill: bool) -> str | None:
    """prefer_*_unless_blank (fill) and always_*, from the preferred side: its value wins; its clear
    since the base travels; its never-set blank is filled from the other side, or not (always_*)."""
    other = "hubspot" if preferred == "salesforce" else "salesforce"
    if value is not None:
        return preferred
    if has_base and base is not None:
        return preferred
    return other if fill else None
