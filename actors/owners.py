"""Owners are matched by the user's email (R-OWN-3…5): HubSpot owner ids and Salesforce user ids
are translated to emails before reconciling and back to ids for the writes."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec


class OwnerDirectory(msgspec.Struct, kw_only=True):
    hubspot_email: dict[str, str] = msgspec.field(default_factory=dict)
    """HubSpot owner id → lower-case email."""
    hubspot_id: dict[str, str] = msgspec.field(default_factory=dict)
    salesforce_email: dict[str, str] = msgspec.field(default_factory=dict)
    """Salesforce user id (15-char prefix) → lower-case email."""
    salesforce_id: dict[str, str] = msgspec.field(default_factory=dict)
    """Lower-case email → id of an *active* Salesforce user."""

    @classmethod
    def build(
        cls,
        hubspot_owners: Iterable[tuple[str, str | None]],
        salesforce_users: Iterable[tuple[str, str | None, bool]],
    ) -> OwnerDirectory:
        d = cls()
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

    def hs_to_email(self, owner_id: str | None) -> str | None:
        return self.hubspot_email.get(owner_id) if owner_id else None

    def sf_to_email(self, user_id: str | None) -> str | None:
        return self.salesforce_email.get(user_id[:15]) if user_id else None
