"""A test's hands on both mock CRMs: their real APIs over loopback (plus the /__mock/ dumps)."""

from __future__ import annotations

import itertools
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import msgspec

from engine.settings import (
    ContactsSettings,
    HubSpotSettings,
    SalesforceSettings,
    Settings,
    StateSettings,
    TuningSettings,
)
from mockcrm.config import MockEndpoints

SF = "/services/data/v59.0"


def engine_settings(ep: MockEndpoints, state: Path, **contacts: Any) -> Settings:
    return Settings(
        hubspot=HubSpotSettings(base_url=ep.hubspot_url, token=ep.hubspot_token, daily_api_allotment=100_000),
        salesforce=SalesforceSettings(
            instance_url=ep.salesforce_url,
            token=ep.salesforce_token,
            ca_file=ep.ca_file,
            daily_api_allotment=100_000,
        ),
        state=StateSettings(path=str(state)),
        contacts=ContactsSettings(**contacts),
        tuning=TuningSettings(batch_linger_ms=5, poll_interval_s=0.2),
    )


class Crms:
    def __init__(self, ep: MockEndpoints, session: aiohttp.ClientSession) -> None:
        self.ep = ep
        self.s = session
        self._ssl: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=ep.ca_file) if ep.ca_file else True
        )
        self._hs = {"Authorization": f"Bearer {ep.hubspot_token}"}
        self._sf = {"Authorization": f"Bearer {ep.salesforce_token}"}

    async def _hs_call(self, method: str, path: str, body: object = None) -> Any:
        async with self.s.request(method, self.ep.hubspot_url + path, json=body, headers=self._hs) as r:
            data = await r.read()
            assert r.status < 300, f"{method} {path}: {r.status} {data[:300]!r}"
            return msgspec.json.decode(data) if data else None

    async def _sf_call(self, method: str, path: str, body: object = None) -> Any:
        async with self.s.request(
            method, self.ep.salesforce_url + SF + path, json=body, headers=self._sf, ssl=self._ssl
        ) as r:
            data = await r.read()
            assert r.status < 300, f"{method} {path}: {r.status} {data[:300]!r}"
            return msgspec.json.decode(data) if data else None

    async def hs_create(self, **props: str) -> str:
        return str((await self._hs_call("POST", "/crm/v3/objects/contacts", {"properties": props}))["id"])

    async def hs_update(self, hs_id: str, **props: str) -> None:
        await self._hs_call("PATCH", f"/crm/v3/objects/contacts/{hs_id}", {"properties": props})

    async def hs_delete(self, hs_id: str) -> None:
        await self._hs_call("DELETE", f"/crm/v3/objects/contacts/{hs_id}")

    async def sf_delete(self, sobject: str, sf_id: str) -> None:
        await self._sf_call("DELETE", f"/sobjects/{sobject}/{sf_id}")

    async def hs_get(self, hs_id: str, *props: str) -> dict[str, Any]:
        q = "&".join(f"properties={p}" for p in props)
        return dict((await self._hs_call("GET", f"/crm/v3/objects/contacts/{hs_id}?{q}"))["properties"])

    async def hs_all(self) -> list[dict[str, Any]]:
        async with self.s.get(self.ep.hubspot_url + "/__mock/dump/contacts") as r:
            return list(msgspec.json.decode(await r.read()))

    async def sf_create(self, sobject: str, **fields: Any) -> str:
        return str((await self._sf_call("POST", f"/sobjects/{sobject}/", fields))["id"])

    async def sf_update(self, sobject: str, sf_id: str, **fields: Any) -> None:
        await self._sf_call("PATCH", f"/sobjects/{sobject}/{sf_id}", fields)

    async def sf_get(self, sobject: str, sf_id: str) -> dict[str, Any]:
        return dict(await self._sf_call("GET", f"/sobjects/{sobject}/{sf_id}"))

    async def sf_all(self, sobject: str) -> list[dict[str, Any]]:
        async with self.s.get(self.ep.salesforce_url + f"/__mock/dump/{sobject}", ssl=self._ssl) as r:
            return [rec for rec in msgspec.json.decode(await r.read())["records"] if not rec.get("IsDeleted")]

    async def calls(self) -> tuple[dict[str, Any], dict[str, Any]]:
        async with self.s.get(self.ep.hubspot_url + "/__mock/stats") as r:
            hs = msgspec.json.decode(await r.read())
        async with self.s.get(self.ep.salesforce_url + "/__mock/stats", ssl=self._ssl) as r:
            sf = msgspec.json.decode(await r.read())
        return hs, sf


async def wait_until(check: Callable[[], Awaitable[bool]], *, timeout_s: float = 60.0) -> None:
    """Poll a condition held by a CRM (there is no event to wait on across HTTP)."""
    with anyio.fail_after(timeout_s):
        for _ in itertools.count():
            if await check():
                return
            await anyio.sleep(0.1)


async def sf_owner_emails(crms: Crms) -> dict[str, str]:
    """Salesforce user id → email, for owner assertions."""
    users = (await crms._sf_call("GET", "/query?q=SELECT+Id,Email+FROM+User"))["records"]
    return {str(u["Id"]): str(u["Email"]) for u in users}


async def hs_owner_id(crms: Crms, email: str) -> str:
    """The HubSpot owner id of a user's email."""
    owners = (await crms._hs_call("GET", "/crm/v3/owners"))["results"]
    return next(str(o["id"]) for o in owners if o["email"] == email)
