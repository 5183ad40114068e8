"""Single-record object endpoints: list, get, create, update, archive (``/crm/v3/objects/...``)."""

from __future__ import annotations

from aiohttp import web

from mockcrm.hubspot.bodies import CreateAssociation, ObjectInput, UpdateInput, decode, ref_id
from mockcrm.hubspot.context import HubSpotMock, mock_of, query_bool, query_int, query_list
from mockcrm.hubspot.errors import HubSpotError, json_response, validation
from mockcrm.hubspot.render import record_json, written_json
from mockcrm.hubspot.schema import ObjectTypeDef
from mockcrm.hubspot.store import Record
from mockcrm.hubspot.values import parse_id

LIST_MAX = 100


def object_type(request: web.Request) -> ObjectTypeDef:
    return mock_of(request).portal.schema.resolve(request.match_info["objectType"])


def check_associations(mock: HubSpotMock, otype: ObjectTypeDef, assocs: list[CreateAssociation]) -> None:
    """Associations on a create must name existing records and valid type ids (all-or-nothing)."""
    portal = mock.portal
    for assoc in assocs:
        for spec in assoc.types:
            t = portal.associations.types.get(spec.association_type_id)
            if t is None or t.from_type != otype.type_id:
                raise validation(
                    f"{spec.association_type_id} is not a valid association type id for {otype.singular}"
                )
            target = portal.schema.find(t.to_type)
            to_id = ref_id(assoc.to.id)
            if target is None or portal.find(target, to_id) is None:
                raise validation(f"No {t.to_type} record with id {to_id} to associate with")


def apply_associations(
    mock: HubSpotMock, otype: ObjectTypeDef, rec: Record, assocs: list[CreateAssociation]
) -> None:
    store = mock.portal.associations
    for assoc in assocs:
        for spec in assoc.types:
            t = store.types[spec.association_type_id]
            to_id = parse_id(ref_id(assoc.to.id))
            assert to_id is not None  # check_associations found the record
            store.add((otype.type_id, rec.id), (t.to_type, to_id), [t.type_id])


def associations_json(
    mock: HubSpotMock, otype: ObjectTypeDef, rec: Record, names: list[str]
) -> dict[str, object]:
    """The v3 ``associations`` block: ``{deals: {results: [{id, type}]}}``, only non-empty ones."""
    portal = mock.portal
    out: dict[str, object] = {}
    for name in names:
        target = portal.schema.find(name)
        if target is None:
            continue
        results = []
        for to_id, type_ids in portal.associations.targets((otype.type_id, rec.id), target.type_id):
            for type_id in type_ids:
                label = portal.associations.types[type_id].label
                suffix = "" if label else "_unlabeled"
                results.append({"id": str(to_id), "type": f"{otype.singular}_to_{target.singular}{suffix}"})
        if results:
            out[target.name] = {"results": results}
    return out


def _render(mock: HubSpotMock, request: web.Request, otype: ObjectTypeDef, rec: Record) -> dict[str, object]:
    body = record_json(
        otype, rec, query_list(request, "properties"), known=mock.portal.schema.props[otype.name]
    )
    assoc_names = query_list(request, "associations")
    if assoc_names:
        assocs = associations_json(mock, otype, rec, assoc_names)
        if assocs:
            body["associations"] = assocs
    return body


async def list_page(request: web.Request) -> web.Response:
    mock = mock_of(request)
    otype = object_type(request)
    limit = query_int(request, "limit", 10, 1, LIST_MAX)
    after_raw = request.query.get("after", "")
    after = parse_id(after_raw) if after_raw else 0
    if after is None:
        raise validation(f"Invalid after value: {after_raw!r}")
    results: list[dict[str, object]] = []
    next_id: int | None = None
    for rec in mock.portal.stores[otype.name].iter_from(after, query_bool(request, "archived")):
        if len(results) == limit:
            next_id = rec.id
            break
        results.append(_render(mock, request, otype, rec))
    body: dict[str, object] = {"results": results}
    if next_id is not None:
        link = request.url.update_query({"after": str(next_id)})
        body["paging"] = {"next": {"after": str(next_id), "link": str(link)}}
    return json_response(body)


async def get_one(request: web.Request) -> web.Response:
    mock = mock_of(request)
    otype = object_type(request)
    key = request.match_info["objectId"]
    id_property = request.query.get("idProperty") or None
    if query_bool(request, "archived") and not id_property and (rid := parse_id(key)) is not None:
        rec = mock.portal.stores[otype.name].records.get(rid)
        if rec is None:
            raise HubSpotError(404, "OBJECT_NOT_FOUND", "resource not found")
    else:
        rec = mock.portal.must_find(otype, key, id_property)
    return json_response(_render(mock, request, otype, rec))


async def create(request: web.Request) -> web.Response:
    mock = mock_of(request)
    otype = object_type(request)
    body = decode(await request.read(), ObjectInput)
    values = mock.portal.clean(otype, body.properties)
    mock.portal.require(otype, values)
    mock.portal.check_unique(otype, values, None)
    check_associations(mock, otype, body.associations)
    rec = mock.portal.create(otype, values)
    apply_associations(mock, otype, rec, body.associations)
    return json_response(record_json(otype, rec, everything=True), status=201)


async def update(request: web.Request) -> web.Response:
    mock = mock_of(request)
    otype = object_type(request)
    rec = mock.portal.must_find(
        otype, request.match_info["objectId"], request.query.get("idProperty") or None
    )
    body = decode(await request.read(), UpdateInput)
    values = mock.portal.clean(otype, body.properties)
    mock.portal.check_unique(otype, values, rec.id)
    mock.portal.update(otype, rec, values)
    return json_response(written_json(otype, rec, values))


async def archive(request: web.Request) -> web.Response:
    mock = mock_of(request)
    otype = object_type(request)
    key = request.match_info["objectId"]
    rec = mock.portal.find(otype, key)
    if rec is not None:  # archiving a missing or already archived record is a no-op, as on HubSpot
        mock.portal.archive(otype, rec)
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    base = "/crm/v3/objects/{objectType}"
    app.router.add_get(base, list_page)
    app.router.add_post(base, create)
    app.router.add_get(base + "/{objectId}", get_one)
    app.router.add_patch(base + "/{objectId}", update)
    app.router.add_delete(base + "/{objectId}", archive)
