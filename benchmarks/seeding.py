"""The initial workload: N contact pairs, a third HubSpot-only, a third Salesforce-only, and a third on
both sides under one email with a differing job title (HubSpot's is newer).

Everything is seeded through the mocks' control plane (no API calls, no rate limit, so nothing is
left in a burst window for the engine to meet; Salesforce's records are another user's, as a real
org's would be): HubSpot-only and Salesforce-only people from the seeders, and the shared third's
HubSpot side as explicit records made from the Salesforce contacts' emails. A million pairs seed in
a few minutes. The mocks' clocks are set back while seeding (``HISTORY_S``) and restored after.
"""

from __future__ import annotations

import msgspec

from benchmarks.harness import SYSTEMS, Mocks

SEED_CHUNK = 20_000
HISTORY_S = 86_400.0
"""Seeded records' modification times span the past day, as a CRM's existing records' span its
history: seeded all in one minute, every record sat inside the change streams' one-minute
look-back window, which made the engine re-read and remember the whole data set (no real backfill
sees that)."""
CHUNKS = 24
"""Seeding calls per part (a clock step each): the records of one call share their moment."""


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


async def seed_pairs(mocks: Mocks, pairs: int, seed: int = 1, history_s: float | None = None) -> Mix:
    """Seed the mix, its modification times spread over the past ``history_s`` seconds: HubSpot-only
    people first, then Salesforce's, then the linked third's HubSpot side (so HubSpot's is newer)."""
    history_s = HISTORY_S if history_s is None else history_s
    third = pairs // 3
    hs_only, linked = third, third
    sf_only = pairs - hs_only - linked
    step = history_s / 3
    try:
        for i, (n, offset) in enumerate(_spread(hs_only, -history_s, step)):
            await _clocks(mocks, offset)
            body = {"object_type": "contacts", "count": n, "seed": seed + 100 * i}
            await mocks.control("hubspot", "POST", "seed", body)
        for i, (n, offset) in enumerate(_spread(sf_only + linked, -2 * step, step)):
            await _clocks(mocks, offset)
            # Each call its own seed and email tag: no address twice (a repeat would pair two people).
            body = {"sobject": "Contact", "count": n, "seed": seed + 1 + 100 * i, "email_tag": f"c{i}"}
            await mocks.control("salesforce", "POST", "seed", body)
        if linked:
            contacts = (await mocks.salesforce_contacts(fields=("Email", "LastName")))[sf_only:]
            records = [
                {"email": str(c["Email"]), "lastname": str(c["LastName"]), "jobtitle": "Title from HubSpot"}
                for c in contacts
            ]
            done = 0
            for n, offset in _spread(linked, -step, step):
                await _clocks(mocks, offset)
                for i in range(done, done + n, SEED_CHUNK):  # the mock takes bodies of a few MB
                    chunk = records[i : min(i + SEED_CHUNK, done + n)]
                    await mocks.control(
                        "hubspot", "POST", "seed", {"object_type": "contacts", "records": chunk}
                    )
                done += n
    finally:
        await _clocks(mocks, 0.0)
    return Mix(pairs=pairs, hubspot_only=hs_only, salesforce_only=sf_only, linked=linked)


def _spread(count: int, start_s: float, span_s: float) -> list[tuple[int, float]]:
    """``count`` records in up to CHUNKS calls, at clock offsets evenly across [start, start + span)."""
    calls = max(1, min(CHUNKS, count))
    sizes = [count // calls + (1 if i < count % calls else 0) for i in range(calls)]
    return [(n, start_s + span_s * i / calls) for i, n in enumerate(sizes) if n]


async def _clocks(mocks: Mocks, offset_s: float) -> None:
    for system in SYSTEMS:
        await mocks.control(system, "POST", "clock", {"offset_s": offset_s})
