"""Associations v4 endpoints: per-record list/create/delete and the batch read/create/archive."""

from __future__ import annotations

from aiohttp import web

from mockcrm.hubspot.batch import envelope
from mockcrm.hubspot.bodies import (
    AssociationTypeIn,
    FetchBatch,
    MultiArchiveBatch,
    PairBatch,
    decode,
    ref_id,
)
from mockcrm.hubspot.context import HubSpotMock, mock_of, query_int
from mockcrm.hubspot.errors import HubSpotError, json_response, not_found, validation
from mockcrm.hubspot.schema import ObjectTypeDef
from mockcrm.hubspot.values import parse_id

READ_MAX, CREATE_MAX = 1_000, 2_000
LIST_MAX = 500


def _types(request: web.Request, src: str, dst: str) -> tuple[ObjectTypeDef, ObjectTypeDef]:
    schema = mock_of(request).portal.schema
    return schema.resolve(request.match_info[src]), schema.resolve(request.match_info[dst])


def _record_id(mock: HubSpotMock, otype: ObjectTypeDef, key: str) -> int:
    rec = mock.portal.find(otype, key)
    if rec is None:
        raise not_found(f"No {otype.singular} with id {key} exists")
    return rec.id


def _type_ids(
    mock: HubSpotMock, src: ObjectTypeDef, dst: ObjectTypeDef, specs: list[AssociationTypeIn]
) -> list[int]:
    store = mock.portal.associations
    out = []
    for spec in specs:
        if not store.valid_type(src.type_id, dst.type_id, spec.association_type_id):
            raise validation(
                f"associationTypeId {spec.association_type_id} is not valid "
                f"from {src.singular} to {dst.singular}"
            )
        out.append(spec.association_type_id)
    return out


def _default_result(
    mock: HubSpotMock, src: ObjectTypeDef, dst: ObjectTypeDef, a: int, b: int
) -> list[dict[str, object]]:
    store = mock.portal.associations
    fwd = store.default_type(src.type_id, dst.type_id)
    store.add((src.type_id, a), (dst.type_id, b), [fwd])
    return [
        {"from": {"id": str(x)}, "to": {"id": str(y)},
         "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": t}}
        for x, y, t in ((a, b, fwd), (b, a, store.types[fwd].inverse))
    ]  # fmt: skip


def _labels(mock: HubSpotMock, src: ObjectTypeDef, dst: ObjectTypeDef, a: int, b: int) -> dict[str, object]:
    pairs = mock.portal.associations.links.get((src.type_id, a), {}).get((dst.type_id, b), set())
    labels = [t.label for t in (mock.portal.associations.types[i] for i in sorted(pairs)) if t.label]
    return {
        "fromObjectTypeId": src.type_id,
        "fromObjectId": a,
        "toObjectTypeId": dst.type_id,
        "toObjectId": b,
        "labels": labels,
    }


async def list_associations(request: web.Request) -> web.Response:
    mock = mock_of(request)
    src, dst = _types(request, "objectType", "toObjectType")
    rec_id = _record_id(mock, src, request.match_info["objectId"])
    limit = query_int(request, "limit", LIST_MAX, 1, LIST_MAX)
    after = request.query.get("after", "")
    found = mock.portal.associations.targets((src.type_id, rec_id), dst.type_id)
    start = parse_id(after)
    if start is not None:
        found = [f for f in found if f[0] >= start]
    body: dict[str, object] = {
        "results": [
            {"toObjectId": to_id, "associationTypes": [mock.portal.associations.spec(t) for t in types]}
            for to_id, types in found[:limit]
        ]
    }
    if len(found) > limit:
        body["paging"] = {"next": {"after": str(found[limit][0])}}
    return json_response(body)


async def put_default(request: web.Request) -> web.Response:
    mock = mock_of(request)
    src, dst = _types(request, "fromObjectType", "toObjectType")
    a = _record_id(mock, src, request.match_info["fromObjectId"])
    b = _record_id(mock, dst, request.match_info["toObjectId"])
    results = _default_result(mock, src, dst, a, b)
    return json_response(envelope(mock.clock.now_ms(), results, []))


async def put_labelled(request: web.Request) -> web.Response:
    mock = mock_of(request)
    src, dst = _types(request, "objectType", "toObjectType")
    a = _record_id(mock, src, request.match_info["objectId"])
    b = _record_id(mock, dst, request.match_info["toObjectId"])
    specs = decode(await request.read(), list[AssociationTypeIn])
    mock.portal.associations.add((src.type_id, a), (dst.type_id, b), _type_ids(mock, src, dst, specs))
    return json_response(_labels(mock, src, dst, a, b), status=201)


async def delete_pair(request: web.Request) -> web.Response:
    mock = mock_of(request)
    src, dst = _types(request, "objectType", "toObjectType")
    a, b = parse_id(request.match_info["objectId"]), parse_id(request.match_info["toObjectId"])
    if a is not None and b is not None:
        mock.portal.associations.remove((src.type_id, a), (dst.type_id, b))
    return web.Response(status=204)


def _too_many(count: int, limit: int) -> None:
    if count > limit:
        raise validation(f"Batch input limit exceeded: got {count} inputs, the maximum is {limit}")


async def batch_read(request: web.Request) -> web.Response:
    mock = mock_of(request)
    src, dst = _types(request, "fromObjectType", "toObjectType")
    body = decode(await request.read(), FetchBatch)
    _too_many(len(body.inputs), READ_MAX)
    results: list[dict[str, object]] = []
    missing: list[str] = []
    for item in body.inputs:
        key = ref_id(item.id)
        found = (
            mock.portal.associations.targets((src.type_id, rid), dst.type_id)
            if (rid := parse_id(key)) is not None
            else []
        )
        if not found:
            missing.append(key)
            continue
        to = [
            {"toObjectId": to_id, "associationTypes": [mock.portal.associations.spec(t) for t in types]}
            for to_id, types in found
        ]
        results.append({"from": {"id": key}, "to": to})
    errors: list[dict[str, object]] = []
    if missing:
        err = HubSpotError(
            404,
            "OBJECT_NOT_FOUND",
            f"No {dst.singular} is associated with {src.singular} {', '.join(missing)}.",
            context={"fromObjectId": missing},
            sub_category="crm.associations.NO_ASSOCIATIONS_FOUND",
        )
        entry = err.batch_item()
        entry["subCategory"] = err.sub_category
        errors.append(entry)
    return json_response(envelope(mock.clock.now_ms(), results, errors), status=207 if errors else 200)


async def batch_create(request: web.Request) -> web.Response:
    mock = mock_of(request)
    src, dst = _types(request, "fromObjectType", "toObjectType")
    body = decode(await request.read(), PairBatch)
    _too_many(len(body.inputs), CREATE_MAX)
    results, errors = [], []
    for item in body.inputs:
        try:
            a = _record_id(mock, src, ref_id(item.from_.id))
            b = _record_id(mock, dst, ref_id(item.to.id))
            type_ids = _type_ids(mock, src, dst, item.types)
        except HubSpotError as exc:
            errors.append(exc.batch_item())
            continue
        mock.portal.associations.add((src.type_id, a), (dst.type_id, b), type_ids)
        results.append(_labels(mock, src, dst, a, b))
    return json_response(envelope(mock.clock.now_ms(), results, errors), status=207 if errors else 201)


async def batch_default(request: web.Request) -> web.Response:
    mock = mock_of(request)
    src, dst = _types(request, "fromObjectType", "toObjectType")
    body = decode(await request.read(), PairBatch)
    _too_many(len(body.inputs), CREATE_MAX)
    results: list[dict[str, object]] = []
    errors = []
    for item in body.inputs:
        try:
            a = _record_id(mock, src, ref_id(item.from_.id))
            b = _record_id(mock, dst, ref_id(item.to.id))
        except HubSpotError as exc:
            errors.append(exc.batch_item())
            continue
        results.extend(_default_result(mock, src, dst, a, b))
    return json_response(envelope(mock.clock.now_ms(), results, errors), status=207 if errors else 200)


async def batch_archive(request: web.Request) -> web.Response:
    mock = mock_of(request)
    src, dst = _types(request, "fromObjectType", "toObjectType")
    body = decode(await request.read(), MultiArchiveBatch)
    _too_many(len(body.inputs), CREATE_MAX)
    for item in body.inputs:
        a = parse_id(ref_id(item.from_.id))
        for to in item.to:
            b = parse_id(ref_id(to.id))
            if a is not None and b is not None:
                mock.portal.associations.remove((src.type_id, a), (dst.type_id, b))
    return web.Response(status=204)


async def batch_archive_labels(request: web.Request) -> web.Response:
    mock = mock_of(request)
    src, dst = _types(request, "fromObjectType", "toObjectType")
    body = decode(await request.read(), PairBatch)
    _too_many(len(body.inputs), CREATE_MAX)
    for item in body.inputs:
        a, b = parse_id(ref_id(item.from_.id)), parse_id(ref_id(item.to.id))
        if a is not None and b is not None:
            type_ids = [t.association_type_id for t in item.types]
            mock.portal.associations.remove((src.type_id, a), (dst.type_id, b), type_ids)
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    obj = "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}"
    app.router.add_get(obj, list_associations)
    app.router.add_put(obj + "/{toObjectId}", put_labelled)
    app.router.add_delete(obj + "/{toObjectId}", delete_pair)
    app.router.add_put(
        "/crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/default/{toObjectType}/{toObjectId}",
        put_default,
    )
    batch = "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/"
    app.router.add_post(batch + "read", batch_read)
    app.router.add_post(batch + "create", batch_create)
    app.router.add_post(batch + "associate/default", batch_default)
    app.router.add_post(batch + "archive", batch_archive)
    app.router.add_post(batch + "labels/archive", batch_archive_labels)
