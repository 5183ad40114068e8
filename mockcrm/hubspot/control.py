"""HubSpot-only control routes (next to ``mockcrm.control``'s shared ones): seed, dump, owners,
and the workload generator over the portal.
"""

from __future__ import annotations

import random

import msgspec
from aiohttp import web

from mockcrm.fakedata import FakeData
from mockcrm.hubspot.context import HubSpotMock, Rules
from mockcrm.hubspot.errors import HubSpotError
from mockcrm.hubspot.owners import NewOwner, make_owner
from mockcrm.hubspot.render import record_json
from mockcrm.hubspot.schema import ObjectTypeDef
from mockcrm.workload import WorkloadRunner

SEED_MAX = 1_000_000
_ATTEMPTS = 5


def _custom_values(
    fake: FakeData, mock: HubSpotMock, otype: ObjectTypeDef, count: int | None
) -> dict[str, str]:
    """FakeData knows only the standard objects: fill a custom object's own properties by type."""
    writable = [p for p in mock.portal.schema.props[otype.name].values() if not p.read_only]
    if count is not None:
        writable = writable[:count]
    return {
        p.name: fake.hubspot_value(p.type, [o.value for o in p.options])
        for p in writable
        if p.type != "enumeration" or p.options
    }


def _props(fake: FakeData, mock: HubSpotMock, otype: ObjectTypeDef) -> dict[str, str]:
    if otype.custom:
        return _custom_values(fake, mock, otype, None)
    return fake.hubspot_properties(otype.name)


def _edit(fake: FakeData, mock: HubSpotMock, otype: ObjectTypeDef) -> dict[str, str]:
    if otype.custom:
        return _custom_values(fake, mock, otype, 1)
    return fake.hubspot_update(otype.name)


class SeedRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    object_type: str
    count: int = 0
    seed: int | None = None
    records: list[dict[str, str]] | None = None
    """These exact records (properties) instead of ``count`` generated ones: e.g. the counterparts
    of another system's seeded people, made without an API call each."""


class PortalTarget:
    """``mockcrm.workload.WorkloadTarget`` over the portal: writes go straight to the store (no HTTP)."""

    def __init__(self, mock: HubSpotMock) -> None:
        self._mock = mock

    def _otype(self, object_type: str) -> ObjectTypeDef:
        otype = self._mock.portal.schema.find(object_type)
        if otype is None:  # the runner's contract: unknown types are a ValueError
            raise ValueError(f"no HubSpot object type {object_type!r}")
        return otype

    def create(self, object_type: str, fake: FakeData) -> str | None:
        otype = self._otype(object_type)
        for _ in range(_ATTEMPTS):  # a generated unique value may already exist: draw again
            try:
                return str(self._mock.portal.create_checked(otype, _props(fake, self._mock, otype)).id)
            except HubSpotError:
                continue
        return None

    def update(self, object_type: str, record_id: str, fake: FakeData) -> None:
        portal = self._mock.portal
        otype = self._otype(object_type)
        rec = portal.find(otype, record_id)
        if rec is None:
            return
        values = portal.clean(otype, _edit(fake, self._mock, otype))
        portal.check_unique(otype, values, rec.id)
        portal.update(otype, rec, values)

    def delete(self, object_type: str, record_id: str) -> None:
        portal = self._mock.portal
        otype = self._otype(object_type)
        rec = portal.find(otype, record_id)
        if rec is not None:
            portal.archive(otype, rec)

    def pick_id(self, object_type: str, rng: random.Random) -> str | None:
        otype = self._otype(object_type)
        rec = self._mock.portal.pick(otype, rng)
        return None if rec is None else str(rec.id)


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.json.encode(body), status=status, content_type="application/json")


def add_control_routes(app: web.Application, mock: HubSpotMock) -> None:
    target = PortalTarget(mock)

    async def seed(request: web.Request) -> web.Response:
        try:
            body = msgspec.json.decode(await request.read(), type=SeedRequest)
        except msgspec.DecodeError as exc:
            return _json({"error": f"invalid seed request: {exc}"}, 400)
        otype = mock.portal.schema.find(body.object_type)
        if otype is None or not 0 <= body.count <= SEED_MAX or len(body.records or ()) > SEED_MAX:
            return _json({"error": f"unknown object type {body.object_type!r} or count out of range"}, 400)
        if body.records is not None:
            made: list[str] = []
            for props in body.records:
                try:
                    made.append(str(mock.portal.create_checked(otype, props).id))
                except HubSpotError as exc:
                    return _json({"error": f"record {len(made)}: {exc.message}", "ids": made}, 400)
            return _json({"object_type": otype.name, "created": len(made), "ids": made})
        # Each seed call after the first gets its own email tag, so seeding twice with one seed
        # adds records instead of colliding on the unique contact emails.
        tag = f"r{mock.seed_calls}" if mock.seed_calls else ""
        mock.seed_calls += 1
        fake = FakeData(body.seed, email_tag=tag)
        ids: list[str] = []
        for _ in range(body.count):
            new_id = target.create(otype.name, fake)
            if new_id is None:
                return _json({"error": "could not generate a valid record", "ids": ids}, 400)
            ids.append(new_id)
        return _json({"object_type": otype.name, "created": len(ids), "ids": ids})

    async def dump(request: web.Request) -> web.Response:
        otype = mock.portal.schema.find(request.match_info["object_type"])
        if otype is None:
            return _json({"error": "unknown object type"}, 404)
        store = mock.portal.stores[otype.name]
        return _json([record_json(otype, store.records[i], everything=True) for i in store.ids])

    async def add_owner(request: web.Request) -> web.Response:
        try:
            body = msgspec.json.decode(await request.read(), type=NewOwner)
        except msgspec.DecodeError as exc:
            return _json({"error": f"invalid owner: {exc}"}, 400)
        portal = mock.portal
        owner = make_owner(
            len(portal.owners), body.firstName, body.lastName, body.email, mock.clock.now_ms(), body.archived
        )
        portal.add_owner(owner)
        return _json(owner.to_json(), 201)

    async def get_rules(_: web.Request) -> web.Response:
        return _json(mock.rules)

    async def post_rules(request: web.Request) -> web.Response:
        try:
            mock.rules = msgspec.json.decode(await request.read(), type=Rules)
        except msgspec.DecodeError as exc:
            return _json({"error": f"invalid rules: {exc}"}, 400)
        return _json(mock.rules)

    app.router.add_get("/__mock/rules", get_rules)
    app.router.add_post("/__mock/rules", post_rules)
    app.router.add_post("/__mock/seed", seed)
    app.router.add_get("/__mock/dump/{object_type}", dump)
    app.router.add_post("/__mock/owners", add_owner)
    WorkloadRunner(target).install(app)
