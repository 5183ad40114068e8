"""The contact record actor: HubSpot contacts ↔ Salesforce Contacts and Leads (SPEC §2-5).

One change at a time: find the pair (link, else the email match of SPEC §2), read the other side
through the batched I/O, reconcile, write, and commit the new bases. A record that cannot sync
becomes a sync error with how to fix it; anything else is a bug and stops the engine.

Creates are upserts on the other system's id (``HubSpot_Id__c`` in Salesforce,
``salesforcecontactid`` / ``salesforceleadid`` in HubSpot), so a create repeated after a crash or a
lost reply finds the record it already made instead of making a second one.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from loguru import logger

from actors.contact_fresh import PairCommits
from actors.contact_io import ContactIO, SfRecord
from actors.contact_values import ID_PROPERTY, ContactValues
from actors.locks import KeyedLocks
from actors.owners import OwnerDirectory
from actors.stream import Change
from engine import failpoints
from engine.canonical import parse_timestamp_ms
from engine.errors import RecordError
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
from engine.store_types import ClearError, DeleteLink, Link, PutError, PutLink, StoreOp, SyncError
from engine.summary import Summary

GONE = -1
"""``Link.hubspot_modified_ms`` of a pair whose HubSpot contact was found deleted; its
``salesforce_modified_ms`` is then the record's version seen then (see ``_contact_gone``)."""


def _email(value: object) -> str:
    return str(value or "").strip().lower()


class ContactActor:
    """Handles contact changes routed to it; shared by all contact actors (it holds no per-record state)."""

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
        self._log = logger.bind(actor="contact")

    async def handle(self, key: str, change: Change) -> None:
        if self._agrees_with_last_commit(change):
            return
        with logger.contextualize(record=f"{change.system}:{change.record_id}"):
            try:
                if change.system == "hubspot":
                    await self._from_hubspot(change)
                elif change.deleted:
                    await self._deleted_in_salesforce(change)
                else:
                    await self._from_salesforce(change)
            except RecordError as exc:
                await self._fail(change.system, change.record_id, exc)

    def _agrees_with_last_commit(self, change: Change) -> bool:
        """Most changes a running sync reads are its own writes coming back. One that agrees with
        its pair's link as this process last committed it, while no actor holds the pair, is what
        the full path below would find after its lookups and its lock — an echo, or an edit back
        to the agreed value: nothing to move. Decided here without a lookup or a task switch."""
        if change.deleted:
            return False
        links = self.io.store.links
        if change.system == "hubspot":
            link = links.by_hubspot("contacts", change.record_id)
            if link is None or link.salesforce_id is None or link.salesforce_type is None:
                return False
            if link.key in self.locks:
                return False
            hs = self.values.hubspot_record(change.values, change.modified_ms)
            return self.values.agrees_with_bases(link, hs.values, "hubspot")
        link = links.by_salesforce("contacts", change.record_id)
        if link is None or link.hubspot_id is None or change.values.get("IsConverted"):
            return False
        return link.key not in self.locks and self._sf_agrees(link, change.object, change.values)

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
        return await self.io.links_by_hs.submit(hs_id)

    async def _link_by_sf(self, sf_id: str, *, none_since: int | None = None) -> Link | None:
        """The pair of a Salesforce record (see ``_link_by_hs``)."""
        links = self.io.store.links
        cached = links.by_salesforce("contacts", sf_id)
        if cached is not None or none_since == links.forgotten:
            return cached
        return await self.io.links_by_sf.submit(sf_id)

    # -- HubSpot → pair ------------------------------------------------------------------------

    async def _from_hubspot(self, change: Change) -> None:
        hs_id = change.record_id
        forgotten = self.io.store.links.forgotten
        link = await self._link_by_hs(hs_id)
        if link is None or link.salesforce_id is None:
            email = _email(change.values.get("email"))
            if not email:
                self.summary.ineligible += 1  # R-ELIG-1: no email, no sync to Salesforce
                return
            async with self.locks.hold(f"email:{email}"):
                link = await self._link_by_hs(hs_id, none_since=forgotten if link is None else None)
                if link is None or link.salesforce_id is None:
                    if link is not None and change.modified_ms <= link.hubspot_modified_ms:
                        return  # its Salesforce record was deleted, and it has not changed since
                    await self._link_new_hubspot(change, email, None if link is None else link.key)
                    return
        async with self.locks.hold(link.key):
            link = await self._link_by_hs(hs_id)
            if link is None or link.salesforce_id is None or link.salesforce_type is None:
                return
            hs = self.values.hubspot_record(change.values, change.modified_ms)
            if self.values.agrees_with_bases(link, hs.values, "hubspot"):
                return  # our own write coming back, or an unmapped field: nothing to move (no echo)
            if self.commits.may_be_stale(link.key, change.read_at):
                hs_obj = await self.io.hs_by_id.submit(hs_id)
                if hs_obj is None:
                    return  # archived since: a HubSpot delete never deletes in Salesforce (R-CON-4)
                hs = self.values.hubspot_record(hs_obj.properties, parse_timestamp_ms(hs_obj.updatedAt))
                if self.values.agrees_with_bases(link, hs.values, "hubspot"):
                    return  # the snapshot predated our own write, which is all that changed
            sf = await self.io.sf_by_id[link.salesforce_type].submit(link.salesforce_id)
            if sf is not None:
                await self._sync_pair(link, hs, sf)
                return
            # Deleted in Salesforce before its delete-log entry reached us: the same outcome as
            # that entry will have (R-CON-3), not an error on the HubSpot contact.
            orphaned = await self._unlink_deleted(link)
        if orphaned:
            await self._from_hubspot(change)  # an orphan now: this edit may make a new record

    async def _link_new_hubspot(self, change: Change, email: str, key: str | None) -> None:
        """No link yet: the Salesforce id the contact already carries, else the email match.
        ``key``: the contact's orphan link (its record deleted), which the new link replaces."""
        sf_type, sf = await self._known_salesforce(change.values)
        if sf is None:
            sf_type, sf = await self._match_by_email(email)
        hs = self.values.hubspot_record(change.values, change.modified_ms)
        link = Link(key=key or uuid.uuid4().hex, object="contacts", hubspot_id=change.record_id)
        if sf is None:
            await self._create_in_salesforce(link, hs)
        else:
            await self._release_from_deleted_contact(sf_type, str(sf["Id"]), change.record_id)
            link = msgspec.structs.replace(link, salesforce_type=sf_type, salesforce_id=str(sf["Id"]))
            await self._sync_pair(link, hs, sf)

    async def _release_from_deleted_contact(self, sf_type: str, sf_id: str, hs_id: str) -> None:
        """The matched Salesforce record may still be linked to a HubSpot contact that was deleted
        (R-CON-4 leaves that link in place): a new contact with the email takes it over (SPEC §2's
        first match). One still live keeps it, and this contact gets a duplicate error instead."""
        previous = await self._link_by_sf(sf_id)
        if previous is None or previous.hubspot_id in (None, hs_id):
            return
        async with self.locks.hold(previous.key):
            assert previous.hubspot_id is not None
            if await self.io.hs_by_id.submit(previous.hubspot_id) is not None:
                raise RecordError(
                    "duplicate",
                    f"Salesforce {sf_type} {sf_id} has this email but is linked to HubSpot contact "
                    f"{previous.hubspot_id}",
                    FIXES["duplicate"],
                )
            await self.io.store.commit([DeleteLink(previous.key)])

    async def _known_salesforce(self, values: Mapping[str, Any]) -> tuple[str, SfRecord | None]:
        for sobject, prop in ID_PROPERTY.items():
            sf_id = values.get(prop)
            if sf_id and sobject in self.io.sf_by_id:
                sf = await self.io.sf_by_id[sobject].submit(str(sf_id))
                if sf is not None and not sf.get("IsConverted"):
                    return sobject, sf
        return "", None

    async def _match_by_email(self, email: str) -> tuple[str, SfRecord | None]:
        """SPEC §2 / R-ID-1/2: Contacts before Leads; among several, the oldest."""
        for sobject in ("Contact", "Lead"):
            if sobject in self.io.sf_by_email:
                found = await self.io.sf_by_email[sobject].submit(email)
                if found:
                    return sobject, found[0]
        return "", None

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
        await self._write_hubspot(link, hs_writes, hs, count=False)
        await self._commit(link, decision, hs.modified_ms, 0)

    # -- Salesforce → pair ---------------------------------------------------------------------

    async def _from_salesforce(self, change: Change) -> None:
        sf_type, sf_id = change.object, change.record_id
        forgotten = self.io.store.links.forgotten
        link = await self._link_by_sf(sf_id)
        if link is None:
            if self.settings.salesforce_to_hubspot == "do_nothing" or change.values.get("IsConverted"):
                return  # a converted Lead is followed through its Contact
            email = _email(change.values.get("Email"))
            async with self.locks.hold(f"email:{email}" if email else f"salesforce:{sf_id}"):
                link = await self._link_by_sf(sf_id, none_since=forgotten)
                if link is None:
                    await self._link_new_salesforce(sf_type, change.values, email)
                    return
        if change.values.get("IsConverted"):
            await self._lead_converted(link, change)
            return
        async with self.locks.hold(link.key):
            link = await self._link_by_sf(sf_id)
            if link is None or link.hubspot_id is None:
                return
            sf = change.values
            if self._sf_agrees(link, sf_type, sf):
                return  # our own write coming back, or an unmapped field: nothing to move (no echo)
            if self.commits.may_be_stale(link.key, change.read_at):
                fresh = await self.io.sf_by_id[sf_type].submit(sf_id)
                if fresh is None or self._sf_agrees(link, sf_type, fresh):
                    return  # deleted since (its delete-log entry unlinks), or only our write changed
                sf = fresh
            hs_obj = await self.io.hs_by_id.submit(link.hubspot_id)
            if hs_obj is None:
                # Archived in HubSpot: a HubSpot delete never deletes in Salesforce (R-CON-4).
                await self._contact_gone(link, sf_type, sf)
                return
            hs = self.values.hubspot_record(hs_obj.properties, parse_timestamp_ms(hs_obj.updatedAt))
            await self._sync_pair(link, hs, sf)

    async def _contact_gone(self, link: Link, sf_type: str, sf: SfRecord) -> None:
        """A Salesforce change whose HubSpot contact was deleted. An edit made since the pair last
        agreed re-creates the contact from the record under ``salesforce_to_hubspot =
        create_or_update`` (what HubSpot does with a Salesforce record it has no contact for), or
        is a sync error saying why it does not sync under ``do_nothing`` (SPEC §11.1: never silent).
        A redelivery (look-back, restart) is no edit: the first time the gone contact is seen, the
        record's version then is kept (``salesforce_modified_ms``, marked by ``GONE`` in
        ``hubspot_modified_ms``) and only a newer one counts — the mirror of the orphan's version
        (8d445b3), for the same reason: fields without a base cannot tell an edit by value.
        Called with the pair's lock held."""
        sf_rec = self.values.salesforce_record(sf_type, sf)
        if link.hubspot_modified_ms == GONE:
            edited = sf_rec.modified_ms > link.salesforce_modified_ms
        else:
            edited = not self.values.orphan_unchanged(link, sf, side="salesforce")
        if edited and self.settings.salesforce_to_hubspot == "create_or_update":
            await self._create_in_hubspot(link, sf_type, sf)
            return
        seen = max(sf_rec.modified_ms, link.salesforce_modified_ms)
        marked = msgspec.structs.replace(link, hubspot_modified_ms=GONE, salesforce_modified_ms=seen)
        await self.io.store.commit([PutLink(marked, now_ms=int(time.time() * 1000))])
        if edited:
            raise RecordError(
                "deleted",
                f"HubSpot contact {link.hubspot_id} was deleted; this {sf_type}'s change is not "
                "synced, as salesforce_to_hubspot is do_nothing",
                "Restore the HubSpot contact, or set contacts.salesforce_to_hubspot = "
                "create_or_update to have crmsync re-create it on the record's next change.",
            )

    def _sf_agrees(self, link: Link, sf_type: str, sf: SfRecord) -> bool:
        return self.values.agrees_with_bases(
            link, self.values.salesforce_record(sf_type, sf).values, "salesforce"
        )

    async def _lead_converted(self, link: Link, change: Change) -> None:
        """SPEC §5: a converted Lead is followed through its new Contact. The link moves to the
        Contact and keeps its bases (they are keyed by HubSpot property, common to both)."""
        contact_id = change.values.get("ConvertedContactId")
        if not contact_id or "Contact" not in self.io.sf_by_id:
            return
        async with self.locks.hold(link.key):
            current = await self._link_by_sf(change.record_id)
            if current is None or current.hubspot_id is None:
                return
            contact = await self.io.sf_by_id["Contact"].submit(str(contact_id))
            hs_obj = await self.io.hs_by_id.submit(current.hubspot_id)
            if contact is None or hs_obj is None:
                return
            moved = msgspec.structs.replace(
                current, salesforce_type="Contact", salesforce_id=str(contact["Id"])
            )
            hs = self.values.hubspot_record(hs_obj.properties, parse_timestamp_ms(hs_obj.updatedAt))
            await self._sync_pair(moved, hs, contact)

    async def _deleted_in_salesforce(self, change: Change) -> None:
        """R-CON-3: delete the HubSpot contact, or do nothing — either way the pair is unlinked, so
        a later HubSpot edit finds (or makes) a live Salesforce record instead of a dead one."""
        link = await self._link_by_sf(change.record_id)
        if link is None:
            return
        async with self.locks.hold(link.key):
            link = await self._link_by_sf(change.record_id)
            if link is not None:
                await self._unlink_deleted(link)

    async def _unlink_deleted(self, link: Link) -> bool:
        """The pair's Salesforce record is gone: archive the HubSpot contact if so configured,
        and unlink either way. Called with the pair's lock held. True when the contact stays, as
        an orphan."""
        ops: list[StoreOp] = [DeleteLink(link.key)]
        orphaned = False
        if self.settings.on_salesforce_delete == "delete" and link.hubspot_id:
            await self.io.hs_archive.submit(link.hubspot_id)
            self.summary.deleted.hubspot += 1
            if failpoints.ARMED:
                failpoints.hit("after_write_before_commit")
        elif link.hubspot_id and (hs_obj := await self.io.hs_by_id.submit(link.hubspot_id)) is not None:
            # The contact stays, as an orphan holding its newest version by HubSpot's own clock: a
            # redelivery of it (look-back, restart) is then told from a real edit, and only an edit
            # makes a new Salesforce record (SPEC §4: records sync when they change). Its values
            # cannot tell: a field the pair never agreed on has no base (chaos seed 1019).
            seen = parse_timestamp_ms(hs_obj.properties.get("lastmodifieddate") or hs_obj.updatedAt)
            if not self.values.orphan_unchanged(
                link, self.values.hubspot_record(hs_obj.properties, seen).values
            ):
                # Edited since the pair last agreed, after the delete or before it reached us:
                # that edit has yet to sync, so it must count as newer than what the orphan saw.
                seen = link.hubspot_modified_ms
            orphan = msgspec.structs.replace(link, salesforce_id=None, hubspot_modified_ms=seen)
            ops = [PutLink(orphan, now_ms=int(time.time() * 1000))]
            orphaned = True
        ops += [ClearError("contacts", system, rid) for system, rid in self._ids(link)]
        await self.io.store.commit(ops)
        return orphaned

    async def _link_new_salesforce(self, sf_type: str, sf: SfRecord, email: str) -> None:
        hs_obj = await self.io.hs_by_email.submit(email) if email else None
        link = Link(
            key=uuid.uuid4().hex, object="contacts", salesforce_type=sf_type, salesforce_id=str(sf["Id"])
        )
        if hs_obj is not None:
            existing = await self._link_by_hs(hs_obj.id)
            if existing is not None and existing.salesforce_id is not None:
                # R-ID-3: another Salesforce record with this email feeds the contact.
                await self._take_over(existing.key, sf_type, sf, hs_obj.id)
                return
            # An orphan (its record deleted) is replaced by the new link.
            key = link.key if existing is None else existing.key
            link = msgspec.structs.replace(link, key=key, hubspot_id=hs_obj.id)
            hs = self.values.hubspot_record(hs_obj.properties, parse_timestamp_ms(hs_obj.updatedAt))
            await self._sync_pair(link, hs, sf)
            return
        await self._create_in_hubspot(link, sf_type, sf)

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

    async def _take_over(self, key: str, sf_type: str, sf: SfRecord, hs_id: str) -> None:
        """R-ID-3: after the first sync, "HubSpot will sync with whichever record was most recently
        updated" among the Salesforce records sharing the contact's email. So a record of that email
        not in the pair, changed later than the pair's own record (by Salesforce's clock), becomes
        the pair's Salesforce side: the link moves to it, as a Lead conversion moves it to the
        Contact, and both sides carry the other's id. It starts as a new link (no bases: SPEC §3's
        first-sync rules), as the two records share no history — a blank field of it is filled
        from HubSpot rather than clearing HubSpot. HubSpot warns that such twins overwrite the
        contact back and forth; each real edit of either does move the link, but our own writes
        never do: the record the link leaves is written first (its ``HubSpot_Id__c`` released, the
        field being unique) and the one it reaches after, so the older one never looks newer, and a
        redelivered old version is older than the linked record's. Called with the email's lock."""
        async with self.locks.hold(key):
            link = await self._link_by_hs(hs_id)
            if link is None or link.key != key or link.salesforce_id is None or link.salesforce_type is None:
                return  # changed meanwhile: this record is a twin of a pair that has moved on
            linked = await self.io.sf_by_id[link.salesforce_type].submit(link.salesforce_id)
            ext = self.io.external_id_field
            if linked is not None and linked.get("IsConverted"):
                if linked.get("ConvertedContactId") != sf["Id"]:
                    return  # its Contact carries the pair (SPEC §5), through _lead_converted
                # This is that Contact, seen before the Lead's conversion: the same move.
                moved = msgspec.structs.replace(link, salesforce_type=sf_type, salesforce_id=str(sf["Id"]))
            else:
                if linked is not None and linked.get(ext) == link.hubspot_id:
                    mine = self.values.salesforce_record(sf_type, sf).modified_ms
                    theirs = self.values.salesforce_record(link.salesforce_type, linked).modified_ms
                    if mine <= theirs:
                        # The pair's record is the most recently updated: it stays. So does a tie
                        # (LastModifiedDate is to the second): our own writes land on both twins
                        # within one move, and a tie must not move the link back.
                        return
                    # Released first: a crash before the move leaves the pair's record without
                    # our id, and the redelivered twin then moves the link whatever the clocks say.
                    await self.io.sf_update.submit(
                        (link.salesforce_type, {"Id": link.salesforce_id, ext: None})
                    )
                    self.summary.updated.salesforce += 1
                self._log.info(
                    "R-ID-3: {} {} is the most recently updated record with this email; HubSpot "
                    "contact {} now syncs with it instead of {} {}",
                    sf_type,
                    sf["Id"],
                    hs_id,
                    link.salesforce_type,
                    link.salesforce_id,
                )
                moved = msgspec.structs.replace(
                    link, salesforce_type=sf_type, salesforce_id=str(sf["Id"]), bases={}
                )
            hs_obj = await self.io.hs_by_id.submit(hs_id)
            if hs_obj is None:
                return
            hs = self.values.hubspot_record(hs_obj.properties, parse_timestamp_ms(hs_obj.updatedAt))
            await self._sync_pair(moved, hs, sf)

    # -- the pair ------------------------------------------------------------------------------

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
        ops: list[StoreOp] = [PutLink(done, now_ms=int(time.time() * 1000))]
        ops += [ClearError("contacts", system, rid) for system, rid in self._ids(done)]
        if moved and failpoints.ARMED:
            failpoints.hit("after_write_before_commit")
        await self.io.store.commit(ops)
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

    async def _fail(self, system: str, record_id: str, exc: RecordError) -> None:
        self._log.warning("sync error on {} {}: {}", system, record_id, exc.message)
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
