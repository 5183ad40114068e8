"""Owners (``/crm/v3/owners``): the portal's users that records can be assigned to.

A fresh portal has a few seeded owners; the control plane can add more (``POST /__mock/owners``) so
tests can line them up with Salesforce users by email.
"""

from __future__ import annotations

import msgspec

from mockcrm.hubspot.values import iso_of

# The Salesforce mock's seeded users (all but its integration user) are owners here too, so owner
# mapping by email works out of the box; the last two exist in HubSpot only.
_SEED = (
    ("Alex", "Admin", "alex.admin@crmsync.mock"),
    ("Sam", "Sales", "sam.sales@crmsync.mock"),
    ("Priya", "Raman", "priya.raman@crmsync.mock"),
    ("Jordan", "Kim", "jordan.kim@crmsync.mock"),
)
FIRST_OWNER_ID = 90_000_001
FIRST_USER_ID = 7_000_001


class Owner(msgspec.Struct, kw_only=True):
    id: str
    email: str
    first_name: str
    last_name: str
    user_id: int
    created_ms: int
    archived: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "email": self.email,
            "type": "PERSON",
            "firstName": self.first_name,
            "lastName": self.last_name,
            "userId": self.user_id,
            "userIdIncludingInactive": self.user_id,
            "createdAt": iso_of(self.created_ms),
            "updatedAt": iso_of(self.created_ms),
            "archived": self.archived,
            "teams": [],
        }


class NewOwner(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /__mock/owners``."""

    email: str
    firstName: str = ""
    lastName: str = ""
    archived: bool = False


def make_owner(index: int, first: str, last: str, email: str, ms: int, archived: bool = False) -> Owner:
    return Owner(
        id=str(FIRST_OWNER_ID + index),
        email=email,
        first_name=first,
        last_name=last,
        user_id=FIRST_USER_ID + index,
        created_ms=ms,
        archived=archived,
    )


def seed_owners(ms: int) -> list[Owner]:
    return [make_owner(i, first, last, email, ms) for i, (first, last, email) in enumerate(_SEED)]
