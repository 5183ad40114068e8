"""Salesforce REST connector: SOQL change queries, sObject Collections, deletes, describe, limits.

Writes are upserts on the external id (``HubSpot_Id__c``) or updates by id — both idempotent —
in collections of up to 200 records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote as urlquote
from urllib.parse import urlencode

import msgspec
from loguru import logger

from engine.budget import Budget
from engine.errors import AuthFailed, RequestRejected, Transient
from engine.http import HttpClient, Response, Verdict
from engine.soql import datetime_literal, identifier, quote

COLLECTION_MAX = 200
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")


class QueryPage(msgspec.Struct, frozen=True):
    totalSize: int
    done: bool
    records: list[dict[str, Any]]
    nextRecordsUrl: str | None = None


class RecordError(msgspec.Struct, frozen=True):
    statusCode: str = ""
    message: str = ""
    fields: list[str] = msgspec.field(default_factory=list)


class SaveResult(msgspec.Struct, frozen=True):
    """One record's outcome in an sObject Collections call (results come in request order)."""

    success: bool
    id: str | None = None
    errors: list[RecordError] = msgspec.field(default_factory=list)
    created: bool | None = None


class ApiError(msgspec.Struct, frozen=True):
    message: str = ""
    errorCode: str = ""


class DeletedRecord(msgspec.Struct, frozen=True):
    id: str
    deletedDate: str


class Deleted(msgspec.Struct, frozen=True):
    deletedRecords: list[DeletedRecord]
    latestDateCovered: str | None = None
    earliestDateAvailable: str | None = None


class PicklistValue(msgspec.Struct, frozen=True):
    value: str
    label: str = ""
    active: bool = True


class FieldDescribe(msgspec.Struct, frozen=True):
    name: str
    type: str
    calculated: bool = False
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    externalId: bool = False
    unique: bool = False
    length: int = 0
    picklistValues: list[PicklistValue] = msgspec.field(default_factory=list)
    restrictedPicklist: bool = False
    referenceTo: list[str] = msgspec.field(default_factory=list)


class SubResponse(msgspec.Struct, frozen=True):
    """One subrequest's answer in a ``/composite`` response."""

    body: msgspec.Raw
    httpStatusCode: int
    referenceId: str


class CompositeResponse(msgspec.Struct, frozen=True):
    compositeResponse: list[SubResponse]


class UserInfo(msgspec.Struct, frozen=True):
    """``/services/oauth2/userinfo``: the user the access token acts as (the part we use)."""

    user_id: str
    email: str | None = None


class Describe(msgspec.Struct, frozen=True):
    name: str
    fields: list[FieldDescribe]


_query = msgspec.json.Decoder(QueryPage)
_results = msgspec.json.Decoder(list[SaveResult])
_errors = msgspec.json.Decoder(list[ApiError])
_deleted = msgspec.json.Decoder(Deleted)
_describe = msgspec.json.Decoder(Describe)
_userinfo = msgspec.json.Decoder(UserInfo)
_composite = msgspec.json.Decoder(CompositeResponse)
COMPOSITE_QUERIES_MAX = 5
"""Query subrequests one ``/composite`` call may carry (Salesforce: of its 25 subrequests, at most
five may be queries or sObject Collections)."""
COMPOSITE_MAX = 25
_encode = msgspec.json.encode


def decode_query(body: bytes) -> QueryPage:
    return _query.decode(body)


def decode_deleted(body: bytes) -> Deleted:
    return _deleted.decode(body)


def sub_body(answer: SubResponse, what: str) -> bytes:
    """A ``/composite`` subrequest's body if it succeeded; its failure raised as the call alone
    would raise it (a 5xx or a lock inside is Transient: the outer call succeeded, so the HTTP
    layer did not retry it)."""
    raw = bytes(answer.body)
    if answer.httpStatusCode >= 500 or b"UNABLE_TO_LOCK_ROW" in raw:
        raise Transient("salesforce", f"composite {what}: HTTP {answer.httpStatusCode}")
    if not 200 <= answer.httpStatusCode < 300:
        detail = "; ".join(f"{e.errorCode}: {e.message}" for e in api_errors(raw))
        raise RequestRejected("salesforce", answer.httpStatusCode, f"{what}: {detail}")
    return raw


def api_errors(body: bytes) -> list[ApiError]:
    try:
        return _errors.decode(body)
    except msgspec.DecodeError:
        return [ApiError(message=body[:500].decode("utf-8", "replace"))]


class SalesforcePolicy:
    """``Sforce-Limit-Info`` on every answer; REQUEST_LIMIT_EXCEEDED pauses; 5xx and locks retry."""

    def observe(self, budget: Budget, headers: Mapping[str, str]) -> None:
        m = _LIMIT_INFO.search(headers.get("Sforce-Limit-Info", ""))
        if m:
            budget.observe(used=int(m.group(1)), limit=int(m.group(2)))

    def judge(self, response: Response) -> tuple[Verdict, float | None]:
        status = response.status
        if status == 401:
            return Verdict.AUTH, None
        if status == 403 and any(e.errorCode == "REQUEST_LIMIT_EXCEEDED" for e in api_errors(response.body)):
            return Verdict.EXHAUSTED, None
        if status >= 500 or status == 429:
            return Verdict.RETRY, None
        if status == 400 and b"UNABLE_TO_LOCK_ROW" in response.body:
            return Verdict.RETRY, None
        return Verdict.RETURN, None


class SalesforceClient:
    def __init__(self, http: HttpClient, api_version: str) -> None:
        self.http = http
        self.prefix = f"/services/data/v{api_version}"

    async def query(self, soql: str, *, include_deleted: bool = False) -> QueryPage:
        resource = "queryAll" if include_deleted else "query"
        response = await self.http.request("GET", f"{self.prefix}/{resource}/", params={"q": soql})
        return _query.decode(self._ok(response, "query"))

    async def queries(self, soqls: Sequence[str]) -> list[QueryPage]:
        """The first page of each query, in one ``/composite`` call: Salesforce counts the whole
        call as one API request. A subrequest that failed fails them all, as a query would alone
        (a 5xx inside is Transient: the outer call succeeded, so the HTTP layer did not retry it)."""
        if len(soqls) == 1:
            return [await self.query(soqls[0])]
        if not 0 < len(soqls) <= COMPOSITE_QUERIES_MAX:
            raise ValueError(f"a composite call carries 1 to {COMPOSITE_QUERIES_MAX} queries")
        answers = await self.composite_get([self.query_url(soql) for soql in soqls])
        return [decode_query(sub_body(answer, "query")) for answer in answers]

    def query_url(self, soql: str) -> str:
        """A query's first page as a ``/composite`` subrequest's url (the SOQL url-encoded whole)."""
        return f"{self.prefix}/query/?q={urlquote(soql, safe='')}"

    def deleted_url(self, sobject: str, start_iso: str, end_iso: str) -> str:
        """``deleted`` as a ``/composite`` subrequest's url (sObject Get Deleted is one of the
        resources a composite call may carry)."""
        window = urlencode({"start": start_iso, "end": end_iso}, quote_via=urlquote)
        return f"{self.prefix}/sobjects/{identifier(sobject)}/deleted/?{window}"

    async def composite_get(self, urls: Sequence[str]) -> list[SubResponse]:
        """GET subrequests in one ``/composite`` call (one API call whatever it carries), their
        answers in the order asked; each answer is judged by its caller (``sub_body``). At most
        ``COMPOSITE_QUERIES_MAX`` of them may be queries, ``COMPOSITE_MAX`` in all."""
        if not 0 < len(urls) <= COMPOSITE_MAX:
            raise ValueError(f"a composite call carries 1 to {COMPOSITE_MAX} subrequests")
        subrequests = [{"method": "GET", "url": url, "referenceId": f"r{i}"} for i, url in enumerate(urls)]
        body = _encode({"allOrNone": False, "compositeRequest": subrequests})
        response = await self.http.request("POST", f"{self.prefix}/composite", body=body)
        answers = {
            a.referenceId: a for a in _composite.decode(self._ok(response, "composite")).compositeResponse
        }
        out: list[SubResponse] = []
        for i in range(len(urls)):
            answer = answers.get(f"r{i}")
            if answer is None:
                raise Transient("salesforce", f"composite: no answer to subrequest r{i}")
            out.append(answer)
        return out

    async def query_more(self, next_records_url: str) -> QueryPage:
        return _query.decode(self._ok(await self.http.request("GET", next_records_url), "query"))

    def changes_soql(self, sobject: str, fields: Sequence[str], since_ms: int, limit: int = 2000) -> str:
        """Records modified at or after ``since_ms``, in ``(SystemModstamp, Id)`` order."""
        wanted = ", ".join(identifier(f) for f in dict.fromkeys(["Id", "SystemModstamp", *fields]))
        return (
            f"SELECT {wanted} FROM {identifier(sobject)} WHERE SystemModstamp >= {datetime_literal(since_ms)}"
            f" ORDER BY SystemModstamp ASC, Id ASC LIMIT {int(limit)}"
        )

    def equal_soql(self, sobject: str, fields: Sequence[str], field: str, values: Sequence[str]) -> str:
        wanted = ", ".join(identifier(f) for f in dict.fromkeys(["Id", "SystemModstamp", *fields]))
        listed = ", ".join(quote(v) for v in values)
        return f"SELECT {wanted} FROM {identifier(sobject)} WHERE {identifier(field)} IN ({listed})"

    async def retrieve(
        self, sobject: str, ids: Sequence[str], fields: Sequence[str]
    ) -> list[dict[str, Any] | None]:
        """Records by id, in the order asked (None where a record no longer exists)."""
        params = {"ids": ",".join(ids), "fields": ",".join(identifier(f) for f in fields)}
        response = await self.http.request(
            "GET", f"{self.prefix}/composite/sobjects/{identifier(sobject)}", params=params
        )
        decoded = msgspec.json.decode(self._ok(response, "retrieve"), type=list[dict[str, Any] | None])
        return decoded

    async def upsert(
        self, sobject: str, external_field: str, records: Sequence[Mapping[str, Any]]
    ) -> list[SaveResult]:
        body = {
            "allOrNone": False,
            "records": [{"attributes": {"type": sobject}, **r} for r in records],
        }
        path = f"{self.prefix}/composite/sobjects/{identifier(sobject)}/{identifier(external_field)}"
        return self._results(await self.http.request("PATCH", path, body=_encode(body)), "upsert")

    async def update(self, sobject: str, records: Sequence[Mapping[str, Any]]) -> list[SaveResult]:
        """Each record carries its ``Id``."""
        body = {"allOrNone": False, "records": [{"attributes": {"type": sobject}, **r} for r in records]}
        return self._results(
            await self.http.request("PATCH", f"{self.prefix}/composite/sobjects", body=_encode(body)),
            "update",
        )

    async def deleted(self, sobject: str, start_iso: str, end_iso: str) -> Deleted:
        params = {"start": start_iso, "end": end_iso}
        response = await self.http.request(
            "GET", f"{self.prefix}/sobjects/{identifier(sobject)}/deleted/", params=params
        )
        return _deleted.decode(self._ok(response, "deleted"))

    async def describe(self, sobject: str) -> Describe:
        response = await self.http.request("GET", f"{self.prefix}/sobjects/{identifier(sobject)}/describe/")
        return _describe.decode(self._ok(response, "describe"))

    async def api_user(self) -> str | None:
        """The id of the user this connection acts as, whom Salesforce makes the owner of what we
        create without one; None when the UserInfo endpoint does not say (the caller does without).
        A refusal here (a token without the scope UserInfo wants, or the endpoint down) costs only
        that knowledge: the REST calls before it have already proved the connection."""
        try:
            response = await self.http.request("GET", "/services/oauth2/userinfo")
        except (AuthFailed, Transient) as exc:
            logger.bind(system="salesforce").info("the API user is unknown (UserInfo: {})", exc)
            return None
        if response.status != 200:
            return None
        try:
            return _userinfo.decode(response.body).user_id or None
        except msgspec.DecodeError:
            return None

    async def get_by_external_id(self, sobject: str, field: str, value: str) -> dict[str, Any] | None:
        path = f"{self.prefix}/sobjects/{identifier(sobject)}/{identifier(field)}/{urlquote(value, safe='')}"
        response = await self.http.request("GET", path)
        if response.status == 404:
            return None
        return msgspec.json.decode(self._ok(response, "get"), type=dict[str, Any])

    def _results(self, response: Response, what: str) -> list[SaveResult]:
        return _results.decode(self._ok(response, what))

    def _ok(self, response: Response, what: str) -> bytes:
        if 200 <= response.status < 300:
            return response.body
        detail = "; ".join(f"{e.errorCode}: {e.message}" for e in api_errors(response.body))
        raise RequestRejected("salesforce", response.status, f"{what}: {detail}")
