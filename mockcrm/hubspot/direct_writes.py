"""``POST /__mock/write``: one record write straight into the portal, as a person in HubSpot's UI would
make it — through the same validation as the API, but not counted as an API call and never
faulted (the control plane). The oracle's workload (mockcrm.chaos) writes this way, so that a test
can compare the mocks' own call counters with the engine's allotment.
"""

from __future__ import annotations

from typing import Literal

import msgspec
from aiohttp import web

from mockcrm.hubspot.context import HubSpotMock
from mockcrm.hubspot.errors import HubSpotError


class DirectWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    action: Literal["create", "update", "delete"]
    object_type: str = "contacts"
    id: str | None = None
    """The record to update or delete (a live one)."""
    properties: dict[str, str] = msgspec.field(default_factory=dict)
    """As on the API: ``""`` clears a property."""


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.json.encode(body), status=status, content_type="application/json")


def add_direct_write_route(app: web.Application, mock: HubSpotMock) -> None:
    async def write(request: web.Request) -> web.Response:
        try:
            body = msgspec.json.decode(await request.read(), type=DirectWrite)
        except msgspec.DecodeError as exc:
            return _json({"error": f"invalid write: {exc}"}, 400)
        portal = mock.portal
        otype = portal.schema.find(body.object_type)
        if otype is None:
            return _json({"error": f"unknown object type {body.object_type!r}"}, 400)
        try:
            if body.action == "create":
                return _json({"id": str(portal.create_checked(otype, body.properties).id)}, 201)
            rec = portal.find(otype, body.id or "")
            if rec is None:
                return _json({"error": f"no live {otype.singular} {body.id!r}"}, 404)
            if body.action == "delete":
                portal.archive(otype, rec)
            else:
                values = portal.clean(otype, body.properties)
                portal.check_unique(otype, values, rec.id)
                portal.update(otype, rec, values)
            return _json({"id": str(rec.id)})
        except HubSpotError as exc:
            return _json({"error": str(exc)}, exc.status)

    app.router.add_post("/__mock/write", write)
