"""``expect(history)``: what both CRMs must hold once the engine has converged after the last round.

The answer comes from ``mockcrm.chaos.world``, a model of SPEC §2–5 written independently of the
engine: the pre-history (round 0) is applied without syncing (it exists before the engine's first
run), then every round is applied and converged in turn.
"""

from __future__ import annotations

import msgspec

from engine.mapping import FieldKind, FieldMapping
from mockcrm.chaos.history import History
from mockcrm.chaos.world import PersonModel, World


class ExpectedSalesforce(msgspec.Struct, frozen=True):
    sobject: str
    nth: int
    """Its place among the person's records of ``sobject``, in creation order (deleted ones count)."""
    alive: bool
    values: dict[str, str | None]
    """Canonical value per mapped Salesforce field (owner excluded); None = blank."""
    linked: bool
    """Linked to the person's live HubSpot contact: each carries the other's id."""
    converted: bool = False
    """A converted Lead (read-only); the ids it and the contact carry are not checked."""


class ExpectedPerson(msgspec.Struct, frozen=True):
    index: int
    email: str | None
    marker: str
    hubspot: dict[str, str | None] | None
    """Canonical value per mapped HubSpot property (owner excluded), or None: no live contact."""
    salesforce: list[ExpectedSalesforce]


class Expected(msgspec.Struct, frozen=True):
    seed: int
    fields: dict[str, list[FieldMapping]]
    """Per Salesforce object, the mappings the values are compared through."""
    external_id_field: str
    people: list[ExpectedPerson]


def compared(mappings: list[FieldMapping] | tuple[FieldMapping, ...]) -> list[FieldMapping]:
    """The mappings a check compares: every one but the owner (the workload sets no owners, and an
    owner's value depends on which users exist on each side)."""
    return [m for m in mappings if m.kind is not FieldKind.OWNER]


def model(history: History) -> World:
    """The model after the whole history."""
    world = World(history)
    for number, rnd in enumerate(history.rounds):
        world.apply(rnd.ops)
        if number > 0:
            world.converge(rnd.ops)
    return world


def expect(history: History) -> Expected:
    world = model(history)
    fields = {s: compared(history.mappings(s)) for s in ("Contact", "Lead")}
    hs_props = {m.hubspot: None for ms in fields.values() for m in ms}
    return Expected(
        seed=history.seed,
        fields=fields,
        external_id_field=history.contacts.external_id_field,
        people=[_person(history, p, fields, list(hs_props)) for p in world.people],
    )


def _person(
    history: History, p: PersonModel, fields: dict[str, list[FieldMapping]], hs_props: list[str]
) -> ExpectedPerson:
    hubspot = None
    if p.hs is not None and p.hs.alive:
        hubspot = {prop: p.hs.values.get(prop) for prop in hs_props}
    linked = p.linked_sf()
    return ExpectedPerson(
        index=p.index,
        email=p.email,
        marker=history.people[p.index].marker,
        hubspot=hubspot,
        salesforce=[
            ExpectedSalesforce(
                sobject=r.sobject,
                nth=r.nth,
                alive=r.alive,
                values={m.salesforce: r.values.get(m.salesforce) for m in fields[r.sobject]},
                linked=r is linked,
                converted=r.converted,
            )
            for r in p.sf
        ],
    )
