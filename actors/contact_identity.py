"""Contact pairs whose pairing changes: deletes, deleted contacts, Lead conversions, R-ID-3 twins.

A Salesforce record deleted (R-CON-3), a HubSpot contact deleted under a live record (R-CON-4), a
converted Lead followed to its Contact (SPEC §5), a matched record still linked to a deleted
contact, and a twin Salesforce record that becomes the pair's (R-ID-3). Each runs under the
pair's lock and leaves the link as the next change needs to find it.
"""

from __future__ import annotations

import time

import msgspec

from actors.contact_io import SfRecord
from actors.contact_pair import ContactPair
from actors.stream import Change
from engine import failpoints
from engine.canonical import parse_timestamp_ms
from engine.errors import RecordError
from engine.record_errors import FIXES
from engine.store_types import ClearError, DeleteLink, Link, PutLink, StoreOp

GONE = -1
"""``Link.hubspot_modified_ms`` of a pair whose HubSpot contact was found deleted; its
``salesforce_modified_ms`` is then the record's version seen then (see ``_contact_gone``)."""


def _untouched_since_created(sf: SfRecord) -> bool:
    created = sf.get("CreatedDate")
    return bool(created) and sf.get("LastModifiedDate") == created


class ContactIdentity(ContactPair):
    """Deletes, deleted contacts, conversions and twins, on top of the pair's work."""

    async def _release_from_deleted_contact(self, sf_type: str, sf_id: str, hs_id: str) -> Link | None:
        """The matched Salesforce record may still be linked to a HubSpot contact that was deleted
        (R-CON-4 leaves that link in place): a new contact with the email takes it over (SPEC §2's
        first match). One still live keeps it, and this contact gets a duplicate error instead.

        Returns the record's link if it pairs this very contact (``hs_id``) already: the record's
        own actor re-creates a deleted contact under the pair's lock, not the email's, so the new
        contact's first change can get here before that pair is committed, and then wait for it
        on the pair's lock. The link is looked up again once the lock is ours."""
        previous = await self._link_by_sf(sf_id)
        if previous is None or previous.hubspot_id is None:
            return None
        if previous.hubspot_id == hs_id:
            return previous
        async with self.locks.hold(previous.key):
            current = await self._link_by_sf(sf_id)
            if current is None or current.hubspot_id is None:
                return None
            if current.hubspot_id == hs_id:
                return current
            if await self.io.hs_by_id.submit(current.hubspot_id) is not None:
                raise RecordError(
                    "duplicate",
                    f"Salesforce {sf_type} {sf_id} has this email but is linked to HubSpot contact "
                    f"{current.hubspot_id}",
                    FIXES["duplicate"],
                )
            await self.io.store.commit([DeleteLink(current.key)])
            return None

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
        elif link.salesforce_modified_ms == 0 and _untouched_since_created(sf):
            # We made this record and never reconciled it since (a run ended first, or its echo
            # agreed at once): an owner it holds beyond our values is Salesforce's own doing, not
            # an edit (a Lead's assignment rule, an API user we could not tell). Any other field
            # off its base is an edit, made within the second of the create.
            edited = not self.values.orphan_unchanged(link, sf, side="salesforce", owners=False)
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
