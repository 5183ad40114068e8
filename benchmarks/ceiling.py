"""The API-bound ceiling: the most record pairs per second any engine could sync under the limits.

Only HubSpot rate-limits (a burst window and a search rate); Salesforce has a daily allotment only,
which bounds how much, not how fast. The least HubSpot work the initial workload needs, for a share
``r`` of the pairs with a HubSpot record and a share ``w`` that HubSpot lacks, is:

- read every HubSpot record once through search pages of ``SEARCH_PAGE`` (the incremental read
  that sees modification times): ``r / page`` searches per pair;
- write every pair's HubSpot side once, in batches of the batch size in force: the ``w`` records
  HubSpot lacks are created (carrying the Salesforce id), and the ``r`` it has get the Salesforce id
  they lack — SPEC §2: both sides carry the other's id, so a backfill that links a pair writes it;
- read those ``r + w`` writes back: a record's modification time moves when it is written, so an
  engine that follows HubSpot by modification time (any engine that syncs changes, not a one-off
  copy) must page past its own writes before its cursor is past them, and it cannot tell them from
  a user's edit made meanwhile without reading them. ``crmsync run --until-idle`` ends when a pass
  finds nothing new, so the measured time includes this read, as it would for any such engine.

A record written before search first reaches it is read once, not twice: the ``l`` linked pairs'
HubSpot side can be found from Salesforce (a batch read by email, one burst call per ``batch``
records) and written before search gets to it. That trades searches for burst calls; the ceiling is
the better of the two ways, which under HubSpot's limits is the second (750 pairs/s for a third of
each kind, against 600 reading every linked record by search as well).

Searches have their own limit and do not count in the burst window (reference A8: HubSpot's
search bucket is its own; ``engine/pacing.py``). So:

    searches/s  = pairs/s · (2r + w - x) / page      ≤ search_per_s
    calls/s     = pairs/s · (r + w + x) / batch      ≤ burst_per_10s / 10

with ``x = 0`` (every HubSpot record found by search) or ``x = l`` (linked ones by batch read).

The ceiling is the smaller of the two bounds (None = no rate limit, no ceiling). Looking a
Salesforce-only contact up in HubSpot by email is not counted: an engine that has read all of
HubSpot could know. ``one_pass_pairs_per_s`` is the earlier, looser figure: reading HubSpot once and
creating what it lacks, with no ids written and nothing read back — the bound of a one-off copy
that does not keep SPEC §2's links, kept for comparison with the first results.
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
    linked_by_batch_read: bool = False
    """The bound is the one where linked pairs' HubSpot side is found by batch read, not search."""
    search_page: int
    batch_size: int
    one_pass_pairs_per_s: float | None = None
    """Read once, create what HubSpot lacks, nothing more (no ids written, no read-back)."""


def _bounds(
    limits: Limits, *, searched: float, written: float, batch: int
) -> tuple[float | None, float | None]:
    """Pairs/s allowed by the search rate and by the burst window, for ``searched`` records read by
    search and ``written`` records written per pair."""
    search = (
        limits.hubspot_search_per_s * SEARCH_PAGE / searched
        if limits.hubspot_search_per_s and searched
        else None
    )
    per_pair = written / batch  # searches are not in the burst window
    burst_per_s = limits.hubspot_burst_per_10s / 10
    burst = burst_per_s / per_pair if burst_per_s and per_pair else None
    return search, burst


def ceiling(
    limits: Limits, *, read_share: float, write_share: float, batch_size: int, linked_share: float = 0.0
) -> Ceiling:
    """``read_share``: pairs with a HubSpot record; ``write_share``: pairs HubSpot lacks;
    ``linked_share``: pairs with a record on both sides (part of ``read_share``)."""
    batch = min(batch_size, BATCH_MAX)
    written = read_share + write_share
    ways = []
    for by_batch_read in (False, True) if linked_share else (False,):
        x = linked_share if by_batch_read else 0.0
        search, burst = _bounds(limits, searched=read_share + written - x, written=written + x, batch=batch)
        bounds = {k: v for k, v in (("hubspot search rate", search), ("hubspot burst window", burst)) if v}
        ways.append((min(bounds.values()) if bounds else None, by_batch_read, search, burst, bounds))
    best = max(ways, key=lambda w: -1.0 if w[0] is None else w[0])
    _, by_batch_read, search, burst, bounds = best
    if not bounds:
        value, by = None, "no rate limit"
    else:
        by = min(bounds, key=lambda k: bounds[k])
        value = round(bounds[by], 1)
    once = [b for b in _bounds(limits, searched=read_share, written=write_share, batch=batch) if b]
    return Ceiling(
        pairs_per_s=value,
        bound_by=by,
        search_bound=None if search is None else round(search, 1),
        burst_bound=None if burst is None else round(burst, 1),
        hubspot_read_share=round(read_share, 4),
        hubspot_write_share=round(write_share, 4),
        linked_by_batch_read=by_batch_read and bool(bounds),
        search_page=SEARCH_PAGE,
        batch_size=batch,
        one_pass_pairs_per_s=round(min(once), 1) if once else None,
    )
