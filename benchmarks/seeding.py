"""The initial workload: N contact pairs, a third HubSpot-only, a third Salesforce-only, and a third on
both sides under one email with a differing job title (HubSpot's is newer).

HubSpot-only and Salesforce-only people come from the mocks' seeders (control plane: no API calls,
and Salesforce's are another user's records, as a real org's would be). The shared third is created
in HubSpot through the batch API from the Salesforce contacts' emails; under real limits those calls
obey the burst window (a 429 waits), and the window is left to clear before anything is measured.
"""

from __future__ import annotations

import anyio
import msgspec

from benchmarks.harness import Mocks

HS_PATH = "/crm/v3/objects/contacts"


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
    contacts = (await mocks.salesforce_contacts())[sf_only:]
    auth = {"Authorization": f"Bearer {mocks.endpoints.hubspot_token}"}
    limited, calls = False, 0
    for i in range(0, len(contacts), 100):
        inputs = [
            {"properties": {"email": c["Email"], "lastname": c["LastName"], "jobtitle": "Title from HubSpot"}}
            for c in contacts[i : i + 100]
        ]
        while True:
            status, body = await mocks.request(
                "hubspot", "POST", HS_PATH + "/batch/create", {"inputs": inputs}, auth
            )
            calls += 1
            if status != 429:
                break
            limited = True
            await anyio.sleep(1)
        if status not in (200, 201):
            raise RuntimeError(f"seeding HubSpot: {status} {body}")
    burst = mocks.limits.hubspot_burst_per_10s
    if burst and (limited or calls > burst // 20):
        # Let the ten-second window forget the seeding calls. A handful would at worst cost the
        # engine a 429, which it waits out as it would in production: not worth ten seconds.
        await anyio.sleep(10.5)
    return Mix(pairs=pairs, hubspot_only=hs_only, salesforce_only=sf_only, linked=linked)
