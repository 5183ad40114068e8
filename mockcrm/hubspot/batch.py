"""Batch endpoints: read, create, update, upsert, archive (at most 100 inputs each).

Writes validate every input first and apply afterwards, all stamped with one timestamp. When every
input carries an ``objectWriteTraceId`` a bad input only fails itself (207 multi-status, as HubSpot
documents); otherwise the first bad input fails the whole batch and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from aiohttp import web

from mockcrm.hubspot.bodies import BatchArchive, BatchCreate, BatchRead, BatchUpdate, decode, ref_id
from mockcrm.hubspot.context import HubSpotMock, mock_of, query_bool
from mockcrm.hubspot.errors import HubSpotError, json_response, validation
from mockcrm.hubspot.objects import apply_associations, check_associations, object_type
from mockcrm.hubspot.render import record_json, value_of, written_json
from mockcrm.hubspot.schema import ObjectTypeDef
from mockcrm.hubspot.store import Record
from mockcrm.hubspot.values import iso_of, parse_id

BATCH_MAX = 100
In = TypeVar("In")
P = TypeVar("P")


def check_size(inputs: Sequence[object]) -> None:
    if len(inputs) > BATCH_MAX:
        raise validation(
            f"Batch input limit exceeded: got {len(inputs)} inputs, the maximum is {BATCH_MAX}",
            context={"maxInputs": [str(BATCH_MAX)]},
        )


def envelope(
    started_ms: int, results: list[dict[str, object]], errors: list[dict[str, object]]
) -> dict[str, object]:
    body: dict[str, object] = {"status": "COMPLETE", "results": results}
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    body["startedAt"] = iso_of(started_ms)
    body["completedAt"] = iso_of(started_ms)
    return body


def plan_all(
    inputs: Sequence[In], traces: Sequence[str | None], plan: Callable[[In], P]
) -> tuple[list[P], list[dict[str, object]]]:
    """Run ``plan`` over inputs; per-input errors only when every input carries a trace id."""
    partial = bool(inputs) and all(traces)
    planned: list[P] = []
    errors: list[dict[str, object]] = []
    for item, trace in zip(inputs, traces, strict=True):
        try:
            planned.append(plan(item))
        except HubSpotError as exc:
            if not partial:
                raise
            exc.context = {**(exc.context or {}), "objectWriteTraceId": [trace or ""]}
            errors.append(exc.batch_item())
    return planned, errors


class UniqueClaims:
    """Unique values claimed by earlier inputs of the same batch."""

    def __init__(self, mock: HubSpotMock, otype: ObjectTypeDef) -> None:
        self._unique = tuple(mock.portal.stores[otype.name].unique)
        self._claimed: dict[tuple[str, str], int] = {}

    def claim(self, values: dict[str, str], owner: int) -> None:
        for prop in self._unique:
            value = values.get(prop)
            if value:
                other = self._claimed.setdefault((prop, value.lower()), owner)
                if other != owner:
                    raise validation(f"Duplicate value {value!r} for unique property {prop!r} in batch input")


async def batch_read(request: web.Request) -> web.Response:
    mock = mock_of(request)
    otype = object_type(request)
    body = decode(await request.read(), BatchRead)
    check_size(body.inputs)
    archived = query_bool(request, "archived")
    requested = body.properties or None
    known = mock.portal.schema.props[otype.name]
    store = mock.portal.stores[otype.name]
    results: list[dict[str, object]] = []
    missing: list[str] = []
    for item in body.inputs:
        key = ref_id(item.id)
        rec: Record | None
        if archived and not body.id_property and (rid := parse_id(key)) is not None:
            found = store.records.get(rid)
            rec = found if found is not None and found.archived else None
        else:
            rec = mock.portal.find(otype, key, body.id_property)
        if rec is None:
            missing.append(key)
        else:
            results.append(record_json(otype, rec, requested, known=known))
    errors: list[dict[str, object]] = []
    if missing:
        errors.append(_not_found(otype, missing))
    return json_response(envelope(mock.clock.now_ms(), results, errors), status=207 if errors else 200)


def _not_found(otype: ObjectTypeDef, ids: list[str]) -> dict[str, object]:
    return HubSpotError(
        404,
        "OBJECT_NOT_FOUND",
        f"Could not get some {otype.upper} objects, they may be deleted or not exist. "
        "Check that ids are valid.",
        context={"ids": ids},
    ).batch_item()


async def batch_create(request: web.Request) -> web.Response:
    mock = mock_of(request)
    otype = object_type(request)
    body = decode(await request.read(), BatchCreate)
    check_size(body.inputs)
    portal = mock.portal
    claims = UniqueClaims(mock, otype)

    def plan(index: int) -> tuple[dict[str, str], int]:
        item = body.inputs[index]
        values = portal.clean(otype, item.properties)
        portal.require(otype, values)
        portal.check_unique(otype, values, None)
        claims.claim(values, -1 - index)
        check_associations(mock, otype, item.associations)
        return values, index

    planned, errors = plan_all(
        list(range(len(body.inputs))), [i.object_write_trace_id for i in body.inputs], plan
    )
    ms = mock.clock.now_ms()
    results = []
    for values, index in planned:
        rec = portal.create(otype, values, ms)
        if body.inputs[index].associations:
            apply_associations(mock, otype, rec, body.inputs[index].associations)
        results.append(record_json(otype, rec, everything=True))
    return json_response(envelope(ms, results, errors), status=207 if errors else 201)


async def batch_update(request: web.Request) -> web.Response:
    mock = mock_of(request)
    otype = object_type(request)
    body = decode(await request.read(), BatchUpdate)
    check_size(body.inputs)
    keys = [ref_id(i.id) for i in body.inputs]
    dupes = sorted({k for k in keys if keys.count(k) > 1}) if len(set(keys)) != len(keys) else []
    if dupes:
        raise validation(f"Duplicate IDs found in batch input: {dupes}. IDs must be unique")
    portal = mock.portal
    claims = UniqueClaims(mock, otype)
    missing: list[str] = []

    def plan(index: int) -> tuple[Record, dict[str, str]] | None:
        item = body.inputs[index]
        rec = portal.find(otype, keys[index], item.id_property)
        if rec is None:
            missing.append(keys[index])
            return None
        values = portal.clean(otype, item.properties)
        portal.check_unique(otype, values, rec.id)
        claims.claim(values, rec.id)
        return rec, values

    planned, errors = plan_all(
        list(range(len(body.inputs))), [i.object_write_trace_id for i in body.inputs], plan
    )
    ms = mock.clock.now_ms()
    results = []
    for step in planned:
        if step is not None:
            portal.update(otype, step[0], step[1], ms)
            # As recorded from HubSpot: an update answers with the written and computed properties.
            results.append(written_json(otype, step[0], step[1]))
    if missing:
        errors.append(_not_found(otype, missing))
    return json_response(envelope(ms, results, errors), status=207 if errors else 200)


async def batch_upsert(request: web.Request) -> web.Response:
    mock = mock_of(request)
    otype = object_type(request)
    body = decode(await request.read(), BatchUpdate)
    check_size(body.inputs)
    portal = mock.portal
    claims = UniqueClaims(mock, otype)

    def plan(index: int) -> tuple[Record | None, dict[str, str], str]:
        item = body.inputs[index]
        id_property = item.id_property
        if not id_property:
            raise validation("idProperty is required for every upsert input")
        key = ref_id(item.id)
        rec = portal.find(otype, key, id_property)
        raw = dict(item.properties)
        if rec is None:
            if id_property in ("hs_object_id", "id"):
                raise HubSpotError(404, "OBJECT_NOT_FOUND", f"No {otype.singular} with id {key} to update")
            raw[id_property] = key
        values = portal.clean(otype, raw)
        if rec is None:
            portal.require(otype, values)
        portal.check_unique(otype, values, rec.id if rec is not None else None)
        claims.claim(values, rec.id if rec is not None else -1 - index)
        return rec, values, id_property

    planned, errors = plan_all(
        list(range(len(body.inputs))), [i.object_write_trace_id for i in body.inputs], plan
    )
    ms = mock.clock.now_ms()
    results = []
    for rec, values, id_property in planned:
        is_new = rec is None
        if rec is None:
            rec = portal.create(otype, values, ms)
        else:
            portal.update(otype, rec, values, ms)
        if is_new:
            result = record_json(otype, rec, everything=True)
        else:  # the written properties, and the one the record was matched on
            result = written_json(otype, rec, values)
            props = result["properties"]
            assert isinstance(props, dict)
            props[id_property] = value_of(otype, rec, id_property)
        result["new"] = is_new
        results.append(result)
    return json_response(envelope(ms, results, errors), status=207 if errors else 200)


async def batch_archive(request: web.Request) -> web.Response:
    mock = mock_of(request)
    otype = object_type(request)
    body = decode(await request.read(), BatchArchive)
    check_size(body.inputs)
    for item in body.inputs:
        key = ref_id(item.id)
        rec = mock.portal.find(otype, key)
        if rec is not None:
            mock.portal.archive(otype, rec)
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    base = "/crm/v3/objects/{objectType}/batch/"
    app.router.add_post(base + "read", batch_read)
    app.router.add_post(base + "create", batch_create)
    app.router.add_post(base + "update", batch_update)
    app.router.add_post(base + "upsert", batch_upsert)
    app.router.add_post(base + "archive", batch_archive)
