"""The pure reconciler (DESIGN point 5, SPEC §3): one linked record pair in, one Decision out.

No I/O and no clock. Every comparison happens in canonical form (engine.canonical), against the
field's **base**: the last value both sides agreed on. A field with no base (a new link, or a field
mapped since) follows the new-link rules of SPEC §3. The caller translates owner ids to emails
before, and the emails in the writes back to ids after; it also requests every mapped property,
because a property missing from ``values`` is read as blank.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import msgspec

from engine.canonical import (
    CanonicalError,
    SalesforceValue,
    from_hubspot,
    from_salesforce,
    to_hubspot,
    to_salesforce,
)
from engine.mapping import FieldKind, FieldMapping, SyncRule
from engine.reconcile_rules import Action, decide_field, state_reason, states_without_country

__all__ = [
    "Action",
    "Decision",
    "FieldNote",
    "HubSpotRecord",
    "LinkState",
    "ReconcileSettings",
    "SalesforceRecord",
    "reconcile",
]


class LinkState(msgspec.Struct, frozen=True):
    """What the store knows about a link: per field key (FieldMapping.key), the agreed canonical
    value. A key that is absent has no base; a key holding ``None`` was agreed blank."""

    bases: dict[str, str | None] = msgspec.field(default_factory=dict)


class HubSpotRecord(msgspec.Struct, frozen=True):
    values: dict[str, str | None]
    modified_ms: int = 0
    """``lastmodifieddate`` / ``updatedAt`` in epoch ms (canonical.parse_timestamp_ms)."""


class SalesforceRecord(msgspec.Struct, frozen=True):
    values: dict[str, SalesforceValue]
    modified_ms: int = 0
    """``LastModifiedDate`` in epoch ms (canonical.parse_timestamp_ms)."""


class ReconcileSettings(msgspec.Struct, frozen=True):
    """Inputs that are not about the record pair.

    ``active_owner_emails``: lower-case emails of active Salesforce users; a HubSpot owner outside
    it is never pushed to Salesforce (R-OWN-3). Required, so that no caller forgets it.
    """

    active_owner_emails: frozenset[str]

    @classmethod
    def of(cls, active_owner_emails: Iterable[str]) -> ReconcileSettings:
        """Settings with the emails normalised as owner values are (trimmed, lower-case)."""
        return cls(frozenset(e.strip().lower() for e in active_owner_emails))


class FieldNote(msgspec.Struct, frozen=True):
    """Why one field did what it did: for the demo and ``crmsync errors``.

    Values are canonical, as each side held them before the decision. ``conflict`` is set when
    both sides had changed since the base and one of them lost.
    """

    hubspot: str
    salesforce: str
    rule: SyncRule
    action: Action
    reason: str
    hubspot_value: str | None = None
    salesforce_value: str | None = None
    conflict: bool = False


class Decision(msgspec.Struct, frozen=True):
    """Writes per side, the new bases and notes. Writes are wire values: HubSpot strings (``""``
    clears), Salesforce typed values (``None`` clears). ``create_*`` says the writes are a create.

    ``bases`` is the link's complete new set, to store in place of the old one once the writes
    have succeeded (a failed write leaves the old bases, so the next pass retries it).
    """

    hubspot_writes: dict[str, str]
    salesforce_writes: dict[str, SalesforceValue]
    bases: dict[str, str | None]
    notes: tuple[FieldNote, ...] = ()
    create_hubspot: bool = False
    create_salesforce: bool = False

    @property
    def has_writes(self) -> bool:
        return bool(self.hubspot_writes or self.salesforce_writes)

    @property
    def errors(self) -> tuple[FieldNote, ...]:
        return tuple(n for n in self.notes if n.action is Action.ERROR)


# Enum members bound once: attribute access on an Enum class costs ~0.2 µs, in the hot path.
_DONT_SYNC = SyncRule.DONT_SYNC
_OWNER = FieldKind.OWNER
_TO_HUBSPOT = Action.TO_HUBSPOT
_TO_SALESFORCE = Action.TO_SALESFORCE
_NOT_ON_SF_CREATE = frozenset({SyncRule.ALWAYS_SALESFORCE, SyncRule.DONT_SYNC})
_NOT_ON_HS_CREATE = frozenset({SyncRule.ALWAYS_HUBSPOT, SyncRule.DONT_SYNC})


def reconcile(
    link: LinkState,
    hubspot: HubSpotRecord | None,
    salesforce: SalesforceRecord | None,
    mappings: Sequence[FieldMapping],
    settings: ReconcileSettings,
) -> Decision:
    """Decide one record pair. ``None`` for a side means it does not exist yet: the decision is
    then a create on that side (SPEC §3: the new link's other side is entirely blank)."""
    if hubspot is None and salesforce is None:
        raise ValueError("reconcile needs at least one existing record")
    if salesforce is None:
        assert hubspot is not None
        return _create_salesforce(hubspot, mappings, settings)
    if hubspot is None:
        return _create_hubspot(salesforce, mappings)
    return _Pass(link, hubspot, salesforce, settings).run(mappings)


def _create_fields(
    mappings: Sequence[FieldMapping],
    read: Callable[[FieldMapping], str | None],
    bases: dict[str, str | None],
    notes: list[FieldNote],
) -> Iterator[tuple[FieldMapping, SyncRule, str]]:
    """The fields a create may send, with the source side's canonical value. Shared by both create
    directions: ``dont_sync`` fields are skipped, an unreadable value becomes an error note, and a
    blank one is agreed blank at once (blank here, and blank in the record about to be created)."""
    for m in mappings:
        rule = m.effective_rule
        if rule is _DONT_SYNC:
            continue
        try:
            value = read(m)
        except CanonicalError as exc:
            notes.append(FieldNote(m.hubspot, m.salesforce, rule, Action.ERROR, str(exc)))
            continue
        if value is None:
            bases[m.key] = None
            continue
        yield m, rule, value


def _create_salesforce(
    hubspot: HubSpotRecord, mappings: Sequence[FieldMapping], settings: ReconcileSettings
) -> Decision:
    writes: dict[str, SalesforceValue] = {}
    bases: dict[str, str | None] = {}
    notes: list[FieldNote] = []
    for m, rule, value in _create_fields(
        mappings, lambda m: from_hubspot(m.kind, hubspot.values.get(m.hubspot), m.table), bases, notes
    ):
        if rule in _NOT_ON_SF_CREATE or m.formula:
            reason = f"{rule.value}: HubSpot's value is not sent when creating in Salesforce"
            notes.append(FieldNote(m.hubspot, m.salesforce, rule, Action.NOT_SENT, reason, value))
            continue
        if m.kind is FieldKind.OWNER and value not in settings.active_owner_emails:
            # R-OWN-4a: without a matching owner Salesforce's assignment rules pick one.
            reason = "owner has no active Salesforce user; Salesforce assignment rules apply (R-OWN-4)"
            notes.append(FieldNote(m.hubspot, m.salesforce, rule, Action.HELD, reason, value))
            continue
        writes[m.salesforce] = to_salesforce(m.kind, value)
        bases[m.key] = value
    for m, country in states_without_country(mappings, writes, {}):
        del writes[m.salesforce]
        del bases[m.key]
        state = from_hubspot(m.kind, hubspot.values.get(m.hubspot), m.table)
        notes.append(
            FieldNote(m.hubspot, m.salesforce, m.effective_rule, Action.ERROR, state_reason(country), state)
        )
    return Decision({}, writes, bases, tuple(notes), create_salesforce=True)


def _create_hubspot(salesforce: SalesforceRecord, mappings: Sequence[FieldMapping]) -> Decision:
    writes: dict[str, str] = {}
    bases: dict[str, str | None] = {}
    notes: list[FieldNote] = []
    for m, rule, value in _create_fields(
        mappings,
        lambda m: from_salesforce(m.kind, salesforce.values.get(m.salesforce), m.table),
        bases,
        notes,
    ):
        if rule in _NOT_ON_HS_CREATE:
            reason = f"{rule.value}: Salesforce's value is not sent when creating in HubSpot"
            notes.append(FieldNote(m.hubspot, m.salesforce, rule, Action.NOT_SENT, reason, None, value))
            continue
        # Any Salesforce owner may go to HubSpot (R-OWN-3).
        writes[m.hubspot] = to_hubspot(m.kind, value, m.table)
        bases[m.key] = value
    return Decision(writes, {}, bases, tuple(notes), create_hubspot=True)


class _Pass:
    """One reconciliation of an existing pair; a class only to share state between its steps."""

    def __init__(
        self,
        link: LinkState,
        hubspot: HubSpotRecord,
        salesforce: SalesforceRecord,
        settings: ReconcileSettings,
    ) -> None:
        self.link = link
        self.hubspot = hubspot
        self.salesforce = salesforce
        self.settings = settings
        self.hs_writes: dict[str, str] = {}
        self.sf_writes: dict[str, SalesforceValue] = {}
        self.bases: dict[str, str | None] = {}
        self.notes: list[FieldNote] = []
        self.formula_writes: list[FieldMapping] = []

    def run(self, mappings: Sequence[FieldMapping]) -> Decision:
        for m in mappings:
            self.field(m)
        self.check_states(mappings)
        self.hold_formula_only_changes()
        return Decision(self.hs_writes, self.sf_writes, self.bases, tuple(self.notes))

    def field(self, m: FieldMapping) -> None:
        rule = m.effective_rule
        key = m.key
        bases = self.link.bases
        has_base = key in bases
        base = bases.get(key)
        if rule is _DONT_SYNC:
            if has_base:
                self.bases[key] = base
            return
        kind = m.kind
        try:
            h = from_hubspot(kind, self.hubspot.values.get(m.hubspot), m.table)
            s = from_salesforce(kind, self.salesforce.values.get(m.salesforce), m.table)
        except CanonicalError as exc:
            self.notes.append(FieldNote(m.hubspot, m.salesforce, rule, Action.ERROR, str(exc)))
            if has_base:
                self.bases[key] = base
            return
        if h == s:  # the common case: in step, nothing to decide
            self.bases[key] = h
            return
        owner = kind is _OWNER
        move = decide_field(
            rule,
            h,
            s,
            has_base,
            base,
            self.hubspot.modified_ms,
            self.salesforce.modified_ms,
            owner=owner,
            owner_active=owner and h in self.settings.active_owner_emails,
        )
        direction = move.direction
        if direction is _TO_HUBSPOT:
            self.hs_writes[m.hubspot] = to_hubspot(kind, s, m.table)
            self.bases[key] = s
            if m.formula and has_base and h == base:
                # Only Salesforce's recalculated value moved: a candidate for holding back.
                self.formula_writes.append(m)
        elif direction is _TO_SALESFORCE:
            self.sf_writes[m.salesforce] = to_salesforce(kind, h)
            self.bases[key] = h
        elif has_base:
            self.bases[key] = base
        if direction is not None:
            self.notes.append(
                FieldNote(m.hubspot, m.salesforce, rule, direction, move.reason, h, s, move.conflict)
            )

    def check_states(self, mappings: Sequence[FieldMapping]) -> None:
        for m, country in states_without_country(mappings, self.sf_writes, self.salesforce.values):
            del self.sf_writes[m.salesforce]
            self._restore_base(m)
            self._replace_note(m, Action.ERROR, state_reason(country))

    def hold_formula_only_changes(self) -> None:
        """R-TRG-5: a recalculated formula field alone triggers no sync; its value travels with the
        next write the record makes for another reason."""
        if not self.formula_writes or self.sf_writes:
            return
        if set(self.hs_writes) - {m.hubspot for m in self.formula_writes}:
            return
        for m in self.formula_writes:
            del self.hs_writes[m.hubspot]
            self._restore_base(m)
            self._replace_note(m, Action.HELD, "a formula field's change alone triggers no sync (R-TRG-5)")

    def _restore_base(self, m: FieldMapping) -> None:
        if m.key in self.link.bases:
            self.bases[m.key] = self.link.bases[m.key]
        else:
            self.bases.pop(m.key, None)

    def _replace_note(self, m: FieldMapping, action: Action, reason: str) -> None:
        for i, note in enumerate(self.notes):
            if note.hubspot == m.hubspot:
                self.notes[i] = msgspec.structs.replace(note, action=action, reason=reason)
