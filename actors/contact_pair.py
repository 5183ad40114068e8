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
from typing import Any

import msgspec
from loguru import logger

from actors.contact_fresh import PairCommits
from actors.contact_io import ContactIO, SfRecord
from actors.contact_values import ID_PROPERTY, ContactValues
from actors.locks import KeyedLocks
from actors.owners import OwnerDirectory
from engine import failpoints
from engine.canonical import parse_timestamp_ms
from engine.errors import RecordError, Transient
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

    async def _create_in_salesforce(self, link: Link, hs: HubSpotRecord) -> None:
        sobject = self.settings.create_in_salesforce_as
        decision = reconcile(LinkState(), hs, None, self.mappings[sobject], self.reconcile_settings)
        writes = self.owners.salesforce_ids(dict(decision.salesforce_writes), self.values.owner_fields)
        writes[self.io.external_id_field] = link.hubspot_id
        result = await self.io.sf_upsert[sobject].submit(writes)
        assert result.id is not None
        self.summary.created.salesforce += 1
        link = msgspec.structs.replace(link, salesforce_type=sobject, salesforce_id=result.id)
        hs_writes = {ID_PROPERTY[sobject]: result.id}
        if result.created:
            # The owner Salesforce just gave it, in the bases and HubSpot now: its echo then agrees.
            owner_writes, owner_bases = self.values.default_owner(sobject, writes, hs.values)
            hs_writes.update(self.owners.hubspot_ids(owner_writes, self.values.owner_fields))
            decision = msgspec.structs.replace(decision, bases={**decision.bases, **owner_bases})
        await self._write_hubspot(link, hs_writes, hs, count=False)
        await self._commit(link, decision, hs.modified_ms, 0)

    async def _create_in_hubspot(self, link: Link, sf_type: str, sf: SfRecord) -> None:
        """A new HubSpot contact from the record, under ``link``'s key (a new link, or the pair
        whose contact was deleted: it starts afresh, as a new link, with no bases)."""
        sf_rec = self.values.salesforce_record(sf_type, sf)
        decision = reconcile(LinkState(), None, sf_rec, self.mappings[sf_type], self.reconcile_settings)
        writes = self.owners.hubspot_ids(dict(decision.hubspot_writes), self.values.owner_fields)
        writes[ID_PROPERTY[sf_type]] = str(sf["Id"])
        created = await self.io.hs_upsert[ID_PROPERTY[sf_type]].submit((str(sf["Id"]), writes))
        self.summary.created.hubspot += 1
        link = msgspec.structs.replace(link, hubspot_id=created.id, bases={})
        await self._write_salesforce(link, {}, sf)
        await self._commit(link, decision, parse_timestamp_ms(created.updatedAt), sf_rec.modified_ms)

    async def _sync_pair(self, link: Link, hs: HubSpotRecord, sf: SfRecord) -> None:
        assert link.salesforce_type is not None
        sf_rec = self.values.salesforce_record(link.salesforce_type, sf)
        state = LinkState(bases=dict(link.bases.items()))
        decision = reconcile(state, hs, sf_rec, self.mappings[link.salesforce_type], self.reconcile_settings)
        self.summary.note_conflicts(link.hubspot_id or "", link.salesforce_id or "", decision.notes)
        wrote_sf = await self._write_salesforce(
            link, self.owners.salesforce_ids(dict(decision.salesforce_writes), self.values.owner_fields), sf
        )
        hs_writes = self.owners.hubspot_ids(dict(decision.hubspot_writes), self.values.owner_fields)
        if wrote_sf and self.values.has_formulas(link.salesforce_type):
            # R-TRG-5 holds back a formula's change *alone*. One that our own write just made
            # Salesforce recalculate is part of that write: it goes to HubSpot with it (its echo
            # would otherwise be a formula-only change, held for good).
            after = await self.io.sf_by_id[link.salesforce_type].submit(str(link.salesforce_id))
            if after is not None:
                formula_writes, formula_bases = self.values.recalculated(
                    link.salesforce_type, after, decision.bases
                )
                hs_writes.update(formula_writes)
                decision = msgspec.structs.replace(decision, bases={**decision.bases, **formula_bases})
        wrote_hs = await self._write_hubspot(link, hs_writes, hs)
        # A pair counts as synced when something moved or it was linked just now; a change that
        # only confirms the bases (an echo that had to be read) does not.
        moved = wrote_sf or wrote_hs or not link.bases
        await self._commit(link, decision, hs.modified_ms, sf_rec.modified_ms, moved=moved)

    async def _write_salesforce(self, link: Link, writes: dict[str, Any], sf: SfRecord) -> bool:
        assert link.salesforce_type is not None and link.salesforce_id is not None
        if link.hubspot_id and sf.get(self.io.external_id_field) != link.hubspot_id:
            writes[self.io.external_id_field] = link.hubspot_id  # both sides carry the other's id
        if not writes:
            return False
        await self.io.sf_update.submit((link.salesforce_type, {"Id": link.salesforce_id, **writes}))
        self.summary.updated.salesforce += 1
        return True

    async def _write_hubspot(
        self, link: Link, writes: dict[str, str], hs: HubSpotRecord, count: bool = True
    ) -> bool:
        assert link.hubspot_id is not None and link.salesforce_type is not None
        prop = ID_PROPERTY[link.salesforce_type]
        if link.salesforce_id and hs.values.get(prop) != link.salesforce_id:
            writes[prop] = link.salesforce_id
        for name in [k for k, v in writes.items() if v == "" and not hs.values.get(k)]:
            del writes[name]  # clearing what is blank already is no write
        if not writes:
            return False
        await self.io.hs_update.submit((link.hubspot_id, writes))
        if count:
            self.summary.updated.hubspot += 1
        return True

    async def _commit(
        self, link: Link, decision: Decision, hs_ms: int, sf_ms: int, *, moved: bool = True
    ) -> None:
        done = msgspec.structs.replace(
            link, bases=decision.bases, hubspot_modified_ms=hs_ms, salesforce_modified_ms=sf_ms
        )
        ids = self._ids(done)
        ops: list[StoreOp] = [PutLink(done, now_ms=int(time.time() * 1000))]
        ops += [ClearError("contacts", system, rid) for system, rid in ids]
        if moved and failpoints.ARMED:
            failpoints.hit("after_write_before_commit")
        self._claim(done.key, ids)
        try:
            await self.io.store.commit(ops)
        finally:
            for claimed in ids:
                if self._claims.get(claimed) == done.key:
                    del self._claims[claimed]
        self.commits.committed(done.key)
        if moved:
            self.summary.synced += 1
        if decision.errors:
            # Fields that could not be converted stay as they are; the rest of the record synced.
            problems = "; ".join(f"{n.hubspot} ↔ {n.salesforce}: {n.reason}" for n in decision.errors)
            system, record_id = self._ids(done)[0]
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
