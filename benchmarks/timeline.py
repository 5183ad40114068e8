"""Where a run spent its calls, second by second, from the mocks' own log of arrivals.

Each mock logs every API call it receives (wall-clock arrival, endpoint; ``GET /__mock/timeline``).
A measured run keeps the calls that arrived between its start and its end, relative to the start
(the engine process's launch), and reduces them to what shows where the run waited: per second
the HubSpot searches, the other HubSpot calls (the burst window's), HubSpot writes, Salesforce
calls and refusals; the moments that bound the run (first call, first and last search, last write,
last call); the gaps in the search lane; and the most HubSpot calls any ten seconds held.

Under real limits the 10k backfill is bound by the search lane (``benchmarks/ceiling.py``): every
second in which it makes fewer than five searches, between the engine's start and its end, is a
second lost against the ceiling, and this is what finds them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from itertools import pairwise

import msgspec

from benchmarks.harness import is_write

SEARCH_SUFFIX = "/search"
GAP_S = 0.5
"""A search lane that sustains 5/s leaves 0.2 s between searches; gaps past this are listed."""


class Second(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The calls that arrived in one second of the run (``at``: seconds from its start)."""

    at: int
    hs_search: int = 0
    hs_other: int = 0
    """HubSpot calls that are not searches: batch reads and writes, owners, properties."""
    hs_write: int = 0
    sf: int = 0
    sf_write: int = 0
    refused: int = 0


class Timeline(msgspec.Struct, kw_only=True):
    end_s: float
    """The run's length (its end as the harness saw it)."""
    first_call_s: float | None = None
    first_search_s: float | None = None
    last_search_s: float | None = None
    last_hubspot_write_s: float | None = None
    last_write_s: float | None = None
    """The last write to either CRM."""
    last_call_s: float | None = None
    searches: int = 0
    search_lane_lost_s: float | None = None
    """Between the first and the last search, the time beyond what the searches needed at the
    search rate: ``last - first - (searches - 1) / rate``."""
    search_gaps: list[tuple[float, float]] = []
    """(at, length) of every gap between two searches longer than ``GAP_S`` seconds."""
    max_hubspot_per_10s: int = 0
    """The most HubSpot calls (searches included, as the engine counts them) in any 10 s."""
    max_hubspot_other_per_10s: int = 0
    """The same without searches (what the mock's burst window counts)."""
    seconds: list[Second] = []


def _most_in(stamps: Sequence[float], width_s: float) -> int:
    """The most stamps (sorted) in any half-open window of ``width_s`` (the mock's window)."""
    best = 0
    for i, t in enumerate(stamps):
        j = bisect.bisect_left(stamps, t + width_s, lo=i)
        best = max(best, j - i)
    return best


def _at(t: float | None) -> float | None:
    return None if t is None else round(t, 2)


def build(
    hubspot: Iterable[tuple[float, str]],
    salesforce: Iterable[tuple[float, str]],
    *,
    start: float,
    end: float,
    search_per_s: int = 0,
) -> Timeline:
    """``hubspot``/``salesforce``: each mock's (arrival epoch s, endpoint) log; ``start``/``end``:
    the run's bounds in epoch seconds. ``search_per_s``: the search rate in force (0 = none)."""
    rows: dict[int, Second] = {}

    def row(t: float) -> Second:
        second = int(t)
        found = rows.get(second)
        if found is None:
            found = rows[second] = Second(at=second)
        return found

    searches: list[float] = []
    hubspot_calls: list[float] = []
    hubspot_other: list[float] = []
    last_hs_write = last_write = first = last = None
    for system, log in (("hubspot", hubspot), ("salesforce", salesforce)):
        for stamp, endpoint in log:
            if not start <= stamp <= end:
                continue
            t = stamp - start
            r = row(t)
            if endpoint.startswith("refused "):
                r.refused += 1
                continue
            first = t if first is None else min(first, t)
            last = t if last is None else max(last, t)
            write = is_write(endpoint)
            if write:
                last_write = t if last_write is None else max(last_write, t)
            if system == "salesforce":
                r.sf += 1
                r.sf_write += write
                continue
            hubspot_calls.append(t)
            if endpoint.endswith(SEARCH_SUFFIX) and endpoint.startswith("POST "):
                r.hs_search += 1
                searches.append(t)
            else:
                r.hs_other += 1
                hubspot_other.append(t)
            if write:
                r.hs_write += 1
                last_hs_write = t if last_hs_write is None else max(last_hs_write, t)
    searches.sort()
    hubspot_calls.sort()
    hubspot_other.sort()
    gaps = [(round(a, 2), round(b - a, 2)) for a, b in pairwise(searches) if b - a > GAP_S]
    lost = None
    if search_per_s and len(searches) > 1:
        lost = round(searches[-1] - searches[0] - (len(searches) - 1) / search_per_s, 2)
    span = int(end - start)
    return Timeline(
        end_s=round(end - start, 2),
        first_call_s=_at(first),
        first_search_s=_at(searches[0] if searches else None),
        last_search_s=_at(searches[-1] if searches else None),
        last_hubspot_write_s=_at(last_hs_write),
        last_write_s=_at(last_write),
        last_call_s=_at(last),
        searches=len(searches),
        search_lane_lost_s=lost,
        search_gaps=gaps,
        max_hubspot_per_10s=_most_in(hubspot_calls, 10.0),
        max_hubspot_other_per_10s=_most_in(hubspot_other, 10.0),
        seconds=[rows.get(s) or Second(at=s) for s in range(span + 1)],
    )


def summary_lines(timeline: Timeline) -> list[str]:
    """A few lines for the bench's output: the moments, the per-second series, the gaps."""
    tl = timeline

    def series(values: Iterable[int]) -> str:
        return " ".join(f"{v:>2}" for v in values)

    lines = [
        f"timeline, s from engine start: first call {tl.first_call_s}, first search {tl.first_search_s}, "
        f"last search {tl.last_search_s}, last HubSpot write {tl.last_hubspot_write_s}, last write "
        f"{tl.last_write_s}, last call {tl.last_call_s}, end {tl.end_s}",
        f"  second       {series(s.at for s in tl.seconds)}",
        f"  HS search/s  {series(s.hs_search for s in tl.seconds)}",
        f"  HS other/s   {series(s.hs_other for s in tl.seconds)}",
        f"  HS write/s   {series(s.hs_write for s in tl.seconds)}",
        f"  SF calls/s   {series(s.sf for s in tl.seconds)}",
    ]
    if any(s.refused for s in tl.seconds):
        lines.append(f"  refused/s    {series(s.refused for s in tl.seconds)}")
    gaps = ", ".join(f"{at:g} (+{length:g})" for at, length in tl.search_gaps) or "none"
    lines.append(
        f"  {tl.searches} searches, lane lost {tl.search_lane_lost_s} s; most HubSpot calls in 10 s "
        f"{tl.max_hubspot_per_10s} ({tl.max_hubspot_other_per_10s} without searches); "
        f"search gaps > {GAP_S:g} s at: {gaps}"
    )
    return lines
