"""The contact record actor: HubSpot contacts ↔ Salesforce Contacts and Leads (SPEC §2-5).

One change at a time: find the pair (link, else the email match of SPEC §2), read the other side
through the batched I/O, reconcile, write, and commit the new bases. A record that cannot sync
becomes a sync error with how to fix it; anything else is a bug and stops the engine. The pair's
work is in ``contact_pair``, the records whose pairing changes in ``contact_identity``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from actors.contact_group import ContactGroup, email_of
from actors.contact_io import SfRecord
from actors.contact_values import ID_PROPERTY
from actors.stream import Change
from engine.canonical import parse_timestamp_ms
from engine.errors import RecordError
from engine.store_types import Link


class ContactActor(ContactGroup):
    """Handles contact changes routed to it; shared by all contact actors (it holds no per-record state)."""

    async def prefetch(self, changes: Sequence[Change]) -> None:
        """The links of a page of changes, looked up at once before it is routed (see
        ``actors/prefetch.py``)."""
        store = self.io.store
        hubspot = [c.record_id for c in changes if c.system == "hubspot"]
        salesforce = [c.record_id for c in changes if c.system == "salesforce"]
        if hubspot:
            await store.prefetch_links("contacts", "hubspot", hubspot)
        if salesforce:
            await store.prefetch_links("contacts", "salesforce", salesforce)

    def settled(self, change: Change) -> bool:
        """Nothing to do for this change (the router asks before it gives the record an actor)."""
        return self._agrees_with_last_commit(change)

    async def handle(self, key: str, change: Change) -> None:
        if self._agrees_with_last_commit(change):
            return
        # No logger.contextualize around this: it cost 3-4 % of a backfill's CPU, and the calls it
        # would label are batches shared by many records. A record's own log lines name it.
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
            return self.values.hubspot_agrees(link, change.values)
        link = links.by_salesforce("contacts", change.record_id)
        if link is None or link.hubspot_id is None or change.values.get("IsConverted"):
            return False
        return link.key not in self.locks and self._sf_agrees(link, change.object, change.values)

    async def _from_hubspot(self, change: Change) -> None:
        hs_id = change.record_id
        forgotten = self.io.store.links.forgotten
        link = await self._link_by_hs(hs_id)
        if link is None or link.salesforce_id is None:
            email = email_of(change.values.get("email"))
            if not email:
                self.summary.ineligible += 1  # R-ELIG-1: no email, no sync to Salesforce
                return
            async with self.locks.hold(f"email:{email}"):
                link = await self._link_by_hs(hs_id, none_since=forgotten if link is None else None)
                if link is None or link.salesforce_id is None:
                    if link is not None and change.modified_ms <= link.hubspot_modified_ms:
                        return  # its Salesforce record was deleted, and it has not changed since
                    paired = await self._link_new_hubspot(change, email, None if link is None else link.key)
                    if paired is None:
                        return
                    # Its Salesforce record's pair took this very contact while we waited (the
                    # record re-created its deleted contact): a linked pair's change after all.
                    link = paired
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

    async def _link_new_hubspot(self, change: Change, email: str, key: str | None) -> Link | None:
        """No link yet: the Salesforce id the contact already carries, else the email match.
        ``key``: the contact's orphan link (its record deleted), which the new link replaces.
        Returns the link that pairs the contact already, if the match's own pair turns out to."""
        sf_type, sf = await self._known_salesforce(change.values)
        if sf is None:
            sf_type, sf = await self._match_byemail_of(email)
        hs = self.values.hubspot_record(change.values, change.modified_ms)
        link = Link(key=key or uuid.uuid4().hex, object="contacts", hubspot_id=change.record_id)
        if sf is None:
            await self._create_in_salesforce(link, hs)
            return None
        paired = await self._release_from_deleted_contact(sf_type, str(sf["Id"]), change.record_id)
        if paired is not None:
            return paired
        link = msgspec.structs.replace(link, salesforce_type=sf_type, salesforce_id=str(sf["Id"]))
        await self._sync_pair(link, hs, sf)
        return None

    async def _known_salesforce(self, values: Mapping[str, Any]) -> tuple[str, SfRecord | None]:
        for sobject, prop in ID_PROPERTY.items():
            sf_id = values.get(prop)
            if sf_id and sobject in self.io.sf_by_id:
                sf = await self.io.sf_by_id[sobject].submit(str(sf_id))
                if sf is not None and not sf.get("IsConverted"):
                    return sobject, sf
        return "", None

    async def _match_byemail_of(self, email: str) -> tuple[str, SfRecord | None]:
        """SPEC §2 / R-ID-1/2: Contacts before Leads; among several, the oldest."""
        found = await self.io.sf_by_email.submit(email)
        for sobject in ("Contact", "Lead"):
            if found.get(sobject):
                return sobject, found[sobject][0]
        return "", None

    async def _from_salesforce(self, change: Change) -> None:
        sf_type, sf_id = change.object, change.record_id
        forgotten = self.io.store.links.forgotten
        link = await self._link_by_sf(sf_id)
        if link is None:
            if self.settings.salesforce_to_hubspot == "do_nothing" or change.values.get("IsConverted"):
                return  # a converted Lead is followed through its Contact
            email = email_of(change.values.get("Email"))
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
