"""``POST /composite``: up to 25 subrequests in one API call, with ``@{ref.path}`` references (B4).

Subrequests run through the same router as top-level calls. A subrequest whose reference points at
a failed or missing result is not run (PROCESSING_HALTED). With ``allOrNone`` the first failure
rolls back what earlier subrequests wrote, through the org's undo journal.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec

from mockcrm.salesforce.api import Call, Reply, Router, decode_as
from mockcrm.salesforce.errors import SalesforceError
from mockcrm.salesforce.journal import roll_back
from mockcrm.salesforce.service import SalesforceMock

MAX_SUBREQUESTS = 25
_REF = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_URL = re.compile(r"/services/data/v(\d+\.\d)/(.*)")
_ROLLED_BACK = [
    {
        "errorCode": "PROCESSING_HALTED",
        "message": "The transaction was rolled back since another operation in the same transaction failed.",
    }
]


class SubRequest(msgspec.Struct):
    method: str
    url: str
    reference_id: str = msgspec.field(name="referenceId")
    body: Any = None
    http_headers: dict[str, str] = msgspec.field(default_factory=dict, name="httpHeaders")


class CompositeBody(msgspec.Struct):
    composite_request: list[SubRequest] = msgspec.field(name="compositeRequest")
    all_or_none: bool = msgspec.field(default=False, name="allOrNone")
    collate_subrequests: bool = msgspec.field(default=False, name="collateSubrequests")


class _Unresolved(Exception):
    def __init__(self, ref: str) -> None:
        super().__init__(ref)
        self.ref = ref


def _lookup(results: dict[str, Reply], ref: str, path: str) -> object:
    reply = results.get(ref)
    if reply is None or reply.status >= 400:
        raise _Unresolved(ref)
    value: Any = reply.body
    for part in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        name, index = part
        try:
            value = value[int(index)] if index else value[name]
        except (KeyError, IndexError, TypeError):
            raise _Unresolved(ref) from None
    return value


def _substitute(value: Any, results: dict[str, Reply]) -> Any:
    if isinstance(value, str):
        whole = _REF.fullmatch(value)
        if whole is not None:  # a lone reference keeps the referenced value's JSON type
            return _lookup(results, whole.group(1), whole.group(2))
        return _REF.sub(lambda m: str(_lookup(results, m.group(1), m.group(2))), value)
    if isinstance(value, list):
        return [_substitute(v, results) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, results) for k, v in value.items()}
    return value


class CompositeHandlers:
    def __init__(self, mock: SalesforceMock, router: Router) -> None:
        self.mock = mock
        self.router = router

    def register(self, router: Router) -> None:
        router.add("composite", POST=self.composite)

    def _run_one(self, sub: SubRequest, results: dict[str, Reply]) -> Reply:
        try:
            url = _substitute(sub.url, results)
            body = _substitute(sub.body, results)
        except _Unresolved as exc:
            return Reply(
                400,
                [
                    {
                        "errorCode": "PROCESSING_HALTED",
                        "message": f"Invalid reference specified. No value for {exc.ref} found in {exc.ref}. "
                        f"Provided referenceId ('{exc.ref}') must be an id of a prior successful subrequest.",
                    }
                ],
            )
        parts = urlsplit(str(url))
        m = _URL.fullmatch(parts.path)
        if m is None or parts.path.rstrip("/").endswith("/composite"):
            return Reply(400, [{"errorCode": "INVALID_INPUT", "message": f"Invalid subrequest url: {url}"}])
        call = Call(
            method=sub.method.upper(),
            version=m.group(1),
            tail=m.group(2).rstrip("/"),
            query=dict(parse_qsl(parts.query)),
            body=b"" if body is None else msgspec.json.encode(body),
            headers=sub.http_headers,
        )
        _, reply = self.router.dispatch(call)
        if reply.status == 201 and isinstance(reply.body, dict) and "id" in reply.body:
            sobject = call.tail.split("/")[1] if call.tail.startswith("sobjects/") else ""
            reply.headers = {"Location": f"{call.base}/sobjects/{sobject}/{reply.body['id']}"}
        return reply

    def _run_one_safely(self, sub: SubRequest, results: dict[str, Reply]) -> Reply:
        try:
            return self._run_one(sub, results)
        except RecursionError:  # a body nested deeper than the reference walk can follow
            return Reply(400, [{"errorCode": "JSON_PARSER_ERROR", "message": "JSON nested too deeply"}])

    def composite(self, call: Call) -> Reply:
        body = decode_as(call.body, CompositeBody, "composite request")
        if len(body.composite_request) > MAX_SUBREQUESTS:
            raise SalesforceError.one(
                400,
                "LIMIT_EXCEEDED",
                f"Limit Exceeded: a composite request can have at most {MAX_SUBREQUESTS} subrequests",
            )
        refs = [s.reference_id for s in body.composite_request]
        if len(set(refs)) != len(refs):
            raise SalesforceError.one(400, "INVALID_INPUT", "Duplicate referenceId provided in the request")
        org = self.mock.org
        results: dict[str, Reply] = {}
        order: list[tuple[str, Reply]] = []
        if body.all_or_none:
            org.journal = []
        try:
            failed = False
            for sub in body.composite_request:
                reply = self._run_one_safely(sub, results) if not failed else Reply(400, _ROLLED_BACK)
                results[sub.reference_id] = reply
                order.append((sub.reference_id, reply))
                if body.all_or_none and reply.status >= 400 and not failed:
                    failed = True
                    rules = {name: {r.name: r.fields for r in rs} for name, rs in org.duplicate_rules.items()}
                    roll_back(org.journal or [], rules)
                    order = [(ref, r if r is reply else Reply(400, _ROLLED_BACK)) for ref, r in order]
        finally:
            org.journal = None
        return Reply(
            200,
            {
                "compositeResponse": [
                    {
                        "body": r.body,
                        "httpHeaders": r.headers or {},
                        "httpStatusCode": r.status,
                        "referenceId": ref,
                    }
                    for ref, r in order
                ]
            },
        )
