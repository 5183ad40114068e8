"""Issue 4, cases 2 and 3: lost replies, 5xx, hangs, latency spikes, rate-limit storms and a used-up
Salesforce daily limit. Each run must converge with no duplicate on either side and no sync error:
faults and rate limits are back-pressure, never record errors."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import msgspec
import pytest

from engine.runtime import Engine, sync_until_idle
from engine.settings import Settings
from engine.store import StateStore
from engine.summary import Summary
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings, wait_until

# The HubSpot burst limit is the mock's real one; these tests are about faults, not about pacing.
LIFTED = {"hubspot_burst_limit": 0, "hubspot_search_rate": 0}


def lifted(settings: Settings) -> Settings:
    hs = msgspec.structs.replace(settings.hubspot, burst_per_10s=0, search_per_s=0)
    return msgspec.structs.replace(settings, hubspot=hs)


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config(**LIFTED)) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


async def set_faults(crms: Crms, system: str, **faults: Any) -> None:
    url = crms.ep.hubspot_url if system == "hubspot" else crms.ep.salesforce_url
    async with crms.s.post(url + "/__mock/faults", json=faults, ssl=crms._ssl) as r:
        assert r.status == 200, await r.text()


async def mock_now(crms: Crms, system: str) -> float:
    url = crms.ep.hubspot_url if system == "hubspot" else crms.ep.salesforce_url
    async with crms.s.get(url + "/__mock/clock", ssl=crms._ssl) as r:
        return float((await r.json())["now_ms"]) / 1000


async def advance_clock(crms: Crms, system: str, seconds: float) -> None:
    url = crms.ep.hubspot_url if system == "hubspot" else crms.ep.salesforce_url
    async with crms.s.post(url + "/__mock/clock", json={"advance_s": seconds}, ssl=crms._ssl) as r:
        assert r.status == 200, await r.text()


async def oauth_refresh_token(crms: Crms, system: str) -> str:
    """A refresh token the mock accepts: HubSpot's takes any it has not revoked, Salesforce's only
    those it issued (here through a password grant)."""
    if system == "hubspot":
        return "na1-faults-refresh"
    form = {"grant_type": "password", "client_id": "app", "username": "u@example.com", "password": "p"}
    url = crms.ep.salesforce_url + "/services/oauth2/token"
    async with crms.s.post(url, data=form, ssl=crms._ssl) as r:
        assert r.status == 200, await r.text()
        return str((await r.json())["refresh_token"])


async def hubspot_access_token(crms: Crms, refresh: str) -> str:
    form = {"grant_type": "refresh_token", "client_id": "app", "client_secret": "s", "refresh_token": refresh}
    async with crms.s.post(crms.ep.hubspot_url + "/oauth/v1/token", data=form) as r:
        assert r.status == 200, await r.text()
        return str((await r.json())["access_token"])


async def token_calls(crms: Crms, system: str) -> int:
    hs, sf = await crms.calls()
    if system == "hubspot":
        return int(hs["by_endpoint"].get("POST /oauth/v1/token", 0))
    return int(sf["by_endpoint"].get("POST /services/oauth2/token", 0))


def with_oauth(settings: Settings, system: str, token: str, refresh: str) -> Settings:
    part = settings.hubspot if system == "hubspot" else settings.salesforce
    part = msgspec.structs.replace(
        part, token=token, client_id="app", client_secret="s", refresh_token=refresh
    )
    return msgspec.structs.replace(settings, **{system: part})


async def sync(settings: Settings, limit_s: float = 90) -> Summary:
    with anyio.fail_after(limit_s):
        return await sync_until_idle(settings)


async def seed_both(crms: Crms, n: int, tag: str = "p") -> None:
    """``n`` new contacts on each side, distinct emails."""
    for i in range(n):
        await crms.hs_create(email=f"{tag}.hs{i}@example.com", lastname=f"Hs{i}", jobtitle=f"T{i}")
        await crms.sf_create("Contact", LastName=f"Sf{i}", Email=f"{tag}.sf{i}@example.com", Title=f"T{i}")


async def assert_converged(crms: Crms, expected: int) -> None:
    """Both sides hold ``expected`` contacts, each linked both ways, none twice by email or by id."""
    hs = await crms.hs_all()
    sf = await crms.sf_all("Contact")
    hs_emails = Counter(h["properties"]["email"].lower() for h in hs)
    sf_emails = Counter(c["Email"].lower() for c in sf)
    assert [e for e, n in hs_emails.items() if n > 1] == []
    assert [e for e, n in sf_emails.items() if n > 1] == []
    assert len(hs) == len(sf) == expected
    assert set(hs_emails) == set(sf_emails)
    sf_by_hs = Counter(c.get("HubSpot_Id__c") for c in sf)
    hs_by_sf = Counter(h["properties"].get("salesforcecontactid") for h in hs)
    assert [k for k, n in sf_by_hs.items() if n > 1 or not k] == []
    assert [k for k, n in hs_by_sf.items() if n > 1 or not k] == []
    assert set(sf_by_hs) == {h["id"] for h in hs}
    assert set(hs_by_sf) == {c["Id"] for c in sf}
    titles = {h["properties"]["email"].lower(): h["properties"].get("jobtitle") for h in hs}
    assert titles == {c["Email"].lower(): c.get("Title") for c in sf}


async def assert_no_sync_errors(path: Path) -> None:
    async with await StateStore.open(path) as store:
        assert await store.sync_errors() == []


async def injected(crms: Crms) -> dict[str, int]:
    hs, sf = await crms.calls()
    total: Counter[str] = Counter(hs["faults_injected"])
    total.update(sf["faults_injected"])
    return dict(total)


# Endpoints that create without a key: repeating one after a lost reply would duplicate a record.
PLAIN_CREATES = {
    "POST /crm/v3/objects/{objectType}",
    "POST /crm/v3/objects/{objectType}/batch/create",
    "POST /services/data/v{version}/sobjects/{sobject}",
    "POST /services/data/v{version}/composite/sobjects",
}


def plain_creates(
    before: tuple[dict[str, Any], dict[str, Any]], after: tuple[dict[str, Any], dict[str, Any]]
) -> dict[str, int]:
    used: dict[str, int] = {}
    for old, new in zip(before, after, strict=True):
        for endpoint, n in new["by_endpoint"].items():
            if endpoint in PLAIN_CREATES and n > old["by_endpoint"].get(endpoint, 0):
                used[endpoint] = n - old["by_endpoint"].get(endpoint, 0)
    return used


async def test_lost_replies_to_writes_are_retried_without_duplicates(crms: Crms, tmp_path: Path) -> None:
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    await sync(settings)
    await seed_both(crms, 30)
    for system in ("hubspot", "salesforce"):
        await set_faults(crms, system, drop_reply_rate=0.3)
    before = await crms.calls()
    summary = await sync(settings)
    assert (await injected(crms)).get("dropped_reply", 0) > 0
    assert plain_creates(before, await crms.calls()) == {}  # only idempotent writes are ever retried
    await set_faults(crms, "hubspot")
    await set_faults(crms, "salesforce")
    assert summary.errors == 0
    await assert_converged(crms, 60)
    await assert_no_sync_errors(tmp_path / "s.db")


async def test_errors_and_hangs_converge(crms: Crms, tmp_path: Path) -> None:
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    await sync(settings)
    await seed_both(crms, 25)
    for system in ("hubspot", "salesforce"):
        await set_faults(
            crms,
            system,
            error_rate=0.15,
            error_status=503 if system == "salesforce" else 502,
            timeout_rate=0.05,
            timeout_s=0.3,
            spike_rate=0.1,
            spike_ms=300,
            latency_jitter_ms=20,
        )
    summary = await sync(settings, limit_s=120)
    kinds = await injected(crms)
    assert kinds.get("error", 0) > 0 and kinds.get("timeout", 0) > 0 and kinds.get("latency_spike", 0) > 0
    assert summary.errors == 0
    await set_faults(crms, "hubspot")
    await set_faults(crms, "salesforce")
    await assert_converged(crms, 50)
    await assert_no_sync_errors(tmp_path / "s.db")


async def test_hubspot_429_storm_and_500_slow_down_are_back_pressure(crms: Crms, tmp_path: Path) -> None:
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    await sync(settings)
    await seed_both(crms, 20)
    until = await mock_now(crms, "hubspot") + 3
    # A 429 storm for three seconds: every request refused.
    await set_faults(crms, "hubspot", storm_until=until)
    storm = await sync(settings, limit_s=120)
    assert (await injected(crms)).get("rate_limit_storm", 0) > 0
    assert storm.errors == 0
    await assert_converged(crms, 40)
    # Then HubSpot's other "slow down": a plain 500 on half the requests.
    await seed_both(crms, 10, tag="q")
    await set_faults(crms, "hubspot", error_rate=0.5, error_status=500)
    slow = await sync(settings, limit_s=120)
    assert (await injected(crms)).get("error", 0) > 0
    assert slow.errors == 0
    await set_faults(crms, "hubspot")
    await assert_converged(crms, 60)
    await assert_no_sync_errors(tmp_path / "s.db")


async def test_salesforce_request_limit_exceeded_pauses_and_resumes(tmp_path: Path) -> None:
    # A run here costs ~9 Salesforce calls (start-up, one composite per poll, one upsert): the
    # first fits, the second does not.
    limit = 14
    config = mock_config(salesforce_daily_limit=limit, **LIFTED)
    async with running_mocks(config) as (ep, _, _), aiohttp.ClientSession() as session:
        crms = Crms(ep, session)
        # The engine believes it has 100,000 calls a day; only the server knows the real limit.
        settings = lifted(engine_settings(ep, tmp_path / "s.db"))
        await sync(settings)
        for i in range(30):
            await crms.hs_create(email=f"lim{i}@example.com", lastname=f"L{i}", jobtitle=f"T{i}")
        paused = 0
        for _ in range(40):
            summary = await sync(settings)
            assert summary.errors == 0
            _, sf_stats = await crms.calls()
            assert sf_stats["api_calls"] <= limit * (paused + 1)  # the mock's own count
            if summary.paused is None:
                break
            assert summary.paused == "salesforce allotment"
            paused += 1
            await advance_clock(crms, "salesforce", 86_400)
        assert paused > 0, "the small server limit was never hit"
        assert summary.paused is None
        await assert_converged(crms, 30)
        await assert_no_sync_errors(tmp_path / "s.db")


@pytest.mark.parametrize("system", ["hubspot", "salesforce"])
async def test_expired_token_is_refreshed_and_the_sync_converges(tmp_path: Path, system: str) -> None:
    async with running_mocks(mock_config(**LIFTED)) as (ep, _, _), aiohttp.ClientSession() as session:
        crms = Crms(ep, session)
        await sync(lifted(engine_settings(ep, tmp_path / "s.db")))
        await seed_both(crms, 3, tag="tok")
        refresh = await oauth_refresh_token(crms, system)
        if system == "hubspot":
            # A real OAuth token, then 30 minutes of HubSpot's clock: it answers 401 from then on.
            token = await hubspot_access_token(crms, refresh)
            await advance_clock(crms, "hubspot", 1801)
        else:
            token = "00Dexpired!session"  # the mock's sessions never age: one it no longer knows
        expired = with_oauth(lifted(engine_settings(ep, tmp_path / "s.db")), system, token, refresh)
        before = await token_calls(crms, system)
        summary = await sync(expired)
        assert summary.errors == 0
        assert await token_calls(crms, system) == before + 1  # one refresh served the whole run
        await assert_converged(crms, 6)


async def test_a_token_expiring_mid_run_is_refreshed_once_under_full_concurrency(tmp_path: Path) -> None:
    """HubSpot OAuth only (no token configured): the engine fetches one at start; half way through
    a run of small batches HubSpot's clock passes its 30 minutes, every request in flight is
    refused at once, and one refresh serves them all."""
    async with running_mocks(mock_config(**LIFTED)) as (ep, _, _), aiohttp.ClientSession() as session:
        crms = Crms(ep, session)
        base = lifted(engine_settings(ep, tmp_path / "s.db"))
        await sync(base)
        await seed_both(crms, 40, tag="mid")
        await set_faults(crms, "hubspot", latency_ms=50)
        settings = with_oauth(base, "hubspot", "", await oauth_refresh_token(crms, "hubspot"))
        settings = msgspec.structs.replace(
            settings, tuning=msgspec.structs.replace(settings.tuning, batch_size=5, http_connections=8)
        )
        expired_at: list[int] = []

        async def expire_half_way(engine: Engine) -> None:
            created = engine.summary.created

            async def half_way() -> bool:
                return created.hubspot + created.salesforce >= 20

            await wait_until(half_way)
            expired_at.append(created.hubspot)
            await advance_clock(crms, "hubspot", 1801)

        before = await token_calls(crms, "hubspot")
        with anyio.fail_after(120):
            summary = await sync_until_idle(settings, watch=expire_half_way)
        assert expired_at and expired_at[0] < 40, "the token expired after the run's HubSpot writes"
        assert summary.errors == 0
        assert await token_calls(crms, "hubspot") == before + 2  # the first token, and one refresh
        await assert_converged(crms, 80)
