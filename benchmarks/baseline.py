"""The baseline: the same initial workload synced one record at a time with the official clients.

This is the script a user would write instead of crmsync: ``hubspot-api-client`` and
``simple-salesforce``, list each side, look each record up on the other side by email, create or
update it there. HubSpot's 429s are retried by the client's own urllib3 ``Retry`` (as its docs
suggest); nothing is batched, cached or parallel. It runs in a worker thread of the bench process
against the same mocks; its API calls are the mocks' counters, as for crmsync.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator
from typing import Any

import anyio
import msgspec

from benchmarks.harness import Mocks
from benchmarks.options import Regime
from benchmarks.seeding import Mix, seed_pairs
from mockcrm.config import MockEndpoints

# HubSpot property ↔ Salesforce field: the default mapping's plain text fields.
FIELDS = {
    "email": "Email",
    "firstname": "FirstName",
    "lastname": "LastName",
    "phone": "Phone",
    "jobtitle": "Title",
}
TIMEOUT_S = 60


class BaselineResult(msgspec.Struct, kw_only=True):
    scenario: str = "baseline"
    regime: Regime
    records: int
    mix: Mix
    seconds: float
    pairs_per_s: float
    calls_hubspot: int
    calls_salesforce: int
    calls_per_record_hubspot: float
    calls_per_record_salesforce: float
    calls_per_record: float
    created_hubspot: int
    created_salesforce: int
    updated_hubspot: int
    updated_salesforce: int
    by_endpoint: dict[str, int]


class _Counts(msgspec.Struct):
    created_hubspot: int = 0
    created_salesforce: int = 0
    updated_hubspot: int = 0
    updated_salesforce: int = 0


def available() -> str | None:
    """None, or why the baseline cannot run (its clients are the optional ``bench`` extra)."""
    missing = [m for m in ("hubspot", "simple_salesforce") if importlib.util.find_spec(m) is None]
    if missing:
        return (
            "no baseline: hubspot-api-client and simple-salesforce are not installed "
            "(pip install 'crmsync[bench]')"
        )
    return None


def _clients(ep: MockEndpoints) -> tuple[Any, Any]:
    import requests
    from hubspot import HubSpot
    from simple_salesforce import Salesforce
    from urllib3.util.retry import Retry

    class _Session(requests.Session):
        def request(
            self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
        ) -> requests.Response:
            kwargs.setdefault("timeout", TIMEOUT_S)  # simple-salesforce sets none
            return super().request(method, url, *args, **kwargs)

    retry = Retry(total=30, backoff_factor=0.5, status_forcelist=(429,), allowed_methods=None)
    hs = HubSpot(access_token=ep.hubspot_token, host=ep.hubspot_url, retry=retry)
    session = _Session()
    session.verify = ep.ca_file if ep.ca_file else True
    session.trust_env = False
    sf = Salesforce(
        instance_url=ep.salesforce_url, session_id=ep.salesforce_token, version="59.0", session=session
    )
    return hs, sf


def _hubspot_contacts(hs: Any) -> Iterator[Any]:
    after = None
    while True:
        page = hs.crm.contacts.basic_api.get_page(limit=100, after=after, properties=list(FIELDS))
        yield from page.results
        if page.paging is None or page.paging.next is None:
            return
        after = page.paging.next.after


def sync_one_by_one(ep: MockEndpoints) -> _Counts:
    """HubSpot → Salesforce for every HubSpot contact, then Salesforce → HubSpot for every Contact."""
    from hubspot.crm.contacts import PublicObjectSearchRequest, SimplePublicObjectInput
    from simple_salesforce.format import format_soql

    hs, sf = _clients(ep)
    counts = _Counts()
    soql_fields = ", ".join(["Id", *FIELDS.values()])
    for contact in _hubspot_contacts(hs):
        props = contact.properties
        if not props.get("email"):
            continue
        values = {sf_name: props.get(hs_name) or None for hs_name, sf_name in FIELDS.items()}
        values["LastName"] = values["LastName"] or "[not provided]"
        found = sf.query(format_soql(f"SELECT {soql_fields} FROM Contact WHERE Email = {{}}", props["email"]))
        if not found["records"]:
            sf.Contact.create(values)
            counts.created_salesforce += 1
            continue
        record = found["records"][0]
        changed = {k: v for k, v in values.items() if v is not None and record.get(k) != v}
        if changed:
            sf.Contact.update(record["Id"], changed)
            counts.updated_salesforce += 1
    for record in sf.query_all_iter(f"SELECT {soql_fields} FROM Contact"):
        if not record.get("Email"):
            continue
        values = {hs_name: record.get(sf_name) for hs_name, sf_name in FIELDS.items() if record.get(sf_name)}
        search = PublicObjectSearchRequest(
            filter_groups=[
                {"filters": [{"propertyName": "email", "operator": "EQ", "value": record["Email"]}]}
            ],
            properties=list(FIELDS),
            limit=1,
        )
        results = hs.crm.contacts.search_api.do_search(public_object_search_request=search).results
        if not results:
            hs.crm.contacts.basic_api.create(SimplePublicObjectInput(properties=values))
            counts.created_hubspot += 1
            continue
        current = results[0].properties
        changed_hs = {k: v for k, v in values.items() if current.get(k) != v}
        if changed_hs:
            hs.crm.contacts.basic_api.update(results[0].id, SimplePublicObjectInput(properties=changed_hs))
            counts.updated_hubspot += 1
    return counts


async def run_baseline(mocks: Mocks, records: int) -> BaselineResult:
    await mocks.reset()
    mix = await seed_pairs(mocks, records)
    before = await mocks.calls()
    t0 = time.perf_counter()
    counts = await anyio.to_thread.run_sync(sync_one_by_one, mocks.endpoints)
    seconds = time.perf_counter() - t0
    calls = (await mocks.calls()) - before
    rate = records / seconds if seconds > 0 else 0.0
    return BaselineResult(
        regime=mocks.regime,
        records=records,
        mix=mix,
        seconds=round(seconds, 2),
        pairs_per_s=round(rate, 2),
        calls_hubspot=calls.hubspot,
        calls_salesforce=calls.salesforce,
        calls_per_record_hubspot=round(calls.hubspot / records, 4) if records else 0.0,
        calls_per_record_salesforce=round(calls.salesforce / records, 4) if records else 0.0,
        calls_per_record=round((calls.hubspot + calls.salesforce) / records, 4) if records else 0.0,
        created_hubspot=counts.created_hubspot,
        created_salesforce=counts.created_salesforce,
        updated_hubspot=counts.updated_hubspot,
        updated_salesforce=counts.updated_salesforce,
        by_endpoint=calls.by_endpoint,
    )
