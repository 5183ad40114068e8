"""Owners are matched by the user's email (R-OWN-3…5): HubSpot owner ids and Salesforce user ids
are translated to emails before reconciling and back to ids for the writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from engine.mapping import FieldMapping


class OwnerDirectory(msgspec.Struct, kw_only=True):
    hubspot_email: dict[str, str] = msgspec.field(default_factory=dict)
    """HubSpot owner id → lower-case email."""
    hubspot_id: dict[str, str] = msgspec.field(default_factory=dict)
    salesforce_email: dict[str, str] = msgspec.field(default_factory=dict)
    """Salesforce user id (15-char prefix) → lower-case email."""
    salesforce_id: dict[str, str] = msgspec.field(default_factory=dict)
    """Lower-case email → id of an *active* Salesforce user."""
    api_user: str | None = None
    """The Salesforce user crmsync acts as (UserInfo), whom Salesforce makes the owner of a record
    created without one; None when unknown."""

    @classmethod
    def build(
        cls,
        hubspot_owners: Iterable[tuple[str, str | None]],
        salesforce_users: Iterable[tuple[str, str | None, bool]],
        api_user: str | None = None,
    ) -> OwnerDirectory:
        d = cls(api_user=api_user)
        for owner_id, email in hubspot_owners:
            if email:
                e = email.strip().lower()
                d.hubspot_email[owner_id] = e
                d.hubspot_id.setdefault(e, owner_id)
        for user_id, email, active in salesforce_users:
            if email:
                e = email.strip().lower()
                d.salesforce_email[user_id[:15]] = e
                if active:
                    d.salesforce_id.setdefault(e, user_id)
        return d

    def active_salesforce_emails(self) -> frozenset[str]:
        return frozenset(self.salesforce_id)

    def default_salesforce_owner(self) -> str | None:
        """The email of the owner Salesforce gives a record we create without one (the API user)."""
        return self.sf_to_email(self.api_user)

    def hs_to_email(self, owner_id: str | None) -> str | None:
        return self.hubspot_email.get(owner_id) if owner_id else None

    def sf_to_email(self, user_id: str | None) -> str | None:
        return self.salesforce_email.get(user_id[:15]) if user_id else None

    def salesforce_ids(self, writes: dict[str, Any], owner_fields: Sequence[FieldMapping]) -> dict[str, Any]:
        """Owner emails in Salesforce writes → user ids; an email with no active user is not pushed
        (R-OWN-3): the field snaps back to Salesforce's value on the next pass."""
        for m in owner_fields:
            if m.salesforce in writes:
                user = self.salesforce_id.get(str(writes[m.salesforce] or ""))
                if user is None:
                    del writes[m.salesforce]
                else:
                    writes[m.salesforce] = user
        return writes

    def hubspot_ids(self, writes: dict[str, str], owner_fields: Sequence[FieldMapping]) -> dict[str, str]:
        """Owner emails in HubSpot writes → owner ids; an email with no HubSpot owner clears the
        HubSpot owner. (Leaving the previous owner there made it look like a HubSpot edit on the
        record's next delivery, which pushed it back over Salesforce's new owner.)"""
        for m in owner_fields:
            if writes.get(m.hubspot):
                writes[m.hubspot] = self.hubspot_id.get(writes[m.hubspot], "")
        return writes
