"""OAuth refresh (issue 4 case 3): one refresh for many concurrent 401s, an early refresh before a
known expiry, a refused refresh as a clear fatal error without a secret, and ``crmsync run`` /
``crmsync health`` with refresh credentials from the environment only."""

from __future__ import annotations

import json
import ssl
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import msgspec
import pytest
from loguru import logger

from engine.auth import REFRESH_ATTEMPTS, TokenProvider, hubspot_grant, salesforce_grant
from engine.budget import Budget
from engine.errors import AuthFailed, Transient
from engine.health import read_health
from engine.http import HttpClient, Policy
from engine.hubspot import HubSpotPolicy
from engine.runtime import sync_until_idle
from engine.salesforce import SalesforcePolicy
from engine.settings import Settings
from engine.store import StateStore
from mockcrm.config import MockEndpoints
from tests.crms import SF, engine_settings
from tests.test_cli_run import crmsync, hubspot_create, last_json_line

TOKEN_ROUTE = {"hubspot": "POST /oauth/v1/token", "salesforce": "POST /services/oauth2/token"}
CLIENT_SECRET = "cs-SECRETCLIENT-5e0d8a41b7"
HS_REFRESH = "na1-7c1f-REFRESHSECRET-9b2e-4d11aa0e5c3f"


def _ssl(ep: MockEndpoints) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ep.ca_file)


def salesforce_refresh_token(ep: MockEndpoints) -> str:
    """A refresh token the Salesforce mock issued (it only knows those from a password grant)."""
    form = {
        "grant_type": "password",
        "client_id": "crmsync-app",
        "username": "u@example.com",
        "password": "p",
    }
    request = urllib.request.Request(
        ep.salesforce_url + "/services/oauth2/token",
        data=urllib.parse.urlencode(form).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10, context=_ssl(ep)) as resp:
        return str(json.loads(resp.read())["refresh_token"])


def hubspot_access_token(ep: MockEndpoints, refresh: str) -> str:
    """An OAuth access token from the HubSpot mock (30 minutes of its clock)."""
    form = {
        "grant_type": "refresh_token",
        "client_id": "cid",
        "client_secret": "cs",
        "refresh_token": refresh,
    }
    request = urllib.request.Request(
        ep.hubspot_url + "/oauth/v1/token", data=urllib.parse.urlencode(form).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return str(json.loads(resp.read())["access_token"])


def token_calls(ep: MockEndpoints, system: str) -> int:
    """How often the mock's token endpoint was called (its own count)."""
    base = ep.hubspot_url if system == "hubspot" else ep.salesforce_url
    context = _ssl(ep) if base.startswith("https") else None
    with urllib.request.urlopen(base + "/__mock/stats", timeout=10, context=context) as resp:
        return int(json.loads(resp.read())["by_endpoint"].get(TOKEN_ROUTE[system], 0))


def with_oauth(settings: Settings, system: str, *, token: str, refresh_token: str) -> Settings:
    """The settings with ``system`` on OAuth refresh credentials."""
    part = settings.hubspot if system == "hubspot" else settings.salesforce
    changed = msgspec.structs.replace(
        part, token=token, client_id="crmsync-app", client_secret=CLIENT_SECRET, refresh_token=refresh_token
    )
    return msgspec.structs.replace(settings, **{system: changed})


# -- single flight ------------------------------------------------------------------------------


def set_faults(ep: MockEndpoints, system: str, faults: dict[str, object]) -> None:
    base = ep.hubspot_url if system == "hubspot" else ep.salesforce_url
    request = urllib.request.Request(
        base + "/__mock/faults",
        data=json.dumps(faults).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    context = _ssl(ep) if base.startswith("https") else None
    with urllib.request.urlopen(request, timeout=10, context=context) as resp:
        assert resp.status == 200


# The async tests use the mocks on their own thread: the helpers above block, as a user's would.


@pytest.mark.parametrize("system", ["hubspot", "salesforce"])
async def test_concurrent_401s_cause_exactly_one_refresh(
    threaded_mocks: MockEndpoints, tmp_path: Path, system: str
) -> None:
    ep = threaded_mocks
    refresh = HS_REFRESH if system == "hubspot" else salesforce_refresh_token(ep)
    base = ep.hubspot_url if system == "hubspot" else ep.salesforce_url
    before = token_calls(ep, system)
    retried: list[str] = []
    sink = logger.add(
        lambda m: retried.append(str(m)),
        level="DEBUG",
        filter=lambda r: "refreshed access token" in r["message"],
    )
    # Latency keeps eight requests in flight with the stale token at once, and the refresh slow.
    set_faults(ep, system, {"latency_ms": 150})
    store = await StateStore.open(tmp_path / "s.db")
    try:
        connector = aiohttp.TCPConnector(limit=8, ssl=_ssl(ep))
        async with aiohttp.ClientSession(connector=connector) as session:
            settings = with_oauth(Settings(), system, token="stale-expired-token", refresh_token=refresh)
            if system == "hubspot":
                grant = hubspot_grant(msgspec.structs.replace(settings.hubspot, base_url=ep.hubspot_url))
                policy: Policy = HubSpotPolicy()
                path = "/crm/v3/objects/contacts"
            else:
                grant = salesforce_grant(
                    msgspec.structs.replace(settings.salesforce, instance_url=ep.salesforce_url)
                )
                policy = SalesforcePolicy()
                path = SF + "/limits"
            auth = TokenProvider(system, "stale-expired-token", grant, session)
            http = HttpClient(system, base, auth, Budget(system, 10_000, store), session, policy)
            statuses: list[int] = []

            async def one() -> None:
                statuses.append((await http.request("GET", path)).status)

            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:
                    for _ in range(24):
                        tg.start_soon(one)
    finally:
        set_faults(ep, system, {})
        logger.remove(sink)
        await store.close()
    assert statuses == [200] * 24
    assert token_calls(ep, system) - before == 1  # the mock's own count
    assert auth.refreshes == 1
    assert len(retried) >= 8, "the refused requests were not concurrent"


async def test_a_fresh_token_refused_too_is_fatal_not_a_loop(
    threaded_mocks: MockEndpoints, tmp_path: Path
) -> None:
    """A token endpoint of the wrong account (here: HubSpot's token_url pointing at Salesforce's)
    issues tokens the API refuses: one refresh, then AuthFailed, never a refresh loop."""
    ep = threaded_mocks
    hs = with_oauth(Settings(), "hubspot", token="", refresh_token=salesforce_refresh_token(ep)).hubspot
    hs = msgspec.structs.replace(
        hs, base_url=ep.hubspot_url, token_url=ep.salesforce_url + "/services/oauth2/token"
    )
    before = token_calls(ep, "salesforce")
    store = await StateStore.open(tmp_path / "s.db")
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=_ssl(ep))) as session:
            auth = TokenProvider("hubspot", "pat-na1-stale", hubspot_grant(hs), session)
            budget = Budget("hubspot", 10_000, store)
            http = HttpClient("hubspot", ep.hubspot_url, auth, budget, session, HubSpotPolicy())
            with anyio.fail_after(30), pytest.raises(AuthFailed) as info:
                await http.request("GET", "/crm/v3/objects/contacts")
    finally:
        await store.close()
    assert "just-refreshed token" in str(info.value) and "hubspot.client_id" in str(info.value)
    assert token_calls(ep, "salesforce") - before == 1 and auth.refreshes == 1
    assert budget.used_24h() == 2  # the stale token's call and the fresh one's, nothing more


async def test_a_known_expiry_is_refreshed_before_it_comes(threaded_mocks: MockEndpoints) -> None:
    """HubSpot tells ``expires_in`` (1800 s): the token is renewed 5 minutes early, before any 401."""
    ep = threaded_mocks
    now = [1000.0]
    start = token_calls(ep, "hubspot")
    async with aiohttp.ClientSession() as session:
        hs = msgspec.structs.replace(
            with_oauth(Settings(), "hubspot", token="", refresh_token=HS_REFRESH).hubspot,
            base_url=ep.hubspot_url,
        )
        auth = TokenProvider("hubspot", "", hubspot_grant(hs), session, clock=lambda: now[0])
        with anyio.fail_after(30):
            first, generation = await auth.bearer()  # the empty token is fetched at first use
            assert first and generation == 1 and token_calls(ep, "hubspot") == start + 1
            now[0] += 1400
            assert await auth.bearer() == (first, 1)  # still 400 s left: kept
            now[0] += 101
            second, generation = await auth.bearer()
        assert second != first and generation == 2 and token_calls(ep, "hubspot") == start + 2
        async with session.get(
            ep.hubspot_url + "/crm/v3/objects/contacts", headers={"Authorization": f"Bearer {second}"}
        ) as resp:
            assert resp.status == 200


async def test_a_token_endpoint_that_is_down_is_back_pressure_not_fatal(
    threaded_mocks: MockEndpoints,
) -> None:
    """5xx from the token endpoint: Transient (retried later like any outage), never AuthFailed;
    and an early refresh that fails keeps the still-valid token instead of failing the request."""
    ep = threaded_mocks
    now = [1000.0]
    hs = msgspec.structs.replace(
        with_oauth(Settings(), "hubspot", token="", refresh_token=HS_REFRESH).hubspot, base_url=ep.hubspot_url
    )
    async with aiohttp.ClientSession() as session:
        down = TokenProvider("hubspot", "", hubspot_grant(hs), session, backoff_s=0.01)
        before = token_calls(ep, "hubspot")
        set_faults(ep, "hubspot", {"error_rate": 1.0, "error_status": 503})
        try:
            with anyio.fail_after(30), pytest.raises(Transient):
                await down.bearer()
        finally:
            set_faults(ep, "hubspot", {})
        assert token_calls(ep, "hubspot") - before == REFRESH_ATTEMPTS

        auth = TokenProvider("hubspot", "", hubspot_grant(hs), session, clock=lambda: now[0], backoff_s=0.01)
        with anyio.fail_after(30):
            first, _ = await auth.bearer()
            now[0] += 1600  # past the early-refresh point, 200 s before expiry
            set_faults(ep, "hubspot", {"error_rate": 1.0, "error_status": 503})
            try:
                assert await auth.bearer() == (first, 1)  # postponed, not failed
            finally:
                set_faults(ep, "hubspot", {})
            assert await auth.bearer() == (first, 1)  # not again at once
            now[0] += 31
            second, generation = await auth.bearer()
        assert second != first and generation == 2


async def test_salesforce_api_base_comes_from_the_token_answer(
    threaded_mocks: MockEndpoints, tmp_path: Path
) -> None:
    """A refresh through a login host answers with the org's instance_url: the API calls go there
    even when salesforce.instance_url is left pointing elsewhere (here: nothing listens on it)."""
    ep = threaded_mocks
    settings = with_oauth(
        engine_settings(ep, tmp_path / "s.db"),
        "salesforce",
        token="",
        refresh_token=salesforce_refresh_token(ep),
    )
    sf = msgspec.structs.replace(
        settings.salesforce,
        instance_url="https://127.0.0.1:9",
        token_url=ep.salesforce_url + "/services/oauth2/token",
    )
    settings = msgspec.structs.replace(settings, salesforce=sf)
    with anyio.fail_after(90):
        await sync_until_idle(settings)
        hubspot_create(ep, email=f"base.{tmp_path.name}@example.com", lastname="Base")
        summary = await sync_until_idle(settings)
        health = await read_health(settings)
    assert summary.created.salesforce == 1 and summary.errors == 0
    assert health.salesforce.limited_by_salesforce is not None, health.notes


# -- the CLI ------------------------------------------------------------------------------------


def _oauth_config(path: Path, ep: MockEndpoints, state: Path) -> Path:
    """A config file without any token: everything secret comes from the environment."""
    path.write_text(
        f"""
[hubspot]
base_url = "{ep.hubspot_url}"
daily_api_allotment = 50000

[salesforce]
instance_url = "{ep.salesforce_url}"
ca_file = "{ep.ca_file}"
daily_api_allotment = 50000

[state]
path = "{state}"
""",
        encoding="utf-8",
    )
    return path


def _oauth_env(hs_refresh: str, sf_refresh: str) -> dict[str, str]:
    return {
        "CRMSYNC_LOG_LEVEL": "DEBUG",
        "CRMSYNC_HUBSPOT_CLIENT_ID": "crmsync-app",
        "CRMSYNC_HUBSPOT_CLIENT_SECRET": CLIENT_SECRET,
        "CRMSYNC_HUBSPOT_REFRESH_TOKEN": hs_refresh,
        "CRMSYNC_SALESFORCE_CLIENT_ID": "crmsync-app",
        "CRMSYNC_SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
        "CRMSYNC_SALESFORCE_REFRESH_TOKEN": sf_refresh,
    }


def _leaks(text: str, secrets: tuple[str, ...]) -> list[str]:
    return [piece for s in secrets for piece in {s, s[:12], s[-12:]} if piece in text]


def test_run_and_health_with_refresh_credentials_from_env(
    threaded_mocks: MockEndpoints, tmp_path: Path
) -> None:
    ep = threaded_mocks
    sf_refresh = salesforce_refresh_token(ep)
    secrets = (CLIENT_SECRET, HS_REFRESH, sf_refresh)
    config = _oauth_config(tmp_path / "crmsync.toml", ep, tmp_path / "state.db")
    env = _oauth_env(HS_REFRESH, sf_refresh)
    outputs: list[Any] = []
    before = {s: token_calls(ep, s) for s in TOKEN_ROUTE}

    first = crmsync("run", "--config", str(config), "--until-idle", env=env)
    outputs.append(first)
    assert first.returncode == 0, first.stderr[-2000:]
    # Each system fetched its token once at start and kept it for the whole run.
    assert {s: token_calls(ep, s) - before[s] for s in TOKEN_ROUTE} == {"hubspot": 1, "salesforce": 1}

    hubspot_create(ep, email=f"oauth.{tmp_path.name}@example.com", lastname="Oauth")
    second = crmsync("run", "--config", str(config), "--until-idle", "--log-json", env=env)
    outputs.append(second)
    assert second.returncode == 0, second.stderr[-2000:]
    summary = last_json_line(second.stdout)
    assert summary["created"] == {"hubspot": 0, "salesforce": 1} and summary["errors"] == 0

    health = crmsync("health", "--config", str(config), "--json", env=env)
    outputs.append(health)
    assert health.returncode == 0, health.stderr
    # health got its own token to read the org's limit: no refusal note, a real figure.
    assert json.loads(health.stdout)["salesforce"]["limited_by_salesforce"] is not None
    table = crmsync("health", "--config", str(config), env=env)
    outputs.append(table)
    assert table.returncode == 0 and "refused" not in table.stdout, table.stdout
    for result in outputs:
        for stream in (result.stdout, result.stderr):
            assert _leaks(stream, secrets) == [], [
                line for line in stream.splitlines() if _leaks(line, secrets)
            ]


@pytest.mark.parametrize("system", ["hubspot", "salesforce"])
@pytest.mark.parametrize("log_json", [False, True], ids=["plain", "json"])
def test_a_refused_refresh_ends_the_run_with_a_clear_error_and_no_secret(
    threaded_mocks: MockEndpoints, tmp_path: Path, system: str, log_json: bool
) -> None:
    ep = threaded_mocks
    bad = f"{system[:2]}-REVOKEDREFRESH-{tmp_path.name[-12:]}-0f9e8d7c"
    if system == "hubspot":  # the app was uninstalled: HubSpot no longer knows its refresh token
        request = urllib.request.Request(ep.hubspot_url + f"/oauth/v1/refresh-tokens/{bad}", method="DELETE")
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.status == 204
        env = _oauth_env(bad, salesforce_refresh_token(ep))
    else:  # Salesforce never issued this one
        env = _oauth_env(HS_REFRESH, bad)
    config = _oauth_config(tmp_path / "crmsync.toml", ep, tmp_path / "state.db")
    flags = ["--log-json"] if log_json else []
    result = crmsync("run", "--config", str(config), "--until-idle", *flags, env=env)
    assert result.returncode == 1, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"crmsync: {system} refused the credentials"), last
    assert "refused the refresh" in last and f"CRMSYNC_{system.upper()}_REFRESH_TOKEN" in last, last
    outputs = [result]
    if system == "salesforce":
        health = crmsync("health", "--config", str(config), "--json", env=env)
        assert health.returncode == 0, health.stderr
        figures = json.loads(health.stdout)["salesforce"]
        assert figures["limited_by_salesforce"] is None
        assert figures["calls_24h"] == 0  # no call went out without a token, so none was charged
        outputs.append(crmsync("health", "--config", str(config), env=env))
        assert "refused the OAuth refresh credentials" in outputs[-1].stdout, outputs[-1].stdout
    for out in outputs:
        for stream in (out.stdout, out.stderr):
            found = _leaks(stream, (CLIENT_SECRET, bad))
            assert found == [], [line for line in stream.splitlines() if _leaks(line, (CLIENT_SECRET, bad))]
