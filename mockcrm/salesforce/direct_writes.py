"""``POST /__mock/write``: one record write straight into the org, as another Salesforce user would
make it in the UI — through the same prepare/commit path as the API (validation, duplicate and
unique rules), but not counted as an API call and never faulted (the control plane). The oracle's
workload (mockcrm.chaos) writes this way, so that a test can compare the mocks' own call counters
with the engine's allotment.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from aiohttp import web

from mockcrm.salesforce import writes
from mockcrm.salesforce.errors import RecordError
from mockcrm.salesforce.org import Org


class DirectWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    action: Literal["create", "update", "delete"]
    sobject: str
    id: str | None = None
    """The record to update or delete."""
    fields: dict[str, Any] = msgspec.field(default_factory=dict)
    """As on the API: ``null`` clears a field."""


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.json.encode(body), status=status, content_type="application/json")


def _refused(errors: list[RecordError]) -> web.Response:
    return _json({"error": "; ".join(f"{e.code}: {e.message}" for e in errors)}, 400)


def add_direct_write_route(app: web.Application, org: Org) -> None:
    async def write(request: web.Request) -> web.Response:
        try:
            body = msgspec.json.decode(await request.read(), type=DirectWrite)
        except msgspec.DecodeError as exc:
            return _json({"error": f"invalid write: {exc}"}, 400)
        obj = org.sobject(body.sobject)
        if obj is None:
            return _json({"error": f"unknown sObject {body.sobject!r}"}, 400)
        table = org.tables[obj.name]
        before, org.acting_user = org.acting_user, org.other_user_id  # someone else's edit
        try:
            if body.action == "delete":
                k = writes.prepare_delete(table, body.id or "")
                if isinstance(k, RecordError):
                    return _refused([k])
                writes.commit_delete(org, table, k, org.stamp())
                return _json({"id": body.id})
            prepared = (
                writes.prepare_create(org, table, body.fields)
                if body.action == "create"
                else writes.prepare_update(org, table, body.id or "", body.fields)
            )
            if isinstance(prepared, list):
                return _refused(prepared)
            return _json({"id": writes.commit(org, prepared, org.stamp())})
        finally:
            org.acting_user = before

    app.router.add_post("/__mock/write", write)
