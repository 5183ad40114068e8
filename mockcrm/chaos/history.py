"""Seeded workload histories for the oracle: people, the sync settings, and rounds of edits.

A ``History`` is plain data (msgspec), so a failing seed can be printed, stored and replayed. Ops name
a person by index (``History.people[i]``), never by record id: ids are only known once the mocks
have made the records, and ``mockcrm.chaos.apply`` resolves them by email at apply time.

Round 0 is the **pre-history**: records that exist before the engine's first run (a new state file
starts at "now", so they sync only once they change — and then meet SPEC §2's first match by
email). Rounds 1.. are the workload proper.

Determinism rules the generator keeps (why the oracle's answer cannot depend on engine timing):

- a person is touched by at most **one op per round** (one atomic write: a create, an edit of
  several fields, or a delete), so whatever the engine saw mid-round, its last pass saw the final
  value against the bases the previous round converged to;
- a person is never created on both sides in one round, and people never share an email, so first
  match by email has one answer;
- required Salesforce fields (LastName, a Lead's Company) are never cleared;
- a Salesforce record whose HubSpot contact was deleted is not edited afterwards, and a second
  Salesforce record of an email whose contact is linked elsewhere is not edited (SPEC is silent or
  disputed there: see ``mockcrm.chaos.world``);
- a round that could link two records that both hold values (a two-way field's "later change
  wins") starts in a new second of the mocks' clocks (``Round.fresh_second``), since Salesforce
  stamps whole seconds.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Literal

import msgspec

from engine.mapping import FieldMapping, SyncRule, default_contact_mappings
from engine.settings import ContactsSettings

if TYPE_CHECKING:
    from mockcrm.chaos.world import World

SObject = Literal["Contact", "Lead"]
SF_OBJECTS: tuple[SObject, ...] = ("Contact", "Lead")


class HsCreate(msgspec.Struct, tag="hs_create", frozen=True):
    """Create the person's HubSpot contact with these properties (wire strings)."""

    person: int
    values: dict[str, str]


class SfCreate(msgspec.Struct, tag="sf_create", frozen=True):
    """Create a Salesforce record of the person (fields by Salesforce API name)."""

    person: int
    sobject: SObject
    values: dict[str, str]


class HsEdit(msgspec.Struct, tag="hs_edit", frozen=True):
    """Edit the person's live HubSpot contact; ``None`` clears a property."""

    person: int
    values: dict[str, str | None]


class SfEdit(msgspec.Struct, tag="sf_edit", frozen=True):
    """Edit the person's ``nth`` record of ``sobject`` (in creation order, deleted ones counted)."""

    person: int
    sobject: SObject
    nth: int
    values: dict[str, str | None]


class HsDelete(msgspec.Struct, tag="hs_delete", frozen=True):
    """Archive the person's live HubSpot contact."""

    person: int


class SfDelete(msgspec.Struct, tag="sf_delete", frozen=True):
    person: int
    sobject: SObject
    nth: int


class SfConvert(msgspec.Struct, tag="sf_convert", frozen=True):
    """Convert the person's ``nth`` Lead (the mock makes an Account and a Contact from it, as
    Salesforce does); SPEC §5: a converted Lead follows its new Contact."""

    person: int
    nth: int


Op = HsCreate | SfCreate | HsEdit | SfEdit | HsDelete | SfDelete | SfConvert


class Round(msgspec.Struct, frozen=True):
    ops: list[Op]
    fresh_second: bool = False
    """Apply only once the mocks' clocks are in a later whole second than when this round was
    asked for (``apply_round`` waits up to a second)."""


class Person(msgspec.Struct, frozen=True):
    index: int
    email: str | None
    """None: a HubSpot-only person without email (R-ELIG-1: never syncs). Such a contact is found
    by ``marker`` in HubSpot's unmapped ``message`` property."""

    @property
    def marker(self) -> str:
        return f"oracle-person-{self.index}"


class History(msgspec.Struct, frozen=True):
    seed: int
    contacts: ContactsSettings
    """The engine's ``[contacts]`` settings this history assumes (pass them to the engine as is)."""
    people: list[Person]
    rounds: list[Round]
    """``rounds[0]`` is the pre-history (before the engine's first run)."""

    def mappings(self, sobject: str) -> tuple[FieldMapping, ...]:
        """The field mappings for one Salesforce object, as SPEC defines them: the configured list
        (or the default one), with email ↔ Email always mapped."""
        configured = self.contacts.fields
        fields = list(default_contact_mappings(sobject) if configured is None else configured)
        if not any(m.hubspot == "email" for m in fields):
            fields.insert(0, default_contact_mappings(sobject)[0])
        return tuple(fields)


# -- values ------------------------------------------------------------------------------------

HOSTILE = (
    "O'Brien",
    'say "hi"',
    "back\\slash \\'",
    "' OR Name != '",
    "x' OR LastName LIKE '%",
    "100% of _under_",
    "line1\nline2",
    "emoji 🦄 👩‍💻",
    "עברית \u202eRTL\u202c",
    "SELECT Id FROM Contact",
    "%",
    "_",
    "\\",
    "  padded  ",
)
WORDS = ("Ada", "Grace", "Linus", "Barbara", "Edsger", "Frances", "Alan", "Hedy", "Ken", "Radia")
LOCAL_PARTS = ("o'brien", "a_b", "a%b", "axb", "obrien", "x'or'1'='1", "Mixed.Case", "plain")

# Text fields the workload writes: HubSpot property → (Contact field, Lead field, max length).
TEXT_FIELDS: dict[str, tuple[str, str, int]] = {
    "firstname": ("FirstName", "FirstName", 40),
    "lastname": ("LastName", "LastName", 80),
    "phone": ("Phone", "Phone", 40),
    "mobilephone": ("MobilePhone", "MobilePhone", 40),
    "jobtitle": ("Title", "Title", 128),
    "address": ("MailingStreet", "Street", 255),
    "city": ("MailingCity", "City", 40),
    "zip": ("MailingPostalCode", "PostalCode", 20),
    "company": ("", "Company", 255),
}
REQUIRED = frozenset({"lastname", "company"})
"""Never cleared: Salesforce requires LastName, and Company on a Lead."""
CUSTOM_FIELDS = ("firstname", "lastname", "phone", "mobilephone", "jobtitle")
"""A configured mapping applies to Contact and Lead alike, so it uses the fields both have."""
REQUIRED_RULES = (
    SyncRule.PREFER_SALESFORCE_UNLESS_BLANK,
    SyncRule.TWO_WAY,
    SyncRule.PREFER_HUBSPOT_UNLESS_BLANK,
    SyncRule.ALWAYS_HUBSPOT,
)
"""Rules a required field may have: each sends HubSpot's value when creating in Salesforce."""


_TWINS: tuple[tuple[SObject, ...], ...] = (
    ("Contact",),
    ("Lead",),
    ("Lead", "Contact"),
    ("Contact", "Contact"),
)
"""Salesforce records made in the pre-history for a person who also has a HubSpot contact: a first
match by email to find, Contacts before Leads and the oldest first (SPEC §2)."""


def sf_field(prop: str, sobject: str) -> str:
    contact, lead, _ = TEXT_FIELDS[prop]
    return contact if sobject == "Contact" else lead


class ValueMaker:
    """Seeded field values: plain words, numbered so that every edit is a visible change, and
    hostile-but-valid text mixed in."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.n = 0

    def value(self, prop: str) -> str:
        self.n += 1
        limit = TEXT_FIELDS[prop][2]
        if prop in ("phone", "mobilephone"):
            return f"+1 555 {self.n:04d}"
        if prop == "zip":
            return f"{self.n:05d}"
        if self.rng.random() < 0.35:
            fits = [h for h in HOSTILE if len(h.encode("utf-16-le")) // 2 + 6 <= limit]
            return f"{self.rng.choice(fits)} {self.n}"
        return f"{self.rng.choice(WORDS)} {self.n}"


def _settings(rng: random.Random, custom: bool | None) -> ContactsSettings:
    fields: list[FieldMapping] | None = None
    if custom if custom is not None else rng.random() < 0.5:
        fields = [FieldMapping("email", "Email", SyncRule.TWO_WAY, default_contact_mappings()[0].kind)]
        for prop in CUSTOM_FIELDS:
            rules = REQUIRED_RULES if prop in REQUIRED else tuple(SyncRule)
            fields.append(FieldMapping(prop, TEXT_FIELDS[prop][0], rng.choice(rules)))
    return ContactsSettings(
        # A configured list maps the Lead's fields too, and has no Company: new contacts become
        # Contacts then (a Lead without Company is refused).
        create_in_salesforce_as="Contact" if fields is not None or rng.random() < 0.5 else "Lead",
        salesforce_to_hubspot="do_nothing" if rng.random() < 0.2 else "create_or_update",
        on_salesforce_delete="delete" if rng.random() < 0.5 else "do_nothing",
        fields=fields,
    )


def _people(rng: random.Random, count: int, seed: int) -> list[Person]:
    out = []
    for i in range(count):
        r = rng.random()
        if r < 0.08:
            out.append(Person(index=i, email=None))
        elif r < 0.4:
            out.append(Person(index=i, email=f"{rng.choice(LOCAL_PARTS)}.{i}.s{seed}@Oracle.Example"))
        else:
            out.append(Person(index=i, email=f"p{i}.s{seed}@oracle.example"))
    return out


def generate_history(
    seed: int,
    people: int = 12,
    rounds: int = 4,
    *,
    custom_mapping: bool | None = None,
    touch_rate: float = 0.5,
    rng: random.Random | None = None,
) -> History:
    """A deterministic history for ``seed``: ``rounds`` workload rounds after the pre-history.

    ``custom_mapping``: True for a configured mapping with seeded rules, False for the default
    mapping, None to let the seed choose. ``touch_rate``: the share of people touched per round.
    ``rng``: every choice from this instead of the seed's own stream (hypothesis's ``randoms()``
    shrinks a failing history this way); ``seed`` then only labels the people's emails.
    """
    # The generator keeps each op valid against the model of what exists (world imports this module).
    from mockcrm.chaos.world import World

    rng = rng or random.Random(f"oracle-history-{seed}")
    contacts = _settings(rng, custom_mapping)
    persons = _people(rng, people, seed)
    draft = History(seed=seed, contacts=contacts, people=persons, rounds=[])
    world = World(draft)
    values = ValueMaker(rng)
    planner = _Planner(draft, world, values, rng)
    out = [Round(ops=planner.pre_history())]
    world.apply(out[0].ops)  # the pre-history is not synced: nothing has changed since "now"
    for number in range(1, rounds + 1):
        ops = planner.round(touch_rate)
        fresh = number == 1 or world.may_link_with_values(ops)
        world.apply(ops)
        world.converge(ops)
        out.append(Round(ops=ops, fresh_second=fresh))
    return msgspec.structs.replace(draft, rounds=out)


class _Planner:
    """Chooses each round's ops from what the model says exists."""

    def __init__(self, history: History, world: World, values: ValueMaker, rng: random.Random) -> None:
        self.h = history
        self.world = world
        self.values = values
        self.rng = rng
        self.lead_mode = history.contacts.create_in_salesforce_as == "Lead"

    def _hs_props(self) -> list[str]:
        return [m.hubspot for m in self.h.mappings("Lead") if m.hubspot in TEXT_FIELDS]

    def _new_hs(self, person: Person) -> dict[str, str]:
        vals = {p: self.values.value(p) for p in self._hs_props() if p in REQUIRED or self.rng.random() < 0.6}
        vals["lastname"] = vals.get("lastname") or self.values.value("lastname")
        vals["company"] = vals.get("company") or self.values.value("company")
        if person.email is None:
            vals["message"] = person.marker
        else:
            vals["email"] = person.email
        return vals

    def _new_sf(self, person: Person, sobject: SObject) -> dict[str, str]:
        props = [p for p in TEXT_FIELDS if sf_field(p, sobject)]
        vals = {
            sf_field(p, sobject): self.values.value(p)
            for p in props
            if p in REQUIRED or self.rng.random() < 0.6
        }
        assert person.email is not None
        vals["Email"] = person.email
        return vals

    def _edit(self, props: list[str]) -> dict[str, str | None]:
        chosen = self.rng.sample(props, k=min(len(props), self.rng.randint(1, 3)))
        return {
            p: None if p not in REQUIRED and self.rng.random() < 0.25 else self.values.value(p)
            for p in chosen
        }

    def pre_history(self) -> list[Op]:
        ops: list[Op] = []
        for person in self.h.people:
            r = self.rng.random()
            if person.email is None:
                if r < 0.5:
                    ops.append(HsCreate(person.index, self._new_hs(person)))
                continue
            if r < 0.15:
                ops.append(HsCreate(person.index, self._new_hs(person)))
            elif r < 0.3:
                sobject = self.rng.choice(SF_OBJECTS)
                ops.append(SfCreate(person.index, sobject, self._new_sf(person, sobject)))
            elif r < 0.45:
                ops.append(HsCreate(person.index, self._new_hs(person)))
                twins: tuple[SObject, ...] = self.rng.choice(_TWINS)
                ops += [SfCreate(person.index, s, self._new_sf(person, s)) for s in twins]
        return ops

    def round(self, touch_rate: float) -> list[Op]:
        ops: list[Op] = []
        for person in self.h.people:
            if self.rng.random() >= touch_rate:
                continue
            op = self._one(person)
            if op is not None:
                ops.append(op)
        self.rng.shuffle(ops)
        return ops

    def _one(self, person: Person) -> Op | None:
        w = self.world.person(person.index)
        choices: list[Op] = []
        hs_alive = w.hs is not None and w.hs.alive
        if not hs_alive:
            choices.append(HsCreate(person.index, self._new_hs(person)))
        else:
            edit = self._edit(self._hs_props())
            if not w.hs_linked() and person.email is not None:
                # An unlinked contact's edit may create in Salesforce: give it what that needs.
                for prop in ("lastname", "company") if self.lead_mode else ("lastname",):
                    if not w.hs_value(prop):
                        edit[prop] = self.values.value(prop)
            choices += [HsEdit(person.index, edit), HsEdit(person.index, self._edit(self._hs_props()))]
            if self.rng.random() < 0.3:
                choices.append(HsDelete(person.index))
        if person.email is None:
            return self.rng.choice(choices)
        live = w.live_sf()
        if not live:
            sobject = self.rng.choice(SF_OBJECTS)
            choices.append(SfCreate(person.index, sobject, self._new_sf(person, sobject)))
        for rec in live:
            if rec.converted or not self.world.sf_edit_allowed(person.index, rec):
                continue  # a converted Lead is read-only
            choices.append(SfEdit(person.index, rec.sobject, rec.nth, self._sf_edit(rec.sobject)))
            if self.rng.random() < 0.3:
                choices.append(SfDelete(person.index, rec.sobject, rec.nth))
            if rec.sobject == "Lead" and self.rng.random() < 0.3:
                choices.append(SfConvert(person.index, rec.nth))
        return self.rng.choice(choices) if choices else None

    def _sf_edit(self, sobject: SObject) -> dict[str, str | None]:
        props = [p for p in TEXT_FIELDS if sf_field(p, sobject)]
        return {sf_field(p, sobject): v for p, v in self._edit(props).items()}
