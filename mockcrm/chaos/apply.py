"""Performing a history's rounds on the mocks, and reading back what they hold.

Every write and read here goes through the mocks' control plane (``/__mock/write``,
``/__mock/dump``): never counted as an API call, never rate limited, never faulted. So the mocks'
own call counters (``/__mock/stats``) are the engine's calls alone, and a round applies exactly
even while a test injects faults into the API.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import anyio
import msgspec

from mockcrm.chaos.history import (
    History,
    HsCreate,
    HsDelete,
    HsEdit,
    Op,
    Person,
    SfConvert,
    SfCreate,
    SfDelete,
    SfEdit,
)
from mockcrm.config import MockEndpoints

HS_MARKER_PROPERTY = "message"
"""The unmapped HubSpot property that names a person without email (``Person.marker``)."""


class ApplyError(RuntimeError):
    """A mock refused one of the history's writes (a bug in the generator or in the mock)."""


def _email(value: object) -> str:
    return str(value or "").strip().lower()


class Snapshot(msgspec.Struct):
    """Both mocks' contact records at one moment: HubSpot contacts (live and archived) and
    Salesforce Contacts and Leads (deleted ones included, ``IsDeleted`` true)."""

    hubspot: list[dict[str, Any]]
    salesforce: dict[str, list[dict[str, Any]]]

    def hs_live(self) -> list[dict[str, Any]]:
        return [r for r in self.hubspot if not r.get("archived")]

    def hs_of(self, person: Person) -> list[dict[str, Any]]:
        """The person's live HubSpot contacts (more than one would be a duplicate)."""
        if person.email is None:
            return [r for r in self.hs_live() if r["properties"].get(HS_MARKER_PROPERTY) == person.marker]
        return [r for r in self.hs_live() if _email(r["properties"].get("email")) == _email(person.email)]

    def sf_of(self, person: Person, sobject: str) -> list[dict[str, Any]]:
        """The person's records of ``sobject`` in creation order, deleted ones included (ids from
        one counter sort in creation order)."""
        if person.email is None:
            return []
        mine = [r for r in self.salesforce[sobject] if _email(r.get("Email")) == _email(person.email)]
        return sorted(mine, key=lambda r: str(r["Id"]))


class MockClient:
    """The control plane of both mocks, over one aiohttp session."""

    def __init__(self, ep: MockEndpoints, session: aiohttp.ClientSession) -> None:
        self.ep = ep
        self.session = session
        self._ssl: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=ep.ca_file) if ep.ca_file else True
        )

    async def _call(self, method: str, url: str, body: object = None) -> Any:
        is_sf = url.startswith(self.ep.salesforce_url)
        async with self.session.request(
            method, url, json=body, ssl=self._ssl if is_sf else True, timeout=aiohttp.ClientTimeout(total=60)
        ) as r:
            data = await r.read()
            if r.status >= 300:
                raise ApplyError(f"{method} {url.rpartition('/__mock/')[2]}: {r.status} {data[:300]!r}")
            return msgspec.json.decode(data) if data else None

    async def hs_write(self, action: str, record_id: str | None, props: dict[str, str | None]) -> str:
        body = {"action": action, "id": record_id, "properties": {k: v or "" for k, v in props.items()}}
        return str((await self._call("POST", self.ep.hubspot_url + "/__mock/write", body))["id"])

    async def sf_write(self, action: str, sobject: str, record_id: str | None, fields: dict[str, Any]) -> str:
        body = {"action": action, "sobject": sobject, "id": record_id, "fields": fields}
        return str((await self._call("POST", self.ep.salesforce_url + "/__mock/write", body))["id"])

    async def convert_lead(self, lead_id: str) -> None:
        await self._call("POST", self.ep.salesforce_url + "/__mock/convert-lead", {"lead_id": lead_id})

    async def snapshot(self) -> Snapshot:
        hubspot = await self._call("GET", self.ep.hubspot_url + "/__mock/dump/contacts")
        salesforce = {
            s: (await self._call("GET", self.ep.salesforce_url + f"/__mock/dump/{s}"))["records"]
            for s in ("Contact", "Lead")
        }
        return Snapshot(hubspot=list(hubspot), salesforce=salesforce)

    async def salesforce_now_ms(self) -> int:
        return int((await self._call("GET", self.ep.salesforce_url + "/__mock/clock"))["now_ms"])


@asynccontextmanager
async def mock_client(ep: MockEndpoints) -> AsyncIterator[MockClient]:
    async with aiohttp.ClientSession() as session:
        yield MockClient(ep, session)


async def apply_round(history: History, round_index: int, endpoints: MockEndpoints) -> None:
    """Perform round ``round_index`` of ``history`` on the mocks (control plane only: no API call
    is counted, no fault applies). Safe to run while the engine runs; see ``mockcrm.chaos`` for
    what the runner must guarantee between rounds."""
    rnd = history.rounds[round_index]
    async with mock_client(endpoints) as client:
        if rnd.fresh_second:
            await _next_second(client)
        # People were settled at the end of the last round, and each is touched once per round,
        # so ids looked up now stay right for the whole round.
        snap = await client.snapshot()
        for op in rnd.ops:
            await _apply(client, snap, history.people[op.person], op)


async def _next_second(client: MockClient) -> None:
    """Wait until Salesforce's clock (whole-second stamps) is in a second later than now."""
    start = await client.salesforce_now_ms()
    for _ in range(100):  # the mock's clock is wall time plus an offset: one sleep nearly always does
        now = await client.salesforce_now_ms()
        if now // 1000 > start // 1000:
            return
        await anyio.sleep((1000 - now % 1000 + 20) / 1000)
    raise ApplyError("the Salesforce mock's clock did not move on")


def _one(records: list[dict[str, Any]], what: str) -> dict[str, Any]:
    if len(records) != 1:
        raise ApplyError(f"expected one {what}, found {len(records)}")
    return records[0]


async def _apply(client: MockClient, snap: Snapshot, person: Person, op: Op) -> None:
    if isinstance(op, HsCreate):
        await client.hs_write("create", None, dict(op.values))
    elif isinstance(op, HsEdit | HsDelete):
        rec = _one(snap.hs_of(person), f"live HubSpot contact of person {person.index}")
        if isinstance(op, HsEdit):
            await client.hs_write("update", str(rec["id"]), dict(op.values))
        else:
            await client.hs_write("delete", str(rec["id"]), {})
    elif isinstance(op, SfCreate):
        await client.sf_write("create", op.sobject, None, dict(op.values))
    elif isinstance(op, SfConvert):
        leads = snap.sf_of(person, "Lead")
        if op.nth >= len(leads):
            raise ApplyError(f"person {person.index} has {len(leads)} Leads, not {op.nth + 1}")
        await client.convert_lead(str(leads[op.nth]["Id"]))
    else:
        records = snap.sf_of(person, op.sobject)
        if op.nth >= len(records):
            raise ApplyError(f"person {person.index} has {len(records)} {op.sobject}s, not {op.nth + 1}")
        sf_id = str(records[op.nth]["Id"])
        if isinstance(op, SfEdit):
            await client.sf_write("update", op.sobject, sf_id, dict(op.values))
        else:
            assert isinstance(op, SfDelete)
            await client.sf_write("delete", op.sobject, sf_id, {})
