"""The demo's hands on the two mock CRMs: their public APIs (as a user's edits would arrive) and
the mocks' ``/__mock/`` control routes for rules and dumps (which are not API calls)."""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp
import msgspec

from mockcrm.config import MockEndpoints

SF_API = "/services/data/v59.0"


class MockCrmError(RuntimeError):
    """A mock refused something the demo's story needs: a bug in the story, not in the sync."""


class DemoCrms:
    def __init__(self, ep: MockEndpoints, session: aiohttp.ClientSession) -> None:
        self.ep = ep
        self._session = session
        self._ssl: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=ep.ca_file) if ep.ca_file else True
        )
        self._hs_auth = {"Authorization": f"Bearer {ep.hubspot_token}"}
        self._sf_auth = {"Authorization": f"Bearer {ep.salesforce_token}"}

    async def _call(self, method: str, url: str, body: object, headers: dict[str, str], tls: bool) -> Any:
        async with self._session.request(
            method, url, json=body, headers=headers, ssl=self._ssl if tls else True
        ) as resp:
            data = await resp.read()
            if resp.status >= 300:
                path = url.split("://", 1)[-1].split("/", 1)[-1]
                raise MockCrmError(f"{method} /{path}: {resp.status} {data[:300]!r}")
            return msgspec.json.decode(data) if data else None

    async def api_calls(self) -> tuple[int, int]:
        """(HubSpot, Salesforce) API calls each mock has served so far, by its own count."""
        hs = await self._call("GET", self.ep.hubspot_url + "/__mock/stats", None, {}, False)
        sf = await self._call("GET", self.ep.salesforce_url + "/__mock/stats", None, {}, True)
        return int(hs["api_calls"]), int(sf["api_calls"])

    # -- HubSpot -------------------------------------------------------------------------------

    async def hs_create(self, props: dict[str, str]) -> str:
        url = self.ep.hubspot_url + "/crm/v3/objects/contacts"
        return str((await self._call("POST", url, {"properties": props}, self._hs_auth, False))["id"])

    async def hs_update(self, hs_id: str, props: dict[str, str]) -> None:
        url = f"{self.ep.hubspot_url}/crm/v3/objects/contacts/{hs_id}"
        await self._call("PATCH", url, {"properties": props}, self._hs_auth, False)

    async def hs_contacts(self) -> dict[str, dict[str, Any]]:
        """Every live contact's properties by id (the mock's dump)."""
        rows = await self._call("GET", self.ep.hubspot_url + "/__mock/dump/contacts", None, {}, False)
        return {str(r["id"]): dict(r["properties"]) for r in rows}

    # -- Salesforce ----------------------------------------------------------------------------

    async def sf_create(self, sobject: str, fields: dict[str, Any]) -> str:
        url = f"{self.ep.salesforce_url}{SF_API}/sobjects/{sobject}/"
        return str((await self._call("POST", url, fields, self._sf_auth, True))["id"])

    async def sf_update(self, sobject: str, sf_id: str, fields: dict[str, Any]) -> None:
        url = f"{self.ep.salesforce_url}{SF_API}/sobjects/{sobject}/{sf_id}"
        await self._call("PATCH", url, fields, self._sf_auth, True)

    async def sf_records(self, sobject: str) -> dict[str, dict[str, Any]]:
        """Every live record of ``sobject`` by id (the mock's dump)."""
        url = f"{self.ep.salesforce_url}/__mock/dump/{sobject}"
        body = await self._call("GET", url, None, {}, True)
        return {str(r["Id"]): dict(r) for r in body["records"] if not r.get("IsDeleted")}

    async def sf_rules(self, rules: dict[str, Any]) -> None:
        await self._call("POST", self.ep.salesforce_url + "/__mock/rules", rules, {}, True)
