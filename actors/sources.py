"""Where change streams read from: HubSpot search and Salesforce SOQL, paged in time order."""

from __future__ import annotations

from collections.abc import Sequence

from loguru import logger

from actors.stream import Change
from engine.canonical import parse_timestamp_ms
from engine.hubspot import SEARCH_CAP, SEARCH_PAGE, HubSpotClient, HubSpotObject, last_modified_property
from engine.salesforce import SalesforceClient
from engine.soql import datetime_literal, identifier, quote

SF_PAGE = 2000


class HubSpotSource:
    """Search sorted by last-modified time. Search stops at 10,000 results per query, so before
    ``after`` reaches the cap the window moves: a new query from the newest timestamp seen."""

    def __init__(self, client: HubSpotClient, object_type: str, properties: Sequence[str]) -> None:
        self._client = client
        self._object = object_type
        self._props = list(properties)
        self._lm = last_modified_property(object_type)

    def _change(self, obj: HubSpotObject) -> Change:
        stamp = obj.properties.get(self._lm) or obj.updatedAt
        return Change(
            system="hubspot",
            object=self._object,
            record_id=obj.id,
            modified_ms=parse_timestamp_ms(stamp),
            values=dict(obj.properties),
        )

    async def page(self, since_ms: int, token: str | None) -> tuple[list[Change], str | None]:
        window, after = (since_ms, None) if token is None else _split(token)
        page = await self._client.search_modified_since(self._object, window, self._props, after)
        changes = sorted((self._change(o) for o in page.results), key=lambda c: (c.modified_ms, c.record_id))
        nxt = page.after
        if nxt is None or not changes:
            return changes, None
        if int(nxt) + SEARCH_PAGE > SEARCH_CAP:
            newest = changes[-1].modified_ms
            if newest == window:
                # Over 10,000 records share one millisecond: search cannot page past them.
                logger.error(
                    "hubspot {}: more than {} changes at {} ms; some were skipped",
                    self._object,
                    SEARCH_CAP,
                    newest,
                )
                return changes, None
            return changes, f"{newest}|"
        return changes, f"{window}|{nxt}"


class SalesforceSource:
    """SOQL keyset paging on ``(SystemModstamp, Id)``: no query locators to expire, and equal
    timestamps across page boundaries are exact."""

    def __init__(self, client: SalesforceClient, sobject: str, fields: Sequence[str]) -> None:
        self._client = client
        self._sobject = identifier(sobject)
        self._fields = list(dict.fromkeys(["Id", "SystemModstamp", *fields]))

    async def page(self, since_ms: int, token: str | None) -> tuple[list[Change], str | None]:
        select = ", ".join(identifier(f) for f in self._fields)
        if token is None:
            where = f"SystemModstamp >= {datetime_literal(since_ms)}"
        else:
            ts, last_id = _split(token)
            stamp = datetime_literal(ts)
            where = (
                f"(SystemModstamp > {stamp} OR (SystemModstamp = {stamp} AND Id > {quote(last_id or '')}))"
            )
        soql = (
            f"SELECT {select} FROM {self._sobject} WHERE {where}"
            f" ORDER BY SystemModstamp ASC, Id ASC LIMIT {SF_PAGE}"
        )
        result = await self._client.query(soql)
        changes = [
            Change(
                system="salesforce",
                object=self._sobject,
                record_id=str(row["Id"]),
                modified_ms=parse_timestamp_ms(str(row["SystemModstamp"])),
                values={k: v for k, v in row.items() if k != "attributes"},
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
