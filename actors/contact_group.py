"""New records found together: a page's records that no link holds, handled as a group.

A backfill (or a big import) is mostly records seen for the first time. One at a time, each wakes
a worker and waits on four batched round trips (the email match, the create or the other side's
write, its own side's id, the commit) — most of the engine's CPU per pair went into those waits
and wake-ups, not into deciding anything. The router gives a page's new records to
``handle_group`` at once (``Router``'s ``grouped``), which takes them in parts of one batch: each
part goes through the same steps as a single record (``contact_pair`` works on lists of pairs, a
single change being a list of one), in the same order and under the same email locks, with one
wait per step for the whole part.

Whatever is not the plain case goes the single-record way, beside the group: a record whose email
lock is held (or that shares its email with another of the group), one the match finds linked
already (R-ID-3 twins, orphans), one with no email, or a HubSpot contact that carries a Salesforce
id. The router keeps every record's later changes queued until its group is done.

Measured (`crmsync bench --scenario initial --limits lifted`, 2026-11-24): engine CPU per 1,000
pairs 0.24 -> 0.20 at 100k, 0.24 -> 0.17 at 30k.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

import anyio
import msgspec
from anyio.abc import TaskGroup

from actors.contact_identity import ContactIdentity
from actors.contact_io import SfRecord
from actors.contact_pair import Outcome
from actors.contact_values import ID_PROPERTY
from actors.stream import Change
from engine.canonical import parse_timestamp_ms
from engine.errors import RecordError
from engine.reconcile import HubSpotRecord
from engine.store_types import Link

_Many = Callable[[], Awaitable[list[Outcome]]]
"""One of ``contact_pair``'s steps for a list of pairs, its arguments bound."""


class _Work:
    """What a group's parts share: its changes, the email locks its own records hold (place ->
    email), each record's outcome, and the task group where a record going the single way runs."""

    __slots__ = ("held", "items", "outcomes", "tg")

    def __init__(self, items: Sequence[tuple[str, Change]], tg: TaskGroup) -> None:
        self.items = items
        self.held: dict[int, str] = {}
        self.outcomes: list[Outcome] = [None] * len(items)
        self.tg = tg


_Step = Callable[[_Work, list[int]], Awaitable[None]]


def email_of(value: object) -> str:
    return str(value or "").strip().lower()


class ContactGroup(ContactIdentity):
    """The group path of the contact actor (``ContactActor`` is the single-record one)."""

    async def handle(self, key: str, change: Change) -> None:
        raise NotImplementedError  # the single-record path: ContactActor

    def grouped(self, change: Change) -> bool:
        """Whether a change goes to a group: a record with no link (looked up with its page:
        known absent), not a delete, and one the single-record path would pair or create."""
        if change.deleted:
            return False
        if change.system == "salesforce":
            if self.settings.salesforce_to_hubspot == "do_nothing" or change.values.get("IsConverted"):
                return False
        elif any(change.values.get(prop) for prop in ID_PROPERTY.values()):
            return False  # carries its Salesforce record's id: looked up by id, one at a time
        return self.io.store.links.absent("contacts", change.system, change.record_id)

    async def handle_group(self, items: Sequence[tuple[str, Change]]) -> list[Outcome]:
        links = self.io.store.links
        async with anyio.create_task_group() as tg:
            work = _Work(items, tg)
            alone: list[int] = []
            for i, (_, change) in enumerate(items):
                email = email_of(change.values.get("Email" if change.system == "salesforce" else "email"))
                # No wait for a lock here: a record someone else is pairing goes the single way.
                if email and self.locks.try_hold(f"email:{email}"):
                    if links.absent("contacts", change.system, change.record_id):
                        work.held[i] = email
                        continue
                    self.locks.release(f"email:{email}")  # linked meanwhile
                alone.append(i)
            for i in alone:
                tg.start_soon(self._alone, work, i)
            for system, step in (
                ("hubspot", self._new_from_hubspot),
                ("salesforce", self._new_from_salesforce),
            ):
                group = [i for i in work.held if items[i][1].system == system]
                # In parts of one batch each, every part through its steps on its own: the first
                # parts are committed while the last still wait for their first call (one part
                # per call, as records went one per actor). Whole, a page's first step would
                # have to end before any record got further, and a day's allotment too small for
                # every step of a page would then never commit any record of it.
                size = self.io.group_size
                for start in range(0, len(group), size):
                    tg.start_soon(self._locked, step, work, group[start : start + size])
        outcomes = work.outcomes
        for i, outcome in enumerate(outcomes):
            if isinstance(outcome, RecordError):
                change = items[i][1]
                await self._fail(change.system, change.record_id, outcome)
                outcomes[i] = None
        return outcomes

    async def _alone(self, work: _Work, i: int) -> None:
        """One record the single-record way (its own lookups and locks)."""
        key, change = work.items[i]
        try:
            await self.handle(key, change)
        except Exception as exc:  # the router decides: a setback to retry, or a bug that stops
            work.outcomes[i] = exc

    async def _locked(self, step: _Step, work: _Work, part: list[int]) -> None:
        """``step`` for ``part``, whose email locks are held until it is done."""
        try:
            await step(work, part)
        finally:
            for i in part:
                email = work.held.pop(i, None)
                if email is not None:
                    self.locks.release(f"email:{email}")

    def _go_alone(self, work: _Work, i: int) -> None:
        """A record of the group that turns out not to be the plain case: its email lock is let go,
        and it starts again the single-record way."""
        self.locks.release(f"email:{work.held.pop(i)}")
        work.tg.start_soon(self._alone, work, i)

    async def _new_from_salesforce(self, work: _Work, part: list[int]) -> None:
        """``_link_new_salesforce`` for the group: the HubSpot contact with the email gets the
        record, else a new contact is made from it."""
        found = await self.io.hs_by_email.submit_many([work.held[i] for i in part])
        contacts = [f.id for f in found if f is not None and not isinstance(f, BaseException)]
        if contacts:
            await self.io.store.prefetch_links("contacts", "hubspot", contacts)
        twice = {hs_id for hs_id, n in Counter(contacts).items() if n > 1}
        links = self.io.store.links
        creates: list[int] = []
        pairs: list[int] = []
        for i, hs_obj in zip(part, found, strict=True):
            if isinstance(hs_obj, BaseException):
                work.outcomes[i] = hs_obj
            elif hs_obj is None:
                creates.append(i)
            elif hs_obj.id in twice or not links.absent("contacts", "hubspot", hs_obj.id):
                self._go_alone(work, i)  # linked already (R-ID-3, an orphan)
            else:
                pairs.append(i)
        hs_by_place = dict(zip(part, found, strict=True))

        def new_link(i: int, hubspot_id: str | None = None) -> Link:
            change = work.items[i][1]
            return Link(
                key=uuid.uuid4().hex,
                object="contacts",
                hubspot_id=hubspot_id,
                salesforce_type=change.object,
                salesforce_id=change.record_id,
            )

        pairing = []
        for i in pairs:
            hs_obj = hs_by_place[i]
            assert hs_obj is not None and not isinstance(hs_obj, BaseException)
            hs = self.values.hubspot_record(hs_obj.properties, parse_timestamp_ms(hs_obj.updatedAt))
            pairing.append((new_link(i, hs_obj.id), hs, work.items[i][1].values))
        await self._create_and_pair(
            work.outcomes,
            (
                creates,
                partial(
                    self._create_many_in_hubspot,
                    [(new_link(i), work.items[i][1].object, work.items[i][1].values) for i in creates],
                ),
            ),
            (pairs, partial(self._sync_pairs, pairing)),
        )

    async def _new_from_hubspot(self, work: _Work, part: list[int]) -> None:
        """``_link_new_hubspot`` for the group: the Salesforce record with the email (Contacts
        before Leads, the oldest first) gets the contact, else a new record is made from it."""
        found = await self.io.sf_by_email.submit_many([work.held[i] for i in part])
        matches: dict[int, tuple[str, SfRecord]] = {}
        creates: list[int] = []
        for i, by_type in zip(part, found, strict=True):
            if isinstance(by_type, BaseException):
                work.outcomes[i] = by_type
                continue
            match = next(((t, by_type[t][0]) for t in ("Contact", "Lead") if by_type.get(t)), None)
            if match is None:
                creates.append(i)
            else:
                matches[i] = match
        ids = [str(sf["Id"]) for _, sf in matches.values()]
        if ids:
            await self.io.store.prefetch_links("contacts", "salesforce", ids)
        twice = {sf_id for sf_id, n in Counter(ids).items() if n > 1}
        links = self.io.store.links
        pairs: list[int] = []
        for i, (_, sf) in matches.items():
            sf_id = str(sf["Id"])
            if sf_id in twice or not links.absent("contacts", "salesforce", sf_id):
                self._go_alone(work, i)  # linked already (a deleted contact's)
            else:
                pairs.append(i)

        def hubspot(i: int) -> HubSpotRecord:
            change = work.items[i][1]
            return self.values.hubspot_record(change.values, change.modified_ms)

        def new_link(i: int) -> Link:
            return Link(key=uuid.uuid4().hex, object="contacts", hubspot_id=work.items[i][1].record_id)

        pairing = []
        for i in pairs:
            sf_type, sf = matches[i]
            link = msgspec.structs.replace(new_link(i), salesforce_type=sf_type, salesforce_id=str(sf["Id"]))
            pairing.append((link, hubspot(i), sf))
        await self._create_and_pair(
            work.outcomes,
            (creates, partial(self._create_many_in_salesforce, [(new_link(i), hubspot(i)) for i in creates])),
            (pairs, partial(self._sync_pairs, pairing)),
        )

    @staticmethod
    async def _create_and_pair(outcomes: list[Outcome], *steps: tuple[list[int], _Many]) -> None:
        """A group's creates and its pairs, side by side: each step's outcomes go to its records'
        places in ``outcomes``."""

        async def run(places: list[int], step: _Many) -> None:
            for i, outcome in zip(places, await step(), strict=True):
                outcomes[i] = outcome

        async with anyio.create_task_group() as tg:
            for places, step in steps:
                if places:
                    tg.start_soon(run, places, step)
