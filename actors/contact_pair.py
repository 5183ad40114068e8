"""The pair's half of the contact actor: lookups, creates, reconcile-and-write, commit.

``ContactPair`` holds what every contact actor shares (the batched I/O, the settings and mappings,
the per-pair locks, the record of recent commits) and does what every path ends in: create the
record the other side lacks, reconcile a pair and write both sides, commit the new bases, or
record a sync error. ``contact_identity`` builds on it for records whose pairing changes, and
``contact`` for the changes as they arrive (SPEC §2-5).

Creates are upserts on the other system's id (``HubSpot_Id__c`` in Salesforce,
``salesforcecontactid`` / ``salesforceleadid`` in HubSpot), so a create repeated after a crash or a
lost reply finds the record it already made instead of making a second one.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import msgspec
from loguru import logger

from actors.batch import Batcher
from actors.contact_fresh import PairCommits
from actors.contact_io import ContactIO, HsWrite, SfRecord, SfWrite
from actors.contact_values import ID_PROPERTY, ContactValues
from actors.locks import KeyedLocks
from actors.owners import OwnerDirectory
from engine import failpoints
from engine.canonical import parse_timestamp_ms
from engine.errors import RecordError, Transient
from engine.hubspot import HubSpotObject
from engine.mapping import FieldMapping
from engine.reconcile import (
    Decision,
    HubSpotRecord,
    LinkState,
    ReconcileSettings,
    reconcile,
)
from engine.record_errors import FIXES
from engine.settings import ContactsSettings
from engine.store_types import ClearError, Link, PutError, PutLink, StoreOp, SyncError
from engine.summary import Summary

Outcome = BaseException | None
"""A record's in a group of pairs: None once its work is done, else the exception it ended in."""

_UNSENT = RuntimeError("not sent")

W = TypeVar("W")


def _live(outcomes: Sequence[Outcome]) -> list[int]:
    """The places of the records still going (no step has failed them)."""
    return [i for i, outcome in enumerate(outcomes) if outcome is None]


async def _send(
    batcher: Batcher[W, Any], sent: list[int], writes: list[W], outcomes: list[Outcome], where: Sequence[int]
) -> dict[int, bool]:
    """Send ``writes`` (made for the places ``sent``) as one group; returns, for each place of
    ``where``, whether its write went through. A failed one leaves its exception in ``outcomes``."""
    wrote = dict.fromkeys(where, False)
    results = await batcher.submit_many(writes) if writes else []
    for at, result in zip(sent, results, strict=True):
        if isinstance(result, BaseException):
            outcomes[at] = result
        else:
            wrote[at] = True
    return wrote


def _raise(outcomes: Sequence[Outcome]) -> None:
    """A group of one, as the single-record path has it: its exception raised."""
    if outcomes[0] is not None:
        raise outcomes[0]


class ContactPair:
    """What every contact actor shares, and the work every path ends in (no per-record state)."""

    def __init__(
        self,
        io: ContactIO,
        settings: ContactsSettings,
        mappings: Mapping[str, Sequence[FieldMapping]],
        owners: OwnerDirectory,
        summary: Summary,
        *,
        echo_suppression: bool = True,
    ) -> None:
        self.io = io
        self.settings = settings
        self.mappings = mappings
        self.owners = owners
        self.reconcile_settings = ReconcileSettings.of(owners.active_salesforce_emails())
        self.values = ContactValues(mappings, owners, io.external_id_field, echo_suppression)
        self.summary = summary
        self.locks = KeyedLocks()
        self.commits = PairCommits()
        self._claims: dict[tuple[str, str], str] = {}
        """(side, record id) -> the link key a commit in flight puts it under (see ``_commit``)."""
        self._log = logger.bind(actor="contact")

    async def _link_by_hs(self, hs_id: str, *, none_since: int | None = None) -> Link | None:
        """The pair of a HubSpot contact: from the cache of recent commits, else the state file.
        ``none_since``: the lookup is a re-read (under a lock) of one that found no link, and this
        is the cache's ``forgotten`` count from before it. Every link committed since went into
        the cache, so if the cache has none for the id and has forgotten nothing meanwhile, there
        is still none, and the state file is not asked again."""
        links = self.io.store.links
        cached = links.by_hubspot("contacts", hs_id)
        if cached is not None or none_since == links.forgotten:
            return cached
        if links.absent("contacts", "hubspot", hs_id):
            return None  # looked up with its change's page (actors/prefetch.py)
        return await self.io.links_by_hs.submit(hs_id)

    async def _link_by_sf(self, sf_id: str, *, none_since: int | None = None) -> Link | None:
        """The pair of a Salesforce record (see ``_link_by_hs``)."""
        links = self.io.store.links
        cached = links.by_salesforce("contacts", sf_id)
        if cached is not None or none_since == links.forgotten:
            return cached
        if links.absent("contacts", "salesforce", sf_id):
            return None
        return await self.io.links_by_sf.submit(sf_id)

    def _sf_agrees(self, link: Link, sf_type: str, sf: SfRecord) -> bool:
        return self.values.salesforce_agrees(link, sf_type, sf)

    # Each step below works on a group of pairs: one record's change is a group of one, and a
    # page of new records found together (``contact_group``) is one group, whose I/O is then one
    # wait per batch instead of one per record. A record whose step fails drops out of the later
    # steps with its exception as its outcome; the others go on.

    async def _create_in_salesforce(self, link: Link, hs: HubSpotRecord) -> None:
        _raise(await self._create_many_in_salesforce([(link, hs)]))

    async def _create_many_in_salesforce(self, items: Sequence[tuple[Link, HubSpotRecord]]) -> list[Outcome]:
        sobject = self.settings.create_in_salesforce_as
        decisions, upserts = [], []
        for link, hs in items:
            decision = reconcile(LinkState(), hs, None, self.mappings[sobject], self.reconcile_settings)
            writes = self.owners.salesforce_ids(dict(decision.salesforce_writes), self.values.owner_fields)
            writes[self.io.external_id_field] = link.hubspot_id
            decisions.append(decision)
            upserts.append(writes)
        results = await self.io.sf_upsert[sobject].submit_many(upserts)
        outcomes: list[Outcome] = [None] * len(items)
        links = [link for link, _ in items]
        hs_writes: list[dict[str, str]] = []
        for i, ((link, hs), writes, result) in enumerate(zip(items, upserts, results, strict=True)):
            hs_writes.append({})
            if isinstance(result, BaseException):
                outcomes[i] = result
                continue
            assert result.id is not None
            self.summary.created.salesforce += 1
            links[i] = msgspec.structs.replace(link, salesforce_type=sobject, salesforce_id=result.id)
            hs_writes[i][ID_PROPERTY[sobject]] = result.id
            if result.created:
                # The owner Salesforce just gave it, in the bases and HubSpot now: its echo then agrees.
                owner_writes, owner_bases = self.values.default_owner(sobject, writes, hs.values)
                hs_writes[i].update(self.owners.hubspot_ids(owner_writes, self.values.owner_fields))
                decisions[i] = msgspec.structs.replace(
                    decisions[i], bases={**decisions[i].bases, **owner_bases}
                )
        live = _live(outcomes)
        await self._write_many_hubspot(
            [(links[i], hs_writes[i], items[i][1]) for i in live], outcomes, live, count=False
        )
        live = _live(outcomes)
        await self._commit_many(
            [(links[i], decisions[i], items[i][1].modified_ms, 0, True) for i in live], outcomes, live
        )
        return outcomes

    async def _create_in_hubspot(self, link: Link, sf_type: str, sf: SfRecord) -> None:
        _raise(await self._create_many_in_hubspot([(link, sf_type, sf)]))

    async def _create_many_in_hubspot(self, items: Sequence[tuple[Link, str, SfRecord]]) -> list[Outcome]:
        """New HubSpot contacts from the records, each under its ``link``'s key (a new link, or the
        pair whose contact was deleted: it starts afresh, as a new link, with no bases)."""
        outcomes: list[Outcome] = [None] * len(items)
        records = [self.values.salesforce_record(sf_type, sf) for _, sf_type, sf in items]
        decisions = []
        by_property: dict[str, list[int]] = {}
        upserts: list[tuple[str, dict[str, str]]] = []
        for i, ((_, sf_type, sf), sf_rec) in enumerate(zip(items, records, strict=True)):
            decision = reconcile(LinkState(), None, sf_rec, self.mappings[sf_type], self.reconcile_settings)
            writes = self.owners.hubspot_ids(dict(decision.hubspot_writes), self.values.owner_fields)
            writes[ID_PROPERTY[sf_type]] = str(sf["Id"])
            decisions.append(decision)
            upserts.append((str(sf["Id"]), writes))
            by_property.setdefault(ID_PROPERTY[sf_type], []).append(i)
        created: list[HubSpotObject | BaseException] = [_UNSENT] * len(items)
        for prop, indexes in by_property.items():
            results = await self.io.hs_upsert[prop].submit_many([upserts[i] for i in indexes])
            for i, result in zip(indexes, results, strict=True):
                created[i] = result
        links = [link for link, _, _ in items]
        for i, result in enumerate(created):
            if isinstance(result, BaseException):
                outcomes[i] = result
                continue
            self.summary.created.hubspot += 1
            links[i] = msgspec.structs.replace(links[i], hubspot_id=result.id, bases={})
        live = _live(outcomes)
        await self._write_many_salesforce([(links[i], {}, items[i][2]) for i in live], outcomes, live)
        live = _live(outcomes)
        commits = []
        for i in live:
            result = created[i]
            assert not isinstance(result, BaseException)
            commits.append(
                (links[i], decisions[i], parse_timestamp_ms(result.updatedAt), records[i].modified_ms, True)
            )
        await self._commit_many(commits, outcomes, live)
        return outcomes

    async def _sync_pair(self, link: Link, hs: HubSpotRecord, sf: SfRecord) -> None:
        _raise(await self._sync_pairs([(link, hs, sf)]))

    async def _sync_pairs(self, items: Sequence[tuple[Link, HubSpotRecord, SfRecord]]) -> list[Outcome]:
        outcomes: list[Outcome] = [None] * len(items)
        records, decisions, sf_writes = [], [], []
        for link, hs, sf in items:
            assert link.salesforce_type is not None
            sf_rec = self.values.salesforce_record(link.salesforce_type, sf)
            state = LinkState(bases=dict(link.bases.items()))
            decision = reconcile(
                state, hs, sf_rec, self.mappings[link.salesforce_type], self.reconcile_settings
            )
            self.summary.note_conflicts(link.hubspot_id or "", link.salesforce_id or "", decision.notes)
            records.append(sf_rec)
            decisions.append(decision)
            sf_writes.append(
                self.owners.salesforce_ids(dict(decision.salesforce_writes), self.values.owner_fields)
            )
        everyone = list(range(len(items)))
        wrote_sf = await self._write_many_salesforce(
            [(link, writes, sf) for (link, _, sf), writes in zip(items, sf_writes, strict=True)],
            outcomes,
            everyone,
        )
        hs_writes = [
            self.owners.hubspot_ids(dict(decision.hubspot_writes), self.values.owner_fields)
            for decision in decisions
        ]
        # R-TRG-5 holds back a formula's change *alone*. One that our own write just made
        # Salesforce recalculate is part of that write: it goes to HubSpot with it (its echo
        # would otherwise be a formula-only change, held for good).
        reread: dict[str, list[int]] = {}
        for i in _live(outcomes):
            sf_type = items[i][0].salesforce_type
            assert sf_type is not None
            if wrote_sf[i] and self.values.has_formulas(sf_type):
                reread.setdefault(sf_type, []).append(i)
        for sf_type, indexes in reread.items():
            afters = await self.io.sf_by_id[sf_type].submit_many(
                [str(items[i][0].salesforce_id) for i in indexes]
            )
            for i, after in zip(indexes, afters, strict=True):
                if isinstance(after, BaseException):
                    outcomes[i] = after
                elif after is not None:
                    formula_writes, formula_bases = self.values.recalculated(
                        sf_type, after, decisions[i].bases
                    )
                    hs_writes[i].update(formula_writes)
                    decisions[i] = msgspec.structs.replace(
                        decisions[i], bases={**decisions[i].bases, **formula_bases}
                    )
        live = _live(outcomes)
        wrote_hs = await self._write_many_hubspot(
            [(items[i][0], hs_writes[i], items[i][1]) for i in live], outcomes, live
        )
        live = _live(outcomes)
        # A pair counts as synced when something moved or it was linked just now; a change that
        # only confirms the bases (an echo that had to be read) does not.
        await self._commit_many(
            [
                (
                    items[i][0],
                    decisions[i],
                    items[i][1].modified_ms,
                    records[i].modified_ms,
                    bool(wrote_sf[i] or wrote_hs[i] or not items[i][0].bases),
                )
                for i in live
            ],
            outcomes,
            live,
        )
        return outcomes

    async def _write_many_salesforce(
        self,
        items: Sequence[tuple[Link, dict[str, Any], SfRecord]],
        outcomes: list[Outcome],
        where: Sequence[int],
    ) -> dict[int, bool]:
        """Write each pair's Salesforce side (``where``: the items' places in ``outcomes``, where a
        failed write leaves its exception); returns, by place, whether anything was written."""
        sent: list[int] = []
        updates: list[tuple[str, SfWrite]] = []
        for at, (link, writes, sf) in zip(where, items, strict=True):
            assert link.salesforce_type is not None and link.salesforce_id is not None
            if link.hubspot_id and sf.get(self.io.external_id_field) != link.hubspot_id:
                writes[self.io.external_id_field] = link.hubspot_id  # both sides carry the other's id
            if writes:
                sent.append(at)
                updates.append((link.salesforce_type, {"Id": link.salesforce_id, **writes}))
        wrote = await _send(self.io.sf_update, sent, updates, outcomes, where)
        self.summary.updated.salesforce += sum(wrote.values())
        return wrote

    async def _write_many_hubspot(
        self,
        items: Sequence[tuple[Link, dict[str, str], HubSpotRecord]],
        outcomes: list[Outcome],
        where: Sequence[int],
        count: bool = True,
    ) -> dict[int, bool]:
        """Write each pair's HubSpot side (see ``_write_many_salesforce``)."""
        sent: list[int] = []
        updates: list[HsWrite] = []
        for at, (link, writes, hs) in zip(where, items, strict=True):
            assert link.hubspot_id is not None and link.salesforce_type is not None
            prop = ID_PROPERTY[link.salesforce_type]
            if link.salesforce_id and hs.values.get(prop) != link.salesforce_id:
                writes[prop] = link.salesforce_id
            for name in [k for k, v in writes.items() if v == "" and not hs.values.get(k)]:
                del writes[name]  # clearing what is blank already is no write
            if writes:
                sent.append(at)
                updates.append((link.hubspot_id, writes))
        wrote = await _send(self.io.hs_update, sent, updates, outcomes, where)
        if count:
            self.summary.updated.hubspot += sum(wrote.values())
        return wrote

    async def _commit(
        self, link: Link, decision: Decision, hs_ms: int, sf_ms: int, *, moved: bool = True
    ) -> None:
        outcomes: list[Outcome] = [None]
        await self._commit_many([(link, decision, hs_ms, sf_ms, moved)], outcomes, [0])
        _raise(outcomes)

    async def _commit_many(
        self,
        items: Sequence[tuple[Link, Decision, int, int, bool]],
        outcomes: list[Outcome],
        where: Sequence[int],
    ) -> None:
        """Commit each pair's new bases (link, decision, HubSpot and Salesforce versions, whether
        anything moved), all in one transaction; a pair refused by ``_claim`` gets its Transient."""
        now_ms = int(time.time() * 1000)
        ops: list[StoreOp] = []
        done: list[tuple[int, Link, Decision, bool, list[tuple[str, str]]]] = []
        for at, (link, decision, hs_ms, sf_ms, moved) in zip(where, items, strict=True):
            committed = msgspec.structs.replace(
                link, bases=decision.bases, hubspot_modified_ms=hs_ms, salesforce_modified_ms=sf_ms
            )
            ids = self._ids(committed)
            if moved and failpoints.ARMED:
                failpoints.hit("after_write_before_commit")
            try:
                self._claim(committed.key, ids)
            except Transient as exc:
                outcomes[at] = exc
                continue
            ops.append(PutLink(committed, now_ms=now_ms))
            ops += [ClearError("contacts", system, rid) for system, rid in ids]
            done.append((at, committed, decision, moved, ids))
        try:
            if ops:
                await self.io.store.commit(ops)
        finally:
            for _, committed, _, _, ids in done:
                for claimed in ids:
                    if self._claims.get(claimed) == committed.key:
                        del self._claims[claimed]
        for _, committed, decision, moved, ids in done:
            self.commits.committed(committed.key)
            if moved:
                self.summary.synced += 1
            if decision.errors:
                # Fields that could not be converted stay as they are; the rest of the record synced.
                problems = "; ".join(f"{n.hubspot} ↔ {n.salesforce}: {n.reason}" for n in decision.errors)
                system, record_id = ids[0]
                await self._fail(
                    system, record_id, RecordError("invalid_value", problems, FIXES["invalid_value"])
                )

    def _claim(self, key: str, ids: Sequence[tuple[str, str]]) -> None:
        """Refuse a link whose record ids another link holds (committed, or being committed).

        Email locks keep the two sides of a new pair apart, but not when the pair's two records
        carry different emails by the time each side reads its own (an edit in between), nor when
        one side re-creates its deleted partner under the pair's lock. Then two actors can build
        the same pair under two keys. The state file's unique ids would refuse the second inside
        a group commit and fail every caller in it; caught here, it is this one change's setback,
        and it comes back through its stream to find the pair linked. The cache holds every link
        committed since the actor looked (a lookup before found none, or the id is new to us)."""
        links = self.io.store.links
        for side, record_id in ids:
            held = (
                links.by_hubspot("contacts", record_id)
                if side == "hubspot"
                else links.by_salesforce("contacts", record_id)
            )
            claimed = self._claims.get((side, record_id))
            if (held is not None and held.key != key) or (claimed is not None and claimed != key):
                raise Transient("crmsync", f"{side} {record_id} was linked meanwhile; read again")
        for claimed_id in ids:
            self._claims[claimed_id] = key

    async def _fail(self, system: str, record_id: str, exc: RecordError) -> None:
        self._log.bind(record=f"{system}:{record_id}").warning(
            "sync error on {} {}: {}", system, record_id, exc.message
        )
        error = SyncError(
            object="contacts",
            system=system,
            record_id=record_id,
            error_type=exc.error_type,
            message=exc.message,
            fix=exc.fix,
            seen_ms=int(time.time() * 1000),
        )
        await self.io.store.commit([PutError(error)])
        self.summary.errors += 1

    @staticmethod
    def _ids(link: Link) -> list[tuple[str, str]]:
        out = []
        if link.hubspot_id:
            out.append(("hubspot", link.hubspot_id))
        if link.salesforce_id:
            out.append(("salesforce", link.salesforce_id))
        return out
