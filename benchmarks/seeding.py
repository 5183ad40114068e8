"""The initial workload: N contact pairs, a third HubSpot-only, a third Salesforce-only, and a third on
both sides under one email with a differing job title (HubSpot's is newer).

Everything is seeded through the mocks' control plane (no API calls, no rate limit, so nothing is
left in a burst window for the engine to meet; Salesforce's records are another user's, as a real
org's would be): HubSpot-only and Salesforce-only people from the seeders, and the shared third's
HubSpot side as explicit records made from the Salesforce contacts' emails. A million pairs seed in
a few minutes.
"""

from __future__ import annotations

import msgspec

from benchmarks.harness import Mocks

SEED_CHUNK = 20_000


class Mix(msgspec.Struct, kw_only=True):
    pairs: int
    hubspot_only: int
    salesforce_only: int
    linked: int

    @property
    def hubspot_read_share(self) -> float:
        """Pairs with a HubSpot record to read."""
        return (self.hubspot_only + self.linked) / self.pairs if self.pairs else 0.0

    @property
    def hubspot_write_share(self) -> float:
        """Pairs HubSpot lacks: the least HubSpot writes (linked pairs' newer side is HubSpot's)."""
        return self.salesforce_only / self.pairs if self.pairs else 0.0


async def seed_pairs(mocks: Mocks, pairs: int, seed: int = 1) -> Mix:
    third = pairs // 3
    hs_only, linked = third, third
    sf_only = pairs - hs_only - linked
    if hs_only:
        await mocks.control(
            "hubspot", "POST", "seed", {"object_type": "contacts", "count": hs_only, "seed": seed}
        )
    await mocks.control(
        "salesforce", "POST", "seed", {"sobject": "Contact", "count": sf_only + linked, "seed": seed + 1}
    )
    if linked:
        contacts = (await mocks.salesforce_contacts(fields=("Email", "LastName")))[sf_only:]
        records = [
            {"email": str(c["Email"]), "lastname": str(c["LastName"]), "jobtitle": "Title from HubSpot"}
            for c in contacts
        ]
        for i in range(0, len(records), SEED_CHUNK):  # the mock takes bodies of a few MB
            chunk = records[i : i + SEED_CHUNK]
            await mocks.control("hubspot", "POST", "seed", {"object_type": "contacts", "records": chunk})
    return Mix(pairs=pairs, hubspot_only=hs_only, salesforce_only=sf_only, linked=linked)
