"""HubSpot CRM v3 connector: the calls crmsync makes, decoded with msgspec decoders built once.

Only idempotent calls: search and batch read, batch update, batch upsert on a unique property
(never batch create — a retried create after a lost reply would duplicate the record).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from engine.budget import Budget
from engine.errors import RequestRejected
from engine.http import HttpClient, Response, Verdict
from engine.pacing import WindowLimiter

_HEADER_DAILY = "X-HubSpot-RateLimit-Daily"
_HEADER_DAILY_REMAINING = "X-HubSpot-RateLimit-Daily-Remaining"
_HEADER_INTERVAL_MS = "X-HubSpot-RateLimit-Interval-Milliseconds"
_HEADER_BURST_MAX = "X-HubSpot-RateLimit-Max"
_HEADER_BURST_REMAINING = "X-HubSpot-RateLimit-Remaining"

# The property holding each object's last-modified time (contacts are the odd one out).
LAST_MODIFIED = {"contacts": "lastmodifieddate"}
SEARCH_PAGE = 200
SEARCH_CAP = 10_000
BATCH_MAX = 100


def last_modified_property(object_type: str) -> str:
    return LAST_MODIFIED.get(object_type, "hs_lastmodifieddate")


class HubSpotObject(msgspec.Struct, frozen=True):
    id: str
    properties: dict[str, str | None]
    createdAt: str
    updatedAt: str
    archived: bool = False


class _Next(msgspec.Struct, frozen=True):
    after: str


class _Paging(msgspec.Struct, frozen=True):
    next: _Next | None = None


class Page(msgspec.Struct, frozen=True):
    results: list[HubSpotObject]
    paging: _Paging | None = None
    total: int | None = None

    @property
    def after(self) -> str | None:
        return self.paging.next.after if self.paging and self.paging.next else None


class HubSpotError(msgspec.Struct, frozen=True):
    """An error body (whole request) or one entry of a batch's ``errors`` (one input)."""

    message: str = ""
    category: str = ""
    status: str = ""
    context: dict[str, list[str]] = msgspec.field(default_factory=dict)
    policyName: str | None = None


class BatchResult(msgspec.Struct, frozen=True):
    results: list[HubSpotObject] = msgspec.field(default_factory=list)
    errors: list[HubSpotError] = msgspec.field(default_factory=list)


class Owner(msgspec.Struct, frozen=True):
    id: str
    email: str | None = None
    archived: bool = False


class _Owners(msgspec.Struct, frozen=True):
    results: list[Owner]
    paging: _Paging | None = None


class PropertyOption(msgspec.Struct, frozen=True):
    label: str = ""
    value: str = ""
    hidden: bool = False


class PropertyModification(msgspec.Struct, frozen=True):
    readOnlyValue: bool = False


class Property(msgspec.Struct, frozen=True):
    """One property definition from ``GET /crm/v3/properties/{objectType}``.

    ``type`` is the stored type (string, number, date, datetime, enumeration, bool), ``fieldType``
    the UI type R-MAP-7 speaks of; ``referencedObjectType`` is ``"OWNER"`` for "HubSpot user"
    properties.
    """

    name: str
    type: str
    fieldType: str
    options: list[PropertyOption] = msgspec.field(default_factory=list)
    calculated: bool = False
    modificationMetadata: PropertyModification | None = None
    referencedObjectType: str | None = None

    @property
    def read_only(self) -> bool:
        """HubSpot refuses writes to its value (calculated or system-maintained)."""
        meta = self.modificationMetadata
        return self.calculated or (meta is not None and meta.readOnlyValue)


class _Properties(msgspec.Struct, frozen=True):
    results: list[Property]


_page = msgspec.json.Decoder(Page)
_batch = msgspec.json.Decoder(BatchResult)
_error = msgspec.json.Decoder(HubSpotError)
_owners = msgspec.json.Decoder(_Owners)
_properties = msgspec.json.Decoder(_Properties)
_encode = msgspec.json.encode


def decode_error(body: bytes) -> HubSpotError:
    try:
        return _error.decode(body)
    except msgspec.DecodeError:
        return HubSpotError(message=body[:500].decode("utf-8", "replace"))


class HubSpotPolicy:
    """HubSpot's usage headers and 429 bodies: ten-secondly limits wait, the daily one pauses."""

    def observe(self, budget: Budget, headers: Mapping[str, str]) -> None:
        remaining = headers.get(_HEADER_DAILY_REMAINING)
        if remaining is not None and remaining.isdigit():
            daily = headers.get(_HEADER_DAILY)
            budget.observe(limit=int(daily) if daily and daily.isdigit() else None, remaining=int(remaining))
        burst_max, burst_left = headers.get(_HEADER_BURST_MAX, ""), headers.get(_HEADER_BURST_REMAINING, "")
        if burst_max.isdigit() and burst_left.isdigit():
            budget.observe_burst(int(burst_max) - int(burst_left))

    def judge(self, response: Response) -> tuple[Verdict, float | None]:
        status = response.status
        if status == 429:
            error = decode_error(response.body)
            if error.policyName == "DAILY" or "daily" in error.message.lower():
                return Verdict.EXHAUSTED, None
            interval = response.headers.get(_HEADER_INTERVAL_MS, "")
            # Wait out a share of the window rather than hammering it (search has no such header).
            return Verdict.RETRY, (int(interval) / 10_000 if interval.isdigit() else 1.0)
        if status in (401,):
            return Verdict.AUTH, None
        if status == 423:  # "locks last for 2 seconds"
            return Verdict.RETRY, 2.0
        if status == 477 or status >= 500:
            retry_after = response.headers.get("Retry-After", "")
            return Verdict.RETRY, (float(retry_after) if retry_after.isdigit() else None)
        return Verdict.RETURN, None


def _filter(prop: str, operator: str, value: str) -> dict[str, object]:
    return {"propertyName": prop, "operator": operator, "value": value}


class HubSpotClient:
    def __init__(self, http: HttpClient, *, search_limiter: WindowLimiter | None = None) -> None:
        self.http = http
        # Search has its own limit (5 requests/s) on top of the general burst limit; its calls go
        # first in the burst window (they feed the change streams every other call depends on).
        self.search_limiter = search_limiter

    async def _search(self, object_type: str, body: object) -> Page:
        """Every search goes through here: the search limiter is taken for each attempt."""
        response = await self.http.request(
            "POST", f"/crm/v3/objects/{object_type}/search", body=_encode(body), lane=self.search_limiter
        )
        return _page.decode(self._ok(response, "search"))

    async def newest(self, object_type: str) -> HubSpotObject | None:
        """The most recently modified record, or None for an empty portal."""
        lm = last_modified_property(object_type)
        body = {"sorts": [{"propertyName": lm, "direction": "DESCENDING"}], "properties": [lm], "limit": 1}
        page = await self._search(object_type, body)
        return page.results[0] if page.results else None

    async def search_modified(
        self,
        object_type: str,
        since_ms: int,
        properties: Sequence[str],
        *,
        exact: bool = False,
        after: str | None = None,
        until_ms: int | None = None,
        seen_at_since: Sequence[str] = (),
    ) -> Page:
        """Records modified at or after ``since_ms`` (or exactly at it; and at or before
        ``until_ms``), oldest first, 200 a page; those stamped ``since_ms`` whose ids are in
        ``seen_at_since`` are left out (a keyset page: two filter groups)."""
        lm = last_modified_property(object_type)
        upper = [] if until_ms is None or exact else [_filter(lm, "LTE", str(until_ms))]
        groups: list[dict[str, object]]
        if seen_at_since and not exact:
            groups = [
                {"filters": [_filter(lm, "GT", str(since_ms)), *upper]},
                {
                    "filters": [
                        _filter(lm, "EQ", str(since_ms)),
                        {"propertyName": "hs_object_id", "operator": "NOT_IN", "values": list(seen_at_since)},
                    ]
                },
            ]
        else:
            groups = [{"filters": [_filter(lm, "EQ" if exact else "GTE", str(since_ms)), *upper]}]
        body: dict[str, object] = {
            "filterGroups": groups,
            "sorts": [{"propertyName": lm, "direction": "ASCENDING"}],
            "properties": [*properties, lm],
            "limit": SEARCH_PAGE,
        }
        if after is not None:
            body["after"] = after
        return await self._search(object_type, body)

    async def search_equal(
        self, object_type: str, prop: str, values: Sequence[str], properties: Sequence[str]
    ) -> Page:
        """Records whose ``prop`` is one of ``values`` (IN filter; up to 100 values)."""
        body = {
            "filterGroups": [{"filters": [{"propertyName": prop, "operator": "IN", "values": list(values)}]}],
            "properties": list(properties),
            "limit": SEARCH_PAGE,
        }
        return await self._search(object_type, body)

    async def list_archived(self, object_type: str, after: str | None = None) -> Page:
        params = {"archived": "true", "limit": "100"}
        if after is not None:
            params["after"] = after
        response = await self.http.request("GET", f"/crm/v3/objects/{object_type}", params=params)
        return _page.decode(self._ok(response, "list archived"))

    async def batch_read(
        self, object_type: str, ids: Sequence[str], properties: Sequence[str], id_property: str | None = None
    ) -> BatchResult:
        body: dict[str, object] = {"inputs": [{"id": i} for i in ids], "properties": list(properties)}
        if id_property is not None:
            body["idProperty"] = id_property
        return await self._batch_call(object_type, "read", body)

    async def batch_update(
        self, object_type: str, inputs: Sequence[tuple[str, Mapping[str, str]]]
    ) -> BatchResult:
        # A trace id on every input makes HubSpot fail only the bad input (207), not the batch.
        body = {
            "inputs": [
                {"id": i, "properties": dict(props), "objectWriteTraceId": str(n)}
                for n, (i, props) in enumerate(inputs)
            ]
        }
        return await self._batch_call(object_type, "update", body)

    async def batch_upsert(
        self, object_type: str, id_property: str, inputs: Sequence[tuple[str, Mapping[str, str]]]
    ) -> BatchResult:
        body = {
            "inputs": [
                {"id": v, "idProperty": id_property, "properties": dict(props), "objectWriteTraceId": str(n)}
                for n, (v, props) in enumerate(inputs)
            ]
        }
        return await self._batch_call(object_type, "upsert", body)

    async def batch_archive(self, object_type: str, ids: Sequence[str]) -> None:
        body = {"inputs": [{"id": i} for i in ids]}
        response = await self.http.request(
            "POST", f"/crm/v3/objects/{object_type}/batch/archive", body=_encode(body)
        )
        self._ok(response, "batch archive")

    async def owners(self) -> list[Owner]:
        out: list[Owner] = []
        after: str | None = None
        while True:
            params = {"limit": "100"} if after is None else {"limit": "100", "after": after}
            page = _owners.decode(
                self._ok(await self.http.request("GET", "/crm/v3/owners", params=params), "owners")
            )
            out.extend(page.results)
            after = page.paging.next.after if page.paging and page.paging.next else None
            if after is None:
                return out

    async def properties(self, object_type: str) -> list[Property]:
        """Every (unarchived) property definition of an object type; one call, not paged."""
        response = await self.http.request("GET", f"/crm/v3/properties/{object_type}")
        return _properties.decode(self._ok(response, "properties")).results

    async def _batch_call(self, object_type: str, op: str, body: object) -> BatchResult:
        """A batch call; a 400 for the whole batch comes back as one error with no ids, for the
        caller to split the batch and find the offending input."""
        response = await self.http.request(
            "POST", f"/crm/v3/objects/{object_type}/batch/{op}", body=_encode(body)
        )
        if response.status in (200, 201, 207):
            return _batch.decode(response.body)
        if response.status in (400, 404, 409):
            return BatchResult(errors=[decode_error(response.body)])
        self._ok(response, f"batch {op}")
        raise AssertionError("unreachable")

    def _ok(self, response: Response, what: str) -> bytes:
        if 200 <= response.status < 300:
            return response.body
        raise RequestRejected("hubspot", response.status, f"{what}: {decode_error(response.body).message}")
