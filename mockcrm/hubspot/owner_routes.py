"""Owners API: ``GET /crm/v3/owners`` (email filter, ``after`` paging) and ``GET /crm/v3/owners/{id}``."""

from __future__ import annotations

from aiohttp import web

from mockcrm.hubspot.context import mock_of, query_bool, query_int
from mockcrm.hubspot.errors import json_response, not_found, validation
from mockcrm.hubspot.values import parse_id

LIST_MAX = 500


async def list_owners(request: web.Request) -> web.Response:
    mock = mock_of(request)
    limit = query_int(request, "limit", 100, 1, LIST_MAX)
    archived = query_bool(request, "archived")
    email = request.query.get("email", "").strip().lower()
    after_raw = request.query.get("after", "")
    after = parse_id(after_raw) if after_raw else 0
    if after is None:
        raise validation(f"Invalid after value: {after_raw!r}")
    owners = [
        o
        for o in mock.portal.owners
        if o.archived == archived and (not email or o.email.lower() == email) and int(o.id) >= after
    ]
    body: dict[str, object] = {"results": [o.to_json() for o in owners[:limit]]}
    if len(owners) > limit:
        nxt = owners[limit].id
        body["paging"] = {"next": {"after": nxt, "link": str(request.url.update_query({"after": nxt}))}}
    return json_response(body)


async def get_owner(request: web.Request) -> web.Response:
    mock = mock_of(request)
    key = request.match_info["ownerId"]
    by_user = request.query.get("idProperty", "id") == "userId"
    archived = query_bool(request, "archived")
    for owner in mock.portal.owners:
        match = str(owner.user_id) == key if by_user else owner.id == key
        if match and owner.archived == archived:
            return json_response(owner.to_json())
    raise not_found(f"Owner {key} not found")


def add_routes(app: web.Application) -> None:
    # The official client calls "/crm/v3/owners/" (trailing slash); both spellings work.
    app.router.add_get("/crm/v3/owners", list_owners)
    app.router.add_get("/crm/v3/owners/", list_owners)
    app.router.add_get("/crm/v3/owners/{ownerId}", get_owner)
