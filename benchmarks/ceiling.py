"""The API-bound ceiling: the most record pairs per second any engine could sync under the limits.

Only HubSpot rate-limits (a burst window and a search rate); Salesforce has a daily allotment only,
which bounds how much, not how fast. The least HubSpot work the initial workload needs is: read
every HubSpot record once through search pages of ``SEARCH_PAGE`` (the incremental read that sees
modification times), and write every record HubSpot lacks in batches of the batch size in force.
Every search also counts in the burst window. So, for a workload where a share ``r`` of the pairs
has a HubSpot record to read and a share ``w`` needs a HubSpot write:

    searches/s  = pairs/s · r / page            ≤ search_per_s
    calls/s     = pairs/s · (r / page + w / batch) ≤ burst_per_10s / 10

The ceiling is the smaller of the two bounds (None = no rate limit, no ceiling).
"""

from __future__ import annotations

import msgspec

from benchmarks.harness import Limits
from engine.hubspot import BATCH_MAX, SEARCH_PAGE


class Ceiling(msgspec.Struct, kw_only=True):
    pairs_per_s: float | None
    """None when nothing rate-limits (lifted limits)."""
    bound_by: str
    search_bound: float | None
    burst_bound: float | None
    hubspot_read_share: float
    hubspot_write_share: float
    search_page: int
    batch_size: int


def ceiling(limits: Limits, *, read_share: float, write_share: float, batch_size: int) -> Ceiling:
    batch = min(batch_size, BATCH_MAX)
    search = (
        limits.hubspot_search_per_s * SEARCH_PAGE / read_share
        if limits.hubspot_search_per_s and read_share
        else None
    )
    per_pair = read_share / SEARCH_PAGE + write_share / batch
    burst = (
        limits.hubspot_burst_per_10s / 10 / per_pair if limits.hubspot_burst_per_10s and per_pair else None
    )
    bounds = {k: v for k, v in (("hubspot search rate", search), ("hubspot burst window", burst)) if v}
    if not bounds:
        value, by = None, "no rate limit"
    else:
        by = min(bounds, key=lambda k: bounds[k])
        value = round(bounds[by], 1)
    return Ceiling(
        pairs_per_s=value,
        bound_by=by,
        search_bound=None if search is None else round(search, 1),
        burst_bound=None if burst is None else round(burst, 1),
        hubspot_read_share=round(read_share, 4),
        hubspot_write_share=round(write_share, 4),
        search_page=SEARCH_PAGE,
        batch_size=batch,
    )
