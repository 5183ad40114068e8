"""SPEC §3's per-field rule table, for one field of an existing record pair in canonical values.

Kept apart from engine.reconcile (which walks the mappings and builds the Decision) so that the
table itself reads in one screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import NamedTuple

from engine.canonical import SalesforceValue
from engine.mapping import FieldKind, FieldMapping, SyncRule


class Action(StrEnum):
    TO_HUBSPOT = "to_hubspot"
    TO_SALESFORCE = "to_salesforce"
    HELD = "held"
    """A value that would have moved but by design does not: an owner without an active
    Salesforce user, a formula field whose change alone triggers nothing."""
    NOT_SENT = "not_sent"
    """Left out of a create by the rule (always_salesforce, always_hubspot)."""
    ERROR = "error"
    """The field could not sync and needs a human: an unreadable value, a state without a
    country. The record's other fields still sync."""


class Move(NamedTuple):
    """One field's outcome: which way its value moves (None: it stays), why, and whether an edit
    made since the base was overwritten."""

    direction: Action | None
    reason: str = ""
    conflict: bool = False


_STAY = Move(None)


def decide_field(
    rule: SyncRule,
    h: str | None,
    s: str | None,
    has_base: bool,
    base: str | None,
    hs_ms: int,
    sf_ms: int,
    *,
    owner: bool = False,
    owner_active: bool = False,
) -> Move:
    """SPEC §3's table for one field of an existing pair, in canonical values (None = blank).

    ``h``/``s``: HubSpot's and Salesforce's values; ``hs_ms``/``sf_ms``: the records' modification
    times; ``owner``: the owner mapping, whose HubSpot value ``owner_active`` says has an active
    Salesforce user.
    """
    if h == s:
        return _STAY
    match rule:
        case SyncRule.PREFER_SALESFORCE_UNLESS_BLANK | SyncRule.ALWAYS_SALESFORCE:
            fill = rule is SyncRule.PREFER_SALESFORCE_UNLESS_BLANK
            return _prefer(rule, "Salesforce", s, h, has_base, base, Action.TO_HUBSPOT, fill)
        case SyncRule.PREFER_HUBSPOT_UNLESS_BLANK | SyncRule.ALWAYS_HUBSPOT:
            fill = rule is SyncRule.PREFER_HUBSPOT_UNLESS_BLANK
            return _prefer(rule, "HubSpot", h, s, has_base, base, Action.TO_SALESFORCE, fill)
        case SyncRule.TWO_WAY if owner:
            move = _owner(h, s, has_base, base, hs_ms, sf_ms)
            if move.direction is Action.TO_SALESFORCE and not owner_active:
                return Move(
                    Action.TO_HUBSPOT if s is not None else Action.HELD,
                    "HubSpot owner has no active Salesforce user: not pushed, Salesforce's owner stands "
                    "(R-OWN-3)",
                    move.conflict,
                )
            return move
        case SyncRule.TWO_WAY:
            return _two_way(h, s, has_base, base, hs_ms, sf_ms)
        case _:
            return _STAY


def _prefer(
    rule: SyncRule,
    name: str,
    preferred: str | None,
    other: str | None,
    has_base: bool,
    base: str | None,
    toward_other: Action,
    fill: bool,
) -> Move:
    """prefer_*_unless_blank (fill=True) and always_* (fill=False), seen from the preferred side."""
    if preferred is not None:
        lost = other != base if has_base else other is not None
        return Move(toward_other, f"{rule.value}: {name} has a value, and it wins", lost)
    if has_base and base is not None:
        return Move(toward_other, f"{rule.value}: cleared in {name}, so cleared on the other side")
    if fill:
        toward_preferred = Action.TO_SALESFORCE if toward_other is Action.TO_HUBSPOT else Action.TO_HUBSPOT
        return Move(toward_preferred, f"{rule.value}: {name} is blank, so the other side's value fills it")
    return _STAY


def _two_way(h: str | None, s: str | None, has_base: bool, base: str | None, hs_ms: int, sf_ms: int) -> Move:
    if not has_base:
        if h is None:
            return Move(Action.TO_HUBSPOT, "two_way, new link: HubSpot is blank, filled from Salesforce")
        if s is None:
            return Move(Action.TO_SALESFORCE, "two_way, new link: Salesforce is blank, filled from HubSpot")
        return _later("two_way, new link, both hold values", hs_ms, sf_ms)
    hs_changed = h != base
    sf_changed = s != base
    if hs_changed and not sf_changed:
        return Move(Action.TO_SALESFORCE, "two_way: changed in HubSpot only")
    if sf_changed and not hs_changed:
        return Move(Action.TO_HUBSPOT, "two_way: changed in Salesforce only")
    return _later("two_way, changed on both sides", hs_ms, sf_ms)


def _later(why: str, hs_ms: int, sf_ms: int) -> Move:
    if hs_ms > sf_ms:
        return Move(Action.TO_SALESFORCE, f"{why}: HubSpot's record changed later and wins", True)
    if hs_ms == sf_ms:
        return Move(
            Action.TO_HUBSPOT, f"{why}: both records changed at the same time; ties go to Salesforce", True
        )
    return Move(Action.TO_HUBSPOT, f"{why}: Salesforce's record changed later and wins", True)


def _owner(h: str | None, s: str | None, has_base: bool, base: str | None, hs_ms: int, sf_ms: int) -> Move:
    """Two-way (R-MAP-9) with the owner's own first-sync and blank rules."""
    if h is None:
        # Salesforce requires an owner, so a HubSpot clear cannot travel: it is refilled (R-OWN-4d).
        return Move(Action.TO_HUBSPOT, "owner blank in HubSpot: filled from Salesforce (R-OWN-4)")
    if s is None:
        return Move(Action.TO_SALESFORCE, "owner blank in Salesforce: filled from HubSpot")
    if not has_base:
        return Move(Action.TO_HUBSPOT, "owner, first sync: Salesforce's owner is kept (R-OWN-4)", True)
    return _two_way(h, s, has_base, base, hs_ms, sf_ms)


def states_without_country(
    mappings: Sequence[FieldMapping],
    sf_writes: dict[str, SalesforceValue],
    sf_values: dict[str, SalesforceValue],
) -> list[tuple[FieldMapping, FieldMapping]]:
    """R-GEO-3: Salesforce rejects a state without a country, and the whole record with it, so a
    state write whose country would end blank is held back (returned here) instead."""
    if not sf_writes:
        return []
    countries = [m for m in mappings if m.kind is FieldKind.COUNTRY]
    held: list[tuple[FieldMapping, FieldMapping]] = []
    for m in mappings:
        if m.kind is not FieldKind.STATE or sf_writes.get(m.salesforce) is None:
            continue
        country = _country_for(m, countries)
        if country is None:
            continue
        after = (
            sf_writes[country.salesforce]
            if country.salesforce in sf_writes
            else sf_values.get(country.salesforce)
        )
        if after is None or (isinstance(after, str) and not after.strip()):
            held.append((m, country))
    return held


def state_reason(country: FieldMapping) -> str:
    return f"Salesforce requires a country when a state is set (R-GEO-3); fill {country.hubspot!r}"


def _country_for(state: FieldMapping, countries: list[FieldMapping]) -> FieldMapping | None:
    """The country paired with a state: same Salesforce prefix (MailingState ↔ MailingCountry),
    else the only country mapping."""
    twin = state.salesforce.replace("State", "Country").casefold()
    for c in countries:
        if c.salesforce.casefold() == twin:
            return c
    return countries[0] if len(countries) == 1 else None
