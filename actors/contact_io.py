"""Batched I/O for contact actors: every read and write an actor makes goes through a Batcher.

An actor asks for one record ("the Salesforce Contact 003…", "the HubSpot contact with this
email", "update these fields"); the batchers turn concurrent requests into HubSpot batch calls of
up to 100 and Salesforce queries and sObject Collections of up to 200.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from actors.batch import Batcher, Flush, In, Out, Ready
from engine import failpoints
from engine.canonical import SalesforceValue
from engine.hubspot import BATCH_MAX, BatchResult, HubSpotClient, HubSpotObject
from engine.record_errors import hubspot_error, salesforce_error
from engine.salesforce import COLLECTION_MAX, SalesforceClient, SaveResult
from engine.store import StateStore
from engine.store_types import Link

SfRecord = dict[str, Any]
HsWrite = tuple[str, Mapping[str, str]]
SfWrite = Mapping[str, SalesforceValue]


class ContactIO:
    """The batchers of one running contact sync."""

    def __init__(
        self,
        *,
        hubspot: HubSpotClient,
        salesforce: SalesforceClient,
        store: StateStore,
        hubspot_properties: Sequence[str],
        salesforce_fields: Mapping[str, Sequence[str]],
        external_id_field: str,
        batch_size: int,
        linger_s: float,
        concurrency: int,
    ) -> None:
        self.hs = hubspot
        self.sf = salesforce
        self.store = store
        self.hs_props = list(hubspot_properties)
        self.sf_fields = {t: list(f) for t, f in salesforce_fields.items()}
        self.external_id_field = external_id_field
        hs_size = min(batch_size, BATCH_MAX)
        sf_size = min(max(batch_size, 1) * 2, COLLECTION_MAX)
        self.group_size = hs_size
        """Records a group's step takes at once: one HubSpot batch (see ``contact_group``)."""
        self._linger_s = linger_s
        self._concurrency = concurrency

        self.links_by_hs: Batcher[str, Link | None] = self._batcher(self._links_by_hs, 500)
        self.links_by_sf: Batcher[str, Link | None] = self._batcher(self._links_by_sf, 500)
        # HubSpot's batches close only when its burst window has room (see Batcher).
        hs_ready = hubspot.http.budget.ready
        self.hs_by_id: Batcher[str, HubSpotObject | None] = self._batcher(self._hs_by_id, hs_size, hs_ready)
        self.hs_by_email: Batcher[str, HubSpotObject | None] = self._batcher(
            self._hs_by_email, hs_size, hs_ready
        )
        self.hs_update: Batcher[HsWrite, HubSpotObject] = self._batcher(self._hs_update, hs_size, hs_ready)
        self.hs_archive: Batcher[str, None] = self._batcher(self._hs_archive, hs_size, hs_ready)
        self.hs_upsert: dict[str, Batcher[HsWrite, HubSpotObject]] = {
            prop: self._batcher(self._hs_upserter(prop), hs_size, hs_ready)
            for prop in ("salesforcecontactid", "salesforceleadid")
        }
        self.sf_by_id: dict[str, Batcher[str, SfRecord | None]] = {
            t: self._batcher(self._sf_retriever(t), sf_size) for t in self.sf_fields
        }
        self.sf_by_email: Batcher[str, dict[str, list[SfRecord]]] = self._batcher(self._sf_match, sf_size)
        self.sf_upsert: dict[str, Batcher[SfWrite, SaveResult]] = {
            t: self._batcher(self._sf_upserter(t), sf_size) for t in self.sf_fields
        }
        self.sf_update: Batcher[tuple[str, SfWrite], SaveResult] = self._batcher(self._sf_update, sf_size)

    def _batcher(self, flush: Flush[In, Out], size: int, ready: Ready | None = None) -> Batcher[In, Out]:
        return Batcher(flush, size=size, linger_s=self._linger_s, concurrency=self._concurrency, ready=ready)

    # -- state store -----------------------------------------------------------------------------

    async def _links_by_hs(self, ids: Sequence[str]) -> list[Link | BaseException | None]:
        found = await self.store.links_by_hubspot("contacts", list(dict.fromkeys(ids)))
        return [found.get(i) for i in ids]

    async def _links_by_sf(self, ids: Sequence[str]) -> list[Link | BaseException | None]:
        found = await self.store.links_by_salesforce("contacts", list(dict.fromkeys(ids)))
        return [found.get(i) for i in ids]

    # -- HubSpot ---------------------------------------------------------------------------------

    async def _hs_by_id(self, ids: Sequence[str]) -> list[HubSpotObject | BaseException | None]:
        result = await self.hs.batch_read("contacts", list(dict.fromkeys(ids)), self.hs_props)
        by_id = {r.id: r for r in result.results}
        return [by_id.get(i) for i in ids]

    async def _hs_by_email(self, emails: Sequence[str]) -> list[HubSpotObject | BaseException | None]:
        result = await self.hs.batch_read("contacts", list(dict.fromkeys(emails)), self.hs_props, "email")
        by_email = {(r.properties.get("email") or "").strip().lower(): r for r in result.results}
        return [by_email.get(e) for e in emails]

    async def _hs_update(self, items: Sequence[HsWrite]) -> list[HubSpotObject | BaseException]:
        result = await self._split_on_400(items, lambda part: self.hs.batch_update("contacts", part))
        _sent()
        return _match_hubspot(items, result, key=lambda r: r.id)

    async def _hs_archive(self, ids: Sequence[str]) -> list[BaseException | None]:
        await self.hs.batch_archive("contacts", list(dict.fromkeys(ids)))
        _sent()
        return [None] * len(ids)

    def _hs_upserter(self, prop: str) -> Flush[HsWrite, HubSpotObject]:
        async def flush(items: Sequence[HsWrite]) -> list[HubSpotObject | BaseException]:
            result = await self._split_on_400(
                items, lambda part: self.hs.batch_upsert("contacts", prop, part)
            )
            _sent()
            return _match_hubspot(items, result, key=lambda r: r.properties.get(prop) or "")

        return flush

    async def _split_on_400(
        self, items: Sequence[HsWrite], call: Callable[[Sequence[HsWrite]], Awaitable[BatchResult]]
    ) -> BatchResult:
        """A 400 for the whole batch names no input: halve the batch until the culprit is alone."""
        result: BatchResult = await call(items)
        if result.results or len(items) <= 1 or not result.errors or any(e.context for e in result.errors):
            return result
        mid = len(items) // 2
        left = await self._split_on_400(items[:mid], call)
        right = await self._split_on_400(items[mid:], call)
        return BatchResult(results=[*left.results, *right.results], errors=[*left.errors, *right.errors])

    # -- Salesforce ------------------------------------------------------------------------------

    def _sf_retriever(self, sobject: str) -> Flush[str, SfRecord | None]:
        async def flush(ids: Sequence[str]) -> list[SfRecord | BaseException | None]:
            unique = list(dict.fromkeys(ids))
            rows = await self.sf.retrieve(sobject, unique, self.sf_fields[sobject])
            by_id = {row["Id"][:15]: row for row in rows if row}
            return [by_id.get(i[:15]) for i in ids]

        return flush

    async def _sf_match(self, emails: Sequence[str]) -> list[dict[str, list[SfRecord]] | BaseException]:
        """Per email, the records of each type that have it, oldest first: every type's query in
        one composite call (a Contact and a Lead lookup were two calls, one after the other)."""
        unique = list(set(emails))
        types = list(self.sf_fields)
        soqls = []
        for sobject in types:
            soql = self.sf.equal_soql(sobject, [*self.sf_fields[sobject], "CreatedDate"], "Email", unique)
            if sobject == "Lead":
                # A converted Lead follows its Contact; it is never matched again.
                soql += " AND IsConverted = false"
            soqls.append(soql + " ORDER BY CreatedDate ASC, Id ASC")
        by_email: dict[str, dict[str, list[SfRecord]]] = {}
        for sobject, page in zip(types, await self.sf.queries(soqls), strict=True):
            rows: list[SfRecord] = list(page.records)
            while page.nextRecordsUrl:
                page = await self.sf.query_more(page.nextRecordsUrl)
                rows.extend(page.records)
            for row in rows:
                email = str(row.get("Email") or "").strip().lower()
                by_email.setdefault(email, {}).setdefault(sobject, []).append(row)
        return [by_email.get(e, {}) for e in emails]

    def _sf_upserter(self, sobject: str) -> Flush[SfWrite, SaveResult]:
        async def flush(records: Sequence[SfWrite]) -> list[SaveResult | BaseException]:
            results = await self.sf.upsert(sobject, self.external_id_field, records)
            _sent()
            return [_sf_outcome(r) for r in results]

        return flush

    async def _sf_update(self, items: Sequence[tuple[str, SfWrite]]) -> list[SaveResult | BaseException]:
        by_type: dict[str, list[int]] = {}
        for i, (sobject, _) in enumerate(items):
            by_type.setdefault(sobject, []).append(i)
        out: list[SaveResult | BaseException] = [RuntimeError("no result")] * len(items)
        for sobject, indexes in by_type.items():
            results = await self.sf.update(sobject, [items[i][1] for i in indexes])
            _sent()
            for i, r in zip(indexes, results, strict=True):
                out[i] = _sf_outcome(r)
        return out


def _sent() -> None:
    """A batch write's reply is in, no record has its result yet: the ``write_sent`` instant."""
    if failpoints.ARMED:
        failpoints.hit("write_sent")


def _sf_outcome(result: SaveResult) -> SaveResult | BaseException:
    if result.success:
        return result
    return salesforce_error([(e.statusCode, e.message, e.fields) for e in result.errors])


def _match_hubspot(
    items: Sequence[HsWrite], result: BatchResult, key: Callable[[HubSpotObject], str]
) -> list[HubSpotObject | BaseException]:
    """Batch results come back unordered: pair them with inputs by id, errors by their context."""
    by_key = {key(r): r for r in result.results}
    failed: dict[str, BaseException] = {}
    whole: BaseException | None = None
    for error in result.errors:
        exc = hubspot_error(error.category, error.message)
        ids = error.context.get("ids") or error.context.get("id") or []
        for i in ids:
            failed[i] = exc
        if not ids:
            whole = exc
    out: list[HubSpotObject | BaseException] = []
    for ident, _ in items:
        found = by_key.get(ident)
        out.append(found if found is not None else failed.get(ident) or whole or _missing(ident))
    return out


def _missing(ident: str) -> BaseException:
    return hubspot_error("OBJECT_NOT_FOUND", f"HubSpot returned no result for {ident}")
