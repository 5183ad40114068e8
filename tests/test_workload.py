"""The workload generator over real HTTP: its routes, rate, mix, seeding, errors and shutdown."""

from __future__ import annotations

import random
import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anyio
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from mockcrm.config import MockEndpoints
from mockcrm.fakedata import FakeData
from mockcrm.workload import WorkloadRunner

TIMEOUT = aiohttp.ClientTimeout(total=20)


class MemoryTarget:
    """A test double of the WorkloadTarget protocol: HubSpot-style records in dicts."""

    def __init__(self, object_types: tuple[str, ...] = ("contacts",)) -> None:
        self.records: dict[str, dict[str, dict[str, str]]] = {t: {} for t in object_types}
        self._ids: dict[str, list[str]] = {t: [] for t in object_types}
        self._next = 0
        self.fail_updates = False

    def _store(self, object_type: str) -> dict[str, dict[str, str]]:
        if object_type not in self.records:
            raise ValueError(f"no such object type {object_type}")
        return self.records[object_type]

    def create(self, object_type: str, fake: FakeData) -> str | None:
        store = self._store(object_type)
        self._next += 1
        record_id = str(self._next)
        store[record_id] = fake.hubspot_properties(object_type)
        self._ids[object_type].append(record_id)
        return record_id

    def update(self, object_type: str, record_id: str, fake: FakeData) -> None:
        if self.fail_updates:
            raise RuntimeError("validation rule rejected the edit")
        self._store(object_type)[record_id].update(fake.hubspot_update(object_type))

    def delete(self, object_type: str, record_id: str) -> None:
        del self._store(object_type)[record_id]
        self._ids[object_type].remove(record_id)

    def pick_id(self, object_type: str, rng: random.Random) -> str | None:
        self._store(object_type)
        ids = self._ids[object_type]
        return ids[int(rng.random() * len(ids))] if ids else None

    def seed(self, object_type: str, n: int) -> None:
        fake = FakeData(99)
        for _ in range(n):
            self.create(object_type, fake)


async def _client(target: MemoryTarget) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application()
    WorkloadRunner(target).install(app)
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.fixture
def target() -> MemoryTarget:
    return MemoryTarget()


@pytest.fixture
async def client(target: MemoryTarget) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async for c in _client(target):
        yield c


async def _call(client: TestClient[Any, Any], method: str, body: object = None) -> tuple[int, Any]:
    resp = await client.request(method, "/__mock/workload", json=body, timeout=TIMEOUT)
    return resp.status, await resp.json()


async def _wait_finished(client: TestClient[Any, Any]) -> dict[str, Any]:
    with anyio.fail_after(20):
        while True:
            status, body = await _call(client, "GET")
            assert status == 200
            if not body["running"]:
                return dict(body)
            await anyio.sleep(0.05)


def _total(status: dict[str, Any]) -> int:
    return sum(status["done"].values())


async def test_status_before_anything_ran(client: TestClient[Any, Any]) -> None:
    status, body = await _call(client, "GET")
    assert status == 200
    assert body == {
        "running": False,
        "spec": None,
        "done": {"create": 0, "update": 0, "delete": 0},
        "errors": 0,
        "skipped": 0,
        "last_error": None,
    }


async def test_start_status_stop_roughly_honours_the_rate(
    client: TestClient[Any, Any], target: MemoryTarget
) -> None:
    with anyio.fail_after(30):
        t0 = anyio.current_time()
        status, body = await _call(client, "POST", {"object_type": "contacts", "rate_per_s": 400, "seed": 1})
        assert status == 200 and body["running"] is True
        assert body["spec"]["object_type"] == "contacts" and body["spec"]["update"] == 0.7
        await anyio.sleep(1.0)
        _, mid = await _call(client, "GET")
        assert mid["running"] is True
        status, stopped = await _call(client, "DELETE")
        elapsed = anyio.current_time() - t0
        assert status == 200 and stopped["running"] is False
        done = _total(stopped) + stopped["skipped"]
        # About 400 in the second slept; never more than the schedule allows for the time elapsed.
        assert 200 <= done <= 400 * elapsed + 1
        assert stopped["errors"] == 0
        assert (
            sum(len(r) for r in target.records.values())
            == stopped["done"]["create"] - stopped["done"]["delete"]
        )
        await anyio.sleep(0.2)
        _, later = await _call(client, "GET")
        assert later["done"] == stopped["done"]  # stopped means stopped


async def test_a_timed_workload_does_exactly_rate_times_duration_at_5000_per_s(
    client: TestClient[Any, Any], target: MemoryTarget
) -> None:
    target.seed("contacts", 100)
    spec = {"object_type": "contacts", "rate_per_s": 5000, "duration_s": 0.6, "seed": 3}
    status, _ = await _call(client, "POST", spec)
    assert status == 200
    final = await _wait_finished(client)
    assert final["skipped"] == 0
    assert _total(final) + final["errors"] == 3000
    assert final["errors"] == 0


async def test_mix_is_honoured(client: TestClient[Any, Any], target: MemoryTarget) -> None:
    target.seed("contacts", 200)
    spec = {
        "object_type": "contacts",
        "rate_per_s": 4000,
        "duration_s": 0.5,
        "create": 0,
        "update": 1,
        "delete": 0,
    }
    await _call(client, "POST", spec)
    only_updates = await _wait_finished(client)
    assert only_updates["done"] == {"create": 0, "update": 2000, "delete": 0}
    assert len(target.records["contacts"]) == 200

    spec = {
        "object_type": "contacts",
        "rate_per_s": 4000,
        "duration_s": 0.5,
        "create": 1,
        "update": 2,
        "delete": 1,
    }
    await _call(client, "POST", spec)
    mixed = (await _wait_finished(client))["done"]
    assert sum(mixed.values()) == 2000
    assert 350 <= mixed["create"] <= 650
    assert 800 <= mixed["update"] <= 1200
    assert 350 <= mixed["delete"] <= 650


async def test_updates_and_deletes_on_an_empty_store_create_instead(
    client: TestClient[Any, Any], target: MemoryTarget
) -> None:
    spec = {
        "object_type": "contacts",
        "rate_per_s": 2000,
        "duration_s": 0.2,
        "create": 0,
        "update": 0,
        "delete": 1,
    }
    await _call(client, "POST", spec)
    final = await _wait_finished(client)
    # Every delete finds the record the previous (fallback) create made: they alternate.
    assert final["done"] == {"create": 200, "update": 0, "delete": 200}
    assert target.records["contacts"] == {}


async def test_same_seed_replays_the_same_changes() -> None:
    results = []
    for _ in range(2):
        target = MemoryTarget()
        target.seed("contacts", 50)
        async for client in _client(target):
            spec = {"object_type": "contacts", "rate_per_s": 3000, "duration_s": 0.3, "seed": 42}
            await _call(client, "POST", spec)
            assert (await _wait_finished(client))["skipped"] == 0
        results.append(target.records)
    assert results[0] == results[1]


async def test_failed_operations_are_counted_and_the_workload_goes_on(
    client: TestClient[Any, Any], target: MemoryTarget
) -> None:
    target.seed("contacts", 20)
    target.fail_updates = True
    spec = {
        "object_type": "contacts",
        "rate_per_s": 2000,
        "duration_s": 0.25,
        "create": 1,
        "update": 1,
        "delete": 0,
    }
    await _call(client, "POST", spec)
    final = await _wait_finished(client)
    assert final["errors"] > 50 and final["done"]["create"] > 50
    assert final["errors"] + final["done"]["create"] == 500
    assert "validation rule rejected the edit" in final["last_error"]


async def test_starting_again_replaces_the_running_workload(client: TestClient[Any, Any]) -> None:
    await _call(client, "POST", {"object_type": "contacts", "rate_per_s": 1000})
    await anyio.sleep(0.2)
    status, body = await _call(client, "POST", {"object_type": "contacts", "rate_per_s": 10, "create": 1})
    assert status == 200
    assert body["spec"]["rate_per_s"] == 10 and _total(body) == 0
    await _call(client, "DELETE")


BAD_SPECS = [
    (b"{not json", "invalid workload"),
    (b"[]", "invalid workload"),
    (b'{"rate_per_s": 10}', "object_type"),
    (b'{"object_type": "contacts", "rate_per_s": 0}', "rate_per_s"),
    (b'{"object_type": "contacts", "rate_per_s": -5}', "rate_per_s"),
    (b'{"object_type": "contacts", "rate_per_s": 1e9}', "rate_per_s"),
    (b'{"object_type": "contacts", "rate_per_s": "fast"}', "rate_per_s"),
    (b'{"object_type": "contacts", "rate_per_s": 10, "duration_s": 0}', "duration_s"),
    (b'{"object_type": "contacts", "rate_per_s": 10, "rate": 5}', "rate"),
    (b'{"object_type": "contacts", "rate_per_s": 10, "update": -1}', "update"),
    (b'{"object_type": "contacts", "rate_per_s": 10, "create": 0, "update": 0, "delete": 0}', "mix"),
    (b'{"object_type": "widgets", "rate_per_s": 10}', "unknown object type"),
]


async def test_bad_spec_is_a_400_and_starts_nothing(client: TestClient[Any, Any]) -> None:
    for body, fragment in BAD_SPECS:
        resp = await client.post("/__mock/workload", data=body, timeout=TIMEOUT)
        assert resp.status == 400, body
        error = (await resp.json())["error"]
        assert fragment in error, (body, error)
    _, status = await _call(client, "GET")
    assert status["running"] is False and status["spec"] is None


async def test_app_shutdown_cancels_a_running_workload(target: MemoryTarget) -> None:
    app = web.Application()
    runner = WorkloadRunner(target)
    runner.install(app)
    with anyio.fail_after(20):
        async with TestClient(TestServer(app)) as client:
            await _call(client, "POST", {"object_type": "contacts", "rate_per_s": 500})
            await anyio.sleep(0.1)
            assert runner.status().running
        assert not runner.status().running
        created = len(target.records["contacts"])
        await anyio.sleep(0.1)
        assert len(target.records["contacts"]) == created


async def _mock_call(
    session: aiohttp.ClientSession, base: str, method: str, path: str, body: object = None
) -> Any:
    async with session.request(method, base + path, json=body, timeout=TIMEOUT) as resp:
        assert resp.status == 200, (path, resp.status, await resp.text())
        return await resp.json()


async def _run_to_end(session: aiohttp.ClientSession, base: str, spec: dict[str, object]) -> dict[str, Any]:
    await _mock_call(session, base, "POST", "/__mock/workload", spec)
    with anyio.fail_after(30):
        while True:
            status = await _mock_call(session, base, "GET", "/__mock/workload")
            if not status["running"]:
                return dict(status)
            await anyio.sleep(0.05)


HUBSPOT_TYPES = ("contacts", "companies", "deals", "tickets", "tasks", "calls", "emails", "meetings", "notes")
SALESFORCE_TYPES = (
    "Contact", "Lead", "Account", "Opportunity", "Case", "Task", "Event", "User", "Campaign",
    "OpportunityContactRole", "CampaignMember",
)  # fmt: skip


async def test_generated_records_pass_the_real_mocks_validation(mocks: MockEndpoints) -> None:
    """Every standard type, created then edited through both servers' own write paths (with the
    Salesforce org's state and country picklists on): no write may be rejected."""
    ctx = ssl.create_default_context(cafile=mocks.ca_file) if mocks.ca_file else None
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx or True)) as session:
        sf, hs = mocks.salesforce_url, mocks.hubspot_url
        await _mock_call(session, sf, "POST", "/__mock/rules", {"state_country_picklists": True})
        for base, types in ((hs, HUBSPOT_TYPES), (sf, SALESFORCE_TYPES)):
            for object_type in types:
                for mix in ({"create": 1, "update": 0, "delete": 0}, {"create": 0, "update": 1, "delete": 0}):
                    spec = {
                        "object_type": object_type,
                        "rate_per_s": 2000,
                        "duration_s": 0.1,
                        "seed": 5,
                        **mix,
                    }
                    final = await _run_to_end(session, base, spec)
                    assert final["errors"] == 0, (object_type, final["last_error"])
                    assert sum(final["done"].values()) == 200, (object_type, final)
                    if mix["create"]:
                        assert final["done"]["create"] == 200
                    else:
                        assert final["done"]["update"] == 200
