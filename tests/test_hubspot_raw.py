"""Bad input over raw HTTP (aiohttp, mocks in the test's loop): always HubSpot's error shape, never a
500 or a hang. Also the control plane: seed, dump, reset, workload."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from mockcrm.config import MockEndpoints

TIMEOUT = aiohttp.ClientTimeout(total=30)


@pytest.fixture
async def http(mocks: MockEndpoints) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bearer {mocks.hubspot_token}"}
    async with aiohttp.ClientSession(mocks.hubspot_url, headers=headers, timeout=TIMEOUT) as session:
        yield session


async def send(http: aiohttp.ClientSession, method: str, path: str, data: bytes | None = None,
               json: object = None) -> tuple[int, Any]:  # fmt: skip
    headers = {"Content-Type": "application/json"}
    async with http.request(method, path, data=data, json=json, headers=headers) as resp:
        body: Any = await resp.json(content_type=None) if resp.status != 204 else None
        if resp.status >= 400 and not path.startswith("/__mock/"):  # the control plane has its own shape
            assert resp.headers["Content-Type"] == "application/json;charset=utf-8"
            assert body["status"] == "error" and body["correlationId"] and body["category"]
            assert resp.headers["X-HubSpot-Correlation-Id"] == body["correlationId"]
        return resp.status, body


# Async tests loop over their cases: the anyio marker added in conftest does not mix with parametrize.
BAD_BODIES = [
    ("/crm/v3/objects/contacts", b"{not json"),
    ("/crm/v3/objects/contacts", b""),
    ("/crm/v3/objects/contacts", b'{"properties": "email"}'),
    ("/crm/v3/objects/contacts", b'{"properties": {"email": {"nested": 1}}}'),
    ("/crm/v3/objects/contacts", b"[1, 2, 3]"),
    ("/crm/v3/objects/contacts/batch/create", b'{"inputs": {"properties": {}}}'),
    ("/crm/v3/objects/contacts/batch/read", b'{"inputs": [{"id": null}]}'),
    ("/crm/v3/objects/contacts/batch/upsert", b'{"inputs": [{"id": "x", "properties": {}}]}'),
    ("/crm/v3/objects/contacts/search", b'{"limit": "ten"}'),
    ("/crm/v3/objects/contacts/search", b'{"filterGroups": [{"filters": [{"operator": "EQ"}]}]}'),
    (
        "/crm/v3/objects/contacts/search",
        b'{"filterGroups": [{"filters": [{"propertyName": "email", "operator": "WITHIN"}]}]}',
    ),
    ("/crm/v3/objects/contacts/search", b'{"sorts": [42]}'),
    ("/crm/v3/properties/contacts", b'{"name": "x"}'),
    ("/crm/v4/associations/contacts/deals/batch/create", b'{"inputs": [{"to": {"id": "1"}}]}'),
    ("/crm/v3/schemas", b'{"name": 5}'),
]


async def test_malformed_and_mistyped_bodies_get_400(http: aiohttp.ClientSession) -> None:
    for path, payload in BAD_BODIES:
        status, body = await send(http, "POST", path, data=payload)
        assert (status, body["category"]) == (400, "VALIDATION_ERROR"), (path, payload)


async def test_more_than_100_batch_inputs(http: aiohttp.ClientSession) -> None:
    inputs = [{"id": str(i), "idProperty": "email", "properties": {}} for i in range(101)]
    for op in ("read", "create", "update", "upsert", "archive"):
        status, body = await send(
            http, "POST", f"/crm/v3/objects/contacts/batch/{op}", json={"inputs": inputs}
        )
        assert status == 400 and body["category"] == "VALIDATION_ERROR" and "100" in body["message"], op


async def test_huge_body_is_413_in_hubspot_shape(http: aiohttp.ClientSession) -> None:
    huge = b'{"properties": {"firstname": "' + b"x" * (9 * 1024 * 1024) + b'"}}'
    status, body = await send(http, "POST", "/crm/v3/objects/contacts", data=huge)
    assert status == 413 and body["category"] == "VALIDATION_ERROR"


async def test_unknown_routes_ids_and_methods(http: aiohttp.ClientSession) -> None:
    assert (await send(http, "GET", "/crm/v3/nothing/here"))[0] == 404
    status, body = await send(http, "GET", "/crm/v3/objects/contacts/not-a-number")
    assert status == 404 and body["category"] == "OBJECT_NOT_FOUND"
    assert (await send(http, "PUT", "/crm/v3/objects/contacts"))[0] == 405
    assert (await send(http, "GET", "/crm/v3/objects/contacts?limit=abc"))[0] == 400
    assert (await send(http, "GET", "/crm/v3/objects/contacts?after=xyz"))[0] == 400
    assert (await send(http, "PATCH", "/crm/v3/objects/contacts/1", json={"properties": {}}))[0] == 404


async def test_long_string_value_is_rejected(http: aiohttp.ClientSession) -> None:
    body = {"properties": {"firstname": "x" * 70_000}}
    status, err = await send(http, "POST", "/crm/v3/objects/contacts", json=body)
    assert status == 400 and err["errors"][0]["code"] == "INVALID_LENGTH"


async def test_seed_dump_reset_are_reproducible(http: aiohttp.ClientSession) -> None:
    async def seeded() -> list[str]:
        status, out = await send(
            http, "POST", "/__mock/seed", json={"object_type": "contacts", "count": 20, "seed": 3}
        )
        assert status == 200 and out["created"] == 20
        status, dump = await send(http, "GET", "/__mock/dump/contacts")
        assert status == 200 and all(r["archived"] is False for r in dump)
        return [r["properties"]["email"] for r in dump]

    first = await seeded()
    assert len(set(first)) == 20
    assert (await send(http, "DELETE", f"/crm/v3/objects/contacts/{10_001}"))[0] == 204
    _, dump = await send(http, "GET", "/__mock/dump/contacts")
    assert [r["archived"] for r in dump].count(True) == 1  # the dump includes archived records
    _, stats = await send(http, "GET", "/__mock/stats")
    assert stats["records"]["contacts"] == 19
    assert (await send(http, "POST", "/__mock/reset"))[0] == 200
    _, stats = await send(http, "GET", "/__mock/stats")
    assert stats["records"]["contacts"] == 0 and stats["api_calls"] == 0
    assert await seeded() == first


async def test_workload_generator_changes_records(http: aiohttp.ClientSession) -> None:
    spec = {"object_type": "companies", "rate_per_s": 400, "duration_s": 0.25, "seed": 5}
    status, _ = await send(http, "POST", "/__mock/workload", json=spec)
    assert status == 200
    for _ in range(100):
        status, state = await send(http, "GET", "/__mock/workload")
        if not state["running"]:
            break
        await asyncio.sleep(0.05)
    assert state["running"] is False and sum(state["done"].values()) > 0 and state["errors"] == 0
    _, stats = await send(http, "GET", "/__mock/stats")
    assert stats["records"]["companies"] > 0 and stats["api_calls"] == 0  # no HTTP, no API calls
    status, _ = await send(
        http, "POST", "/__mock/workload", json={"object_type": "spaceships", "rate_per_s": 1}
    )
    assert status == 400


async def test_odd_ids_and_offsets_never_crash(http: aiohttp.ClientSession) -> None:
    long_digits = "9" * 5_000  # int() refuses this many digits
    for path in (
        f"/crm/v3/objects/contacts/{long_digits}",
        "/crm/v3/objects/contacts/%C2%B2",  # "²" is a digit to str.isdigit, not to int()
        f"/crm/v3/objects/contacts?after={long_digits}",
        f"/crm/v4/objects/contacts/{long_digits}/associations/deals",
        f"/crm/v3/owners?after={long_digits}",
    ):
        status, _ = await send(http, "GET", path)
        assert status in (400, 404), path
    search = {
        "filterGroups": [
            {"filters": [{"propertyName": "associations.contact", "operator": "EQ", "value": "x"}]}
        ]
    }
    assert (await send(http, "POST", "/crm/v3/objects/deals/search", json=search))[0] == 400
    assert (await send(http, "POST", "/crm/v3/objects/deals/search", json={"after": long_digits}))[0] == 400
    big = {"inputs": [{"id": long_digits}, {"id": "٣"}]}
    status, body = await send(http, "POST", "/crm/v3/objects/contacts/batch/read", json=big)
    assert status == 207 and body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert (await send(http, "POST", "/crm/v3/objects/contacts/batch/archive", json=big))[0] == 204
    flt = {"propertyName": "closedate", "operator": "GT", "value": long_digits}
    assert (
        await send(http, "POST", "/crm/v3/objects/deals/search", json={"filterGroups": [{"filters": [flt]}]})
    )[0] == 400
    status, err = await send(
        http, "POST", "/crm/v3/objects/deals", json={"properties": {"closedate": long_digits}}
    )
    assert status == 400 and err["errors"][0]["code"] == "INVALID_DATETIME"


async def test_out_of_range_timestamps_are_validation_errors(http: aiohttp.ClientSession) -> None:
    for value in ("99999999999999999", "0001-01-01T00:00:00Z", "x" * 1_000):
        status, err = await send(
            http, "POST", "/crm/v3/objects/deals", json={"properties": {"closedate": value}}
        )
        assert status == 400 and err["errors"][0]["code"] == "INVALID_DATETIME", value
