"""Propagation latency from the mocks' own timestamps, read from their dumps after a steady run.

A change's latency is the time from its modification time at the source to the moment the other
side holds it, which is the other side's record stamp of the engine's write. The dumps show the
last state of each record only, so each pair gives at most one sample (its last change), of three
kinds the stamps attribute without doubt:

- ``create hubspot→salesforce``: a contact the workload created in HubSpot after the start, and its
  Salesforce Contact created by the engine (the API user): Salesforce ``CreatedDate`` − HubSpot
  ``createdAt``;
- ``create salesforce→hubspot``: a Contact the workload created (another user), and the HubSpot
  contact carrying its id: HubSpot ``createdAt`` − Salesforce ``CreatedDate``;
- ``update hubspot→salesforce``: a pair that existed before the start whose Salesforce side was last
  written by the engine after HubSpot's last change: ``LastModifiedDate`` − HubSpot ``updatedAt``.

A create whose pair had an earlier counterpart (deleted or archived since, then made again by the
engine on a later edit, e.g. a HubSpot contact edited after the generator deleted its Salesforce
record) is no sample: the edit that caused it is not stamped anywhere the dumps keep, and measuring
from the record's creation would count the seconds between its first sync and the delete as
latency. Those are counted apart (``recreated``).

Updates from Salesforce to HubSpot are not measured: HubSpot keeps no last modifier, so a later
HubSpot edit of an unmapped property could not be told from the engine's write. Salesforce stamps
whole seconds (``SystemModstamp`` resolution); a stamp is read as the middle of its second, which
makes the estimate unbiased with an error of at most ±0.5 s per sample.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import msgspec

SF_RESOLUTION_MS = 1000


class Percentiles(msgspec.Struct, kw_only=True):
    samples: int
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None
    max_s: float | None


class Latency(msgspec.Struct, kw_only=True):
    all: Percentiles
    by_kind: dict[str, Percentiles]
    unsynced_creates: dict[str, int]
    """Records the generators created after the start, still alive, with no counterpart at the
    end: a backlog the engine had not worked off (so missing from the percentiles)."""
    recreated: dict[str, int] = {}
    """Creates left out of the samples: the pair's first counterpart was deleted and this one made
    again later (from an edit made after that delete, whose time the dumps do not keep)."""
    salesforce_stamp_resolution_ms: int = SF_RESOLUTION_MS


def to_ms(stamp: str) -> int:
    """HubSpot ``2026-01-02T03:04:05.678Z`` or Salesforce ``2026-01-02T03:04:05.000+0000`` → epoch ms."""
    text = stamp.replace("Z", "+00:00")
    if text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    dt = datetime.fromisoformat(text)
    return int(dt.timestamp() * 1000)


def _sf_ms(stamp: str) -> int:
    return to_ms(stamp) + SF_RESOLUTION_MS // 2


def percentiles(values: Iterable[float]) -> Percentiles:
    xs = sorted(values)
    if not xs:
        return Percentiles(samples=0, p50_s=None, p95_s=None, p99_s=None, max_s=None)

    def pick(q: float) -> float:
        # Nearest rank: the smallest value with at least q of the samples at or below it.
        i = max(0, min(len(xs) - 1, int(-(-q * len(xs) // 1)) - 1))
        return round(xs[i], 3)

    return Percentiles(
        samples=len(xs), p50_s=pick(0.5), p95_s=pick(0.95), p99_s=pick(0.99), max_s=round(xs[-1], 3)
    )


def latencies(
    hubspot: Sequence[dict[str, Any]],
    salesforce: Sequence[dict[str, Any]],
    *,
    start_ms: int,
    other_user: str,
    external_id_field: str = "HubSpot_Id__c",
) -> Latency:
    """Samples in seconds, by kind. ``other_user`` is the Salesforce user the workload writes as."""
    hs_by_id = {str(h["id"]): h for h in hubspot if not h.get("archived")}
    sf_by_id = {str(s["Id"]): s for s in salesforce if not s.get("IsDeleted")}
    kinds: dict[str, list[float]] = {
        "create hubspot→salesforce": [],
        "create salesforce→hubspot": [],
        "update hubspot→salesforce": [],
    }
    # Every counterpart ever made, deleted and archived ones included: the earliest is the first.
    first_sf: dict[str, int] = {}
    for made in salesforce:
        if hs_id := str(made.get(external_id_field) or ""):
            first_sf[hs_id] = min(first_sf.get(hs_id, 1 << 62), to_ms(made["CreatedDate"]))
    first_hs: dict[str, int] = {}
    for contact in hubspot:
        if sf_id := str(contact.get("properties", {}).get("salesforcecontactid") or "")[:15]:
            first_hs[sf_id] = min(first_hs.get(sf_id, 1 << 62), to_ms(contact["createdAt"]))
    recreated = {"create hubspot→salesforce": 0, "create salesforce→hubspot": 0}
    for s in sf_by_id.values():
        h = hs_by_id.get(str(s.get(external_id_field) or ""))
        if h is None:
            continue
        hs_created, hs_updated = to_ms(h["createdAt"]), to_ms(h["updatedAt"])
        sf_created, sf_modified = _sf_ms(s["CreatedDate"]), _sf_ms(s["LastModifiedDate"])
        if s["CreatedById"] != other_user and hs_created >= start_ms:
            if first_sf[str(h["id"])] < to_ms(s["CreatedDate"]):
                recreated["create hubspot→salesforce"] += 1
            else:
                kinds["create hubspot→salesforce"].append(max(0, sf_created - hs_created) / 1000)
        elif s["CreatedById"] == other_user and sf_created >= start_ms and hs_created >= sf_created - 1000:
            if first_hs.get(str(s["Id"])[:15], hs_created) < hs_created:
                recreated["create salesforce→hubspot"] += 1
            else:
                kinds["create salesforce→hubspot"].append(max(0, hs_created - sf_created) / 1000)
        elif (
            hs_created < start_ms
            and sf_created < start_ms
            and s["LastModifiedById"] != other_user
            and hs_updated >= start_ms
            and to_ms(s["LastModifiedDate"]) + SF_RESOLUTION_MS > hs_updated  # its second may follow
        ):
            kinds["update hubspot→salesforce"].append(max(0, sf_modified - hs_updated) / 1000)
    every = [x for xs in kinds.values() for x in xs]
    return Latency(
        all=percentiles(every),
        by_kind={k: percentiles(v) for k, v in kinds.items()},
        unsynced_creates=_unsynced(hubspot, salesforce, start_ms, other_user, external_id_field),
        recreated=recreated,
    )


def _unsynced(
    hubspot: Sequence[dict[str, Any]],
    salesforce: Sequence[dict[str, Any]],
    start_ms: int,
    other_user: str,
    external_id_field: str,
) -> dict[str, int]:
    # Deleted and archived records still count as counterparts: they were synced, then deleted.
    hs_linked = {str(s.get(external_id_field)) for s in salesforce if s.get(external_id_field)}
    sf_linked = {
        str(h["properties"].get("salesforcecontactid"))[:15]
        for h in hubspot
        if h.get("properties", {}).get("salesforcecontactid")
    }
    from_hs = sum(
        1
        for h in hubspot
        if not h.get("archived")
        and to_ms(h["createdAt"]) >= start_ms
        and str(h["id"]) not in hs_linked
        and not h.get("properties", {}).get("salesforcecontactid")  # made from Salesforce
    )
    from_sf = sum(
        1
        for s in salesforce
        if not s.get("IsDeleted")
        and s["CreatedById"] == other_user
        and _sf_ms(s["CreatedDate"]) >= start_ms
        and not s.get(external_id_field)
        and str(s["Id"])[:15] not in sf_linked
    )
    return {"hubspot→salesforce": from_hs, "salesforce→hubspot": from_sf}
