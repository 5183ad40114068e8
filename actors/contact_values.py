"""What a contact actor knows about values: the records as the reconciler sees them (owners as
emails) and whether a change still agrees with the stored bases (the no-echo fast path)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from actors.owners import OwnerDirectory
from engine.canonical import (
    SELF_CANONICAL,
    CanonicalError,
    from_hubspot,
    from_salesforce,
    parse_timestamp_ms,
    to_hubspot,
)
from engine.mapping import FieldKind, FieldMapping, SyncRule, ValueTable
from engine.reconcile import HubSpotRecord, SalesforceRecord
from engine.store_types import Link

ID_PROPERTY = {"Contact": "salesforcecontactid", "Lead": "salesforceleadid"}
"""The HubSpot property that holds the linked Salesforce id, per Salesforce object."""
_OWNED_BY_CREATOR = frozenset({"Contact"})
"""Objects Salesforce gives the creating user as owner when a create names none. Not Lead: an
active lead assignment rule may pick someone else (R-OWN-4a), known only once the record is read."""

_Check = tuple[FieldMapping, str, str, str, FieldKind, ValueTable | None, bool, bool]
"""A synced field as the echo checks walk it: mapping, base key, HubSpot and Salesforce names,
kind, table, whether it is the owner, and whether a value equal to its base is canonical as it is
(``SELF_CANONICAL``, no table)."""


class ContactValues:
    def __init__(
        self,
        mappings: Mapping[str, Sequence[FieldMapping]],
        owners: OwnerDirectory,
        external_id_field: str,
        echo_suppression: bool = True,
    ) -> None:
        self.mappings = mappings
        self.echo_suppression = echo_suppression
        """False only to diagnose (``CRMSYNC_ECHO_SUPPRESSION=off``): nothing agrees, so every
        change, our own writes coming back included, is reconciled against the other side."""
        self.owners = owners
        self.external_id_field = external_id_field
        # Once per (property, field) pair: Contact and Lead both map the owner, and translating a
        # value twice (id → email → nothing) dropped every owner read from HubSpot and every owner
        # write to either side.
        self.owner_fields = list(
            {
                (m.hubspot, m.salesforce): m
                for ms in mappings.values()
                for m in ms
                if m.kind is FieldKind.OWNER
            }.values()
        )
        self._compiled: dict[str, list[_Check]] = {}
        self._owner_names: dict[str, frozenset[str]] = {}

    def hubspot_agrees(self, link: Link, raw: Mapping[str, Any]) -> bool:
        """``agrees_with_bases`` of a HubSpot contact's properties as read (not yet a
        ``hubspot_record``): the check of most changes a sync reads (its own writes coming back),
        so it converts only the synced fields, once each, through a precompiled list."""
        if not self.echo_suppression or link.salesforce_type is None or link.hubspot_id is None:
            return False
        if raw.get(ID_PROPERTY[link.salesforce_type]) != link.salesforce_id:
            return False
        bases = link.bases
        owners = self.owners
        for m, key, name, _, kind, table, owner, plain in self._checks(link.salesforce_type):
            if key not in bases:
                return False
            value = raw.get(name)
            if plain and value == bases[key]:
                continue  # already canonical, and the base: what nearly every echo's fields hold
            if value is not None and not isinstance(value, str):
                value = str(value)  # as hubspot_record makes it
            if owner:
                value = owners.hs_to_email(value)
            try:
                canonical = from_hubspot(kind, value, table)
            except CanonicalError:
                return False
            base = bases[key]
            if canonical != base and not self._unrepresentable_owner(m, "hubspot", canonical, base):
                return False
        return True

    def salesforce_agrees(self, link: Link, sobject: str, raw: Mapping[str, Any]) -> bool:
        """``agrees_with_bases`` of a Salesforce record as read (not yet a ``salesforce_record``)."""
        if not self.echo_suppression or link.salesforce_type is None or link.hubspot_id is None:
            return False
        if raw.get(self.external_id_field) != link.hubspot_id:
            return False
        bases = link.bases
        owners = self.owners
        # The fields of the link's object, as agrees_with_bases compares them; the owners of the
        # record's own object are the ones converted (salesforce_record), the same fields in practice.
        owned = self._owned(sobject)
        for _, key, _, name, kind, table, _, plain in self._checks(link.salesforce_type):
            if key not in bases:
                return False
            value = raw.get(name)
            if plain and value == bases[key] and name not in owned:
                continue
            if name in owned:
                value = owners.sf_to_email(value)
            try:
                canonical = from_salesforce(kind, value, table)
            except CanonicalError:
                return False
            if canonical != bases[key]:
                return False
        return True

    def _checks(self, sobject: str) -> list[_Check]:
        checks = self._compiled.get(sobject)
        if checks is None:
            checks = [
                (
                    m,
                    m.key,
                    m.hubspot,
                    m.salesforce,
                    m.kind,
                    m.table,
                    m.kind is FieldKind.OWNER,
                    m.table is None and m.kind in SELF_CANONICAL,
                )
                for m in self.mappings[sobject]
                if m.effective_rule is not SyncRule.DONT_SYNC
            ]
            self._compiled[sobject] = checks
        return checks

    def _owned(self, sobject: str) -> frozenset[str]:
        owned = self._owner_names.get(sobject)
        if owned is None:
            owned = frozenset(m.salesforce for m in self.mappings[sobject] if m.kind is FieldKind.OWNER)
            self._owner_names[sobject] = owned
        return owned

    def agrees_with_bases(self, link: Link, values: Mapping[str, Any], side: str) -> bool:
        """True when every synced field on this side still holds its base and the side already
        carries the other's id: then this change cannot move anything, and the other side need not
        be read. (A change on the other side arrives through that side's own stream.)"""
        if not self.echo_suppression:
            return False
        if link.salesforce_type is None or link.hubspot_id is None:
            return False
        if side == "hubspot":
            if values.get(ID_PROPERTY[link.salesforce_type]) != link.salesforce_id:
                return False
        elif values.get(self.external_id_field) != link.hubspot_id:
            return False
        for m in self.mappings[link.salesforce_type]:
            if m.effective_rule is SyncRule.DONT_SYNC:
                continue
            if m.key not in link.bases or not self._holds_base(m, side, values, link.bases[m.key]):
                return False
        return True

    def _holds_base(self, m: FieldMapping, side: str, values: Mapping[str, Any], base: str | None) -> bool:
        """Whether one side's value of one field is still its base (an unreadable value is not)."""
        try:
            if side == "hubspot":
                value = from_hubspot(m.kind, values.get(m.hubspot), m.table)
            else:
                value = from_salesforce(m.kind, values.get(m.salesforce), m.table)
        except CanonicalError:
            return False
        return value == base or self._unrepresentable_owner(m, side, value, base)

    def orphan_unchanged(
        self, orphan: Link, values: Mapping[str, Any], side: str = "hubspot", *, owners: bool = True
    ) -> bool:
        """An orphan is a contact whose Salesforce record was deleted (R-CON-3 "do nothing"); its
        bases are what the pair agreed on last. True when the contact still holds them: a
        redelivered version (look-back, restart), not an edit, so no Salesforce record is made
        for it. Fields that never had a base cannot tell, and are passed over. ``side="salesforce"``:
        the same question of a Salesforce record whose HubSpot contact was deleted. ``owners=False``
        passes over the owner as well."""
        if not self.echo_suppression or orphan.salesforce_type is None:
            return False
        compared = False
        for m in self.mappings[orphan.salesforce_type]:
            if m.effective_rule is SyncRule.DONT_SYNC or m.key not in orphan.bases:
                continue
            if not owners and m.kind is FieldKind.OWNER:
                continue
            if not self._holds_base(m, side, values, orphan.bases[m.key]):
                return False
            compared = True
        return compared

    def default_owner(
        self, sobject: str, sf_writes: Mapping[str, Any], hs_values: Mapping[str, Any]
    ) -> tuple[dict[str, str], dict[str, str | None]]:
        """A record we create in Salesforce without an owner is owned by the API user. Its echo
        would show that as a Salesforce change of the owner, which the full path (a HubSpot read)
        sends to HubSpot: a blank or unmatched HubSpot owner takes Salesforce's (R-OWN-4). The same
        move made with the create's own HubSpot write lets the echo agree with the bases: (HubSpot
        writes, owners as emails; the owner bases). Nothing when the API user is unknown."""
        email = self.owners.default_salesforce_owner()
        if email is None or sobject not in _OWNED_BY_CREATOR:
            return {}, {}
        writes: dict[str, str] = {}
        bases: dict[str, str | None] = {}
        for m in self.mappings[sobject]:
            if m.kind is not FieldKind.OWNER or m.effective_rule is SyncRule.DONT_SYNC:
                continue
            if m.salesforce in sf_writes:
                continue  # an owner we set: Salesforce keeps it
            try:
                s = from_salesforce(m.kind, email, m.table)
                h = from_hubspot(m.kind, hs_values.get(m.hubspot), m.table)
            except CanonicalError:
                continue
            if s is None:
                continue
            bases[m.key] = s
            if h != s:
                writes[m.hubspot] = to_hubspot(m.kind, s, m.table)
        return writes, bases

    def has_formulas(self, sobject: str) -> bool:
        return any(m.formula for m in self.mappings[sobject])

    def recalculated(
        self, sobject: str, after: Mapping[str, Any], bases: Mapping[str, Any]
    ) -> tuple[dict[str, str], dict[str, str | None]]:
        """Formula fields whose value in ``after`` (the record re-read after our write) differs from
        its base: the HubSpot writes that carry them, and their new bases."""
        writes: dict[str, str] = {}
        new_bases: dict[str, str | None] = {}
        for m in self.mappings[sobject]:
            if not m.formula or m.effective_rule is SyncRule.DONT_SYNC or m.key not in bases:
                continue
            try:
                value = from_salesforce(m.kind, after.get(m.salesforce), m.table)
            except CanonicalError:
                continue  # left for the record's own change to report
            if value != bases[m.key]:
                writes[m.hubspot] = to_hubspot(m.kind, value, m.table)
                new_bases[m.key] = value
        return writes, new_bases

    def hubspot_record(self, values: Mapping[str, Any], modified_ms: int) -> HubSpotRecord:
        out = {k: (None if v is None else str(v)) for k, v in values.items()}
        for m in self.owner_fields:
            out[m.hubspot] = self.owners.hs_to_email(out.get(m.hubspot))
        return HubSpotRecord(values=out, modified_ms=modified_ms)

    def salesforce_record(self, sobject: str, sf: Mapping[str, Any]) -> SalesforceRecord:
        values = {k: v for k, v in sf.items() if k != "attributes"}
        for m in self.mappings[sobject]:
            if m.kind is FieldKind.OWNER:
                values[m.salesforce] = self.owners.sf_to_email(values.get(m.salesforce))
        modified = str(sf.get("LastModifiedDate") or sf.get("SystemModstamp") or "")
        return SalesforceRecord(values=values, modified_ms=parse_timestamp_ms(modified) if modified else 0)

    def _unrepresentable_owner(self, m: FieldMapping, side: str, value: str | None, base: str | None) -> bool:
        """A Salesforce owner with no HubSpot owner of that email cannot be written to HubSpot
        (R-OWN: owners match by email), so HubSpot's blank owner is all the agreement there can be."""
        return (
            m.kind is FieldKind.OWNER
            and side == "hubspot"
            and value is None
            and base is not None
            and base not in self.owners.hubspot_id
        )
