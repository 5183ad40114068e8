"""Where change streams read from: HubSpot search and Salesforce SOQL, paged in time order."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

from loguru import logger

from actors.poll_round import PollRound
from actors.stream import Change
from engine.canonical import parse_timestamp_ms
from engine.hubspot import SEARCH_CAP, SEARCH_PAGE, HubSpotClient, HubSpotObject, last_modified_property
from engine.salesforce import SalesforceClient, decode_deleted, decode_query, sub_body
from engine.soql import datetime_literal, identifier, quote

SF_PAGE = 2000


class HubSpotSource:
    """HubSpot search, sorted by last-modified time, paged by *time* rather than by offset.

    Offset paging (``after``) over a result set that changes while it is read skips records: every
    record the engine writes moves to the end of the order, and the ones behind it slide into
    offsets already read. So each page starts again after the newest timestamp seen (which also
    keeps clear of search's 10,000-result cap): ``lm > t OR (lm = t AND hs_object_id NOT_IN the ids
    seen at t)``, a keyset in two filter groups, so that a batch of our writes stamped in one
    millisecond is not read twice. More than ``KEYSET_IDS`` ids at ``t`` would not fit a search body:
    the page then starts at ``t`` and the ones seen again are skipped downstream. Only when one page
    is entirely one millisecond does the source page by offset inside that millisecond — and then
    rescans it until a scan finds nothing new, since records leaving it shift the rest down.
    """

    KEYSET_IDS = 100

    def __init__(self, client: HubSpotClient, object_type: str, properties: Sequence[str]) -> None:
        self._client = client
        self._object = object_type
        self._props = list(properties)
        self._lm = last_modified_property(object_type)
        self._group_ids: set[str] = set()
        self._group_new = False

    def _change(self, obj: HubSpotObject, read_at: float) -> Change:
        stamp = obj.properties.get(self._lm) or obj.updatedAt
        return Change(
            system="hubspot",
            object=self._object,
            record_id=obj.id,
            modified_ms=parse_timestamp_ms(stamp),
            values=dict(obj.properties),
            read_at=read_at,
        )

    async def page(
        self,
        since_ms: int,
        token: str | None,
        *,
        until_ms: int | None = None,
        after_id: str | None = None,
    ) -> tuple[list[Change], str | None]:
        # ``after_id`` is not used: HubSpot stamps milliseconds, so the cursor's own millisecond is
        # rarely more than a page, and its keyset excludes ids seen rather than ids below one.
        if token is not None and token.startswith("ms:"):
            return await self._group_page(token)
        seen: list[str] = []
        if token is None:
            since = since_ms
        else:
            stamp, _, ids = token.partition(":")
            since, seen = int(stamp), ids.split(",") if ids else []
        read_at = time.monotonic()
        page = await self._client.search_modified(
            self._object, since, self._props, until_ms=until_ms, seen_at_since=seen
        )
        changes = sorted(
            (self._change(o, read_at) for o in page.results), key=lambda c: (c.modified_ms, c.record_id)
        )
        if len(changes) < SEARCH_PAGE:
            return changes, None
        newest = changes[-1].modified_ms
        at_newest = [c.record_id for c in changes if c.modified_ms == newest]
        if newest == since:  # the whole page is one millisecond: page by offset inside it
            self._group_ids = {*seen, *at_newest}
            self._group_new = False
            return changes, f"ms:{since}:{0 if seen else SEARCH_PAGE}"
        if len(at_newest) <= self.KEYSET_IDS:
            return changes, f"{newest}:{','.join(at_newest)}"  # next page: after what was seen
        return changes, str(newest)  # from the newest millisecond again (re-read, deduplicated)

    async def _group_page(self, token: str) -> tuple[list[Change], str | None]:
        _, ms_text, offset_text = token.split(":")
        ms, offset = int(ms_text), int(offset_text)
        if offset + SEARCH_PAGE > SEARCH_CAP:
            logger.error(
                "hubspot {}: over {} changes in the one millisecond {}; the rest wait for the next pass",
                self._object,
                SEARCH_CAP,
                ms,
            )
            return [], str(ms + 1)
        read_at = time.monotonic()
        page = await self._client.search_modified(
            self._object, ms, self._props, exact=True, after=str(offset)
        )
        changes = [self._change(o, read_at) for o in page.results]
        fresh = [c for c in changes if c.record_id not in self._group_ids]
        self._group_ids.update(c.record_id for c in fresh)
        self._group_new = self._group_new or bool(fresh)
        if page.after is not None and changes:
            return changes, f"ms:{ms}:{offset + SEARCH_PAGE}"
        if self._group_new:  # something slid into an offset already read: scan the millisecond again
            self._group_new = False
            return changes, f"ms:{ms}:0"
        return changes, str(ms + 1)


class SalesforceSource:
    """SOQL keyset paging on ``(SystemModstamp, Id)``: no query locators to expire, and equal
    timestamps across page boundaries are exact. A pass's first page goes through the poll's
    ``PollRound`` when there is one (one call for all the Salesforce streams)."""

    def __init__(
        self,
        client: SalesforceClient,
        sobject: str,
        fields: Sequence[str],
        *,
        poll_round: PollRound | None = None,
        member: str = "",
    ) -> None:
        self._client = client
        self._sobject = identifier(sobject)
        self._fields = list(dict.fromkeys(["Id", "SystemModstamp", *fields]))
        self._round = poll_round
        self._member = member

    async def page(
        self,
        since_ms: int,
        token: str | None,
        *,
        until_ms: int | None = None,
        after_id: str | None = None,
    ) -> tuple[list[Change], str | None]:
        select = ", ".join(identifier(f) for f in self._fields)
        start = _split(token) if token is not None else (since_ms, after_id)
        if start[1] is None:
            where = f"SystemModstamp >= {datetime_literal(start[0])}"
        else:
            stamp = datetime_literal(start[0])
            where = f"(SystemModstamp > {stamp} OR (SystemModstamp = {stamp} AND Id > {quote(start[1])}))"
        if until_ms is not None:
            where += f" AND SystemModstamp <= {datetime_literal(until_ms)}"
        soql = (
            f"SELECT {select} FROM {self._sobject} WHERE {where}"
            f" ORDER BY SystemModstamp ASC, Id ASC LIMIT {SF_PAGE}"
        )
        read_at = time.monotonic()
        answer = None
        if token is None and self._round is not None:
            answer = await self._round.read(self._member, self._client.query_url(soql))
        if answer is not None:
            result = decode_query(sub_body(answer, "query"))
        else:
            result = await self._client.query(soql)
        changes = [
            Change(
                system="salesforce",
                object=self._sobject,
                record_id=str(row["Id"]),
                modified_ms=parse_timestamp_ms(str(row["SystemModstamp"])),
                values={k: v for k, v in row.items() if k != "attributes"},
                read_at=read_at,
            )
            for row in result.records
        ]
        if len(changes) < SF_PAGE:
            return changes, None
        last = changes[-1]
        return changes, f"{last.modified_ms}|{last.record_id}"


def _split(token: str) -> tuple[int, str | None]:
    ts, _, rest = token.partition("|")
    return int(ts), rest or None


class SalesforceDeletedSource:
    """Deleted records from ``/sobjects/{type}/deleted`` (the recycle bin's log), as changes with
    ``deleted=True``. Salesforce keeps that log for 15 days, so the window never starts earlier."""

    def __init__(
        self, client: SalesforceClient, sobject: str, *, poll_round: PollRound | None = None, member: str = ""
    ) -> None:
        self._client = client
        self._sobject = identifier(sobject)
        self._round = poll_round
        self._member = member

    async def page(
        self,
        since_ms: int,
        token: str | None,
        *,
        until_ms: int | None = None,
        after_id: str | None = None,
    ) -> tuple[list[Change], str | None]:
        # The log is one call whatever its window: it is read to the CRM's now even for a slice
        # (``until_ms``), since more than the slice is harmless and a second-rounded end could cut it.
        now_ms = int(time.time() * 1000)
        start = max(since_ms, now_ms - 14 * 86_400_000)
        # Well ahead of our clock, for a CRM clock that runs fast: Salesforce answers up to its own
        # now (latestDateCovered), and a window ending short of it would hide its newest deletes.
        end = now_ms + 3_600_000
        answer = None
        if self._round is not None:
            url = self._client.deleted_url(self._sobject, iso_utc(start), iso_utc(end))
            answer = await self._round.read(self._member, url)
        if answer is not None:
            deleted = decode_deleted(sub_body(answer, "deleted"))
        else:
            deleted = await self._client.deleted(self._sobject, iso_utc(start), iso_utc(end))
        changes = sorted(
            (
                Change(
                    system="salesforce",
                    object=self._sobject,
                    record_id=d.id,
                    modified_ms=parse_timestamp_ms(d.deletedDate),
                    deleted=True,
                )
                for d in deleted.deletedRecords
            ),
            key=lambda c: (c.modified_ms, c.record_id),
        )
        return changes, None


def iso_utc(ms: int) -> str:
    """A Salesforce replication-window bound (whole seconds, UTC)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
