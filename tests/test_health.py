"""``crmsync health`` and ``crmsync errors`` after real syncs against the mock CRMs."""

from __future__ import annotations

import io
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anyio
import msgspec
import pytest
from rich.console import Console

from engine.budget import WINDOW_MINUTES
from engine.health import health_view, read_health
from engine.runtime import sync_until_idle
from engine.settings import Settings
from engine.store import StateStore
from mockcrm.config import MockEndpoints
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings

# Distinctive enough that finding them in any output can only mean a leak.
HS_TOKEN = "pat-na1-HEALTHLEAK-7f3c9e1a-do-not-print"
SF_TOKEN = "00DHEALTHLEAK!AQ8zv_do.not.print.4b2d"
SF_DAILY_LIMIT = 200_000


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    config = mock_config(
        hubspot_token=HS_TOKEN, salesforce_token=SF_TOKEN, salesforce_daily_limit=SF_DAILY_LIMIT
    )
    async with running_mocks(config) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


async def sync(settings: Settings) -> None:
    with anyio.fail_after(60):
        await sync_until_idle(settings)


async def validation_rule(crms: Crms) -> None:
    rule = {
        "sobject": "Contact",
        "field": "Title",
        "condition": "equals",
        "value": "Intern",
        "message": "Interns are not kept in Salesforce",
        "error_field": "Title",
    }
    async with crms.s.post(
        crms.ep.salesforce_url + "/__mock/rules", json={"validation_rules": [rule]}, ssl=crms._ssl
    ) as r:
        assert r.status == 200, await r.text()


async def synced_with_errors(crms: Crms, state: Path) -> tuple[Settings, list[str]]:
    """A first run, then two good contacts, two that break a validation rule, one without email."""
    settings = engine_settings(crms.ep, state)
    await validation_rule(crms)
    await sync(settings)
    await crms.hs_create(email="good1@example.com", lastname="Good", jobtitle="Engineer")
    await crms.hs_create(email="good2@example.com", lastname="Fine")
    bad = [
        await crms.hs_create(email=f"intern{i}@example.com", lastname=f"Intern{i}", jobtitle="Intern")
        for i in range(2)
    ]
    await crms.hs_create(firstname="No", lastname="Email")
    await sync(settings)
    return settings, bad


async def ledger_total(state: Path, system: str) -> int:
    since = int(time.time() // 60) - WINDOW_MINUTES + 1
    async with await StateStore.open(state) as store:
        return sum(calls for _, calls in await store.api_ledger(system, since))


async def test_health_counts_calls_from_the_ledger_and_groups_errors(crms: Crms, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    settings, bad = await synced_with_errors(crms, state)
    with anyio.fail_after(30):
        health = await read_health(settings)
    hs_used, sf_used = await ledger_total(state, "hubspot"), await ledger_total(state, "salesforce")
    assert hs_used > 0 and sf_used > 0
    assert (health.hubspot.calls_24h, health.salesforce.calls_24h) == (hs_used, sf_used)
    assert health.hubspot.allotment == 100_000 and health.hubspot.remaining == 100_000 - hs_used
    assert health.salesforce.limited_by_salesforce == SF_DAILY_LIMIT
    # The org's remaining calls are far above ours, so our allotment is what binds.
    assert health.salesforce.remaining == 100_000 - sf_used
    assert health.errors.total == 2
    assert {t: (g.errors, g.records) for t, g in health.errors.by_type.items()} == {"validation": (2, 2)}

    # The ledger agrees with the mocks' own counters, less the calls this test made itself (five
    # HubSpot creates; the one Salesforce /limits read by health).
    hs_stats, sf_stats = await crms.calls()
    assert (hs_used, sf_used) == (hs_stats["api_calls"] - 5, sf_stats["api_calls"] - 1)
    assert len(bad) == 2


async def test_org_limit_binds_when_lower_than_the_allotment(crms: Crms, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    settings, _ = await synced_with_errors(crms, state)
    big = Settings(
        hubspot=settings.hubspot,
        salesforce=type(settings.salesforce)(
            instance_url=settings.salesforce.instance_url,
            token=settings.salesforce.token,
            ca_file=settings.salesforce.ca_file,
            daily_api_allotment=10_000_000,
        ),
        state=settings.state,
    )
    with anyio.fail_after(30):
        health = await read_health(big)
    _, sf_stats = await crms.calls()
    assert health.salesforce.limited_by_salesforce == SF_DAILY_LIMIT
    # The org's own count (not ours) decides: its Remaining, as /limits reported it.
    assert SF_DAILY_LIMIT - sf_stats["api_calls"] <= health.salesforce.remaining < SF_DAILY_LIMIT


def config_file(path: Path, ep: MockEndpoints, state: Path, *, salesforce_url: str | None = None) -> Path:
    path.write_text(
        f"""
[hubspot]
base_url = "{ep.hubspot_url}"
token = "{ep.hubspot_token}"
daily_api_allotment = 100000

[salesforce]
instance_url = "{salesforce_url or ep.salesforce_url}"
token = "{ep.salesforce_token}"
ca_file = "{ep.ca_file}"
daily_api_allotment = 100000

[state]
path = "{state}"
""",
        encoding="utf-8",
    )
    return path


async def crmsync(*args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMSYNC_")}
    env["COLUMNS"] = "250"  # rich wraps to the terminal width; keep ids on one line
    with anyio.fail_after(60):
        result = await anyio.run_process([sys.executable, "-m", "engine.cli", *args], env=env, check=False)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def assert_no_token(*outputs: str) -> None:
    for out in outputs:
        assert HS_TOKEN not in out and SF_TOKEN not in out
        assert "HEALTHLEAK" not in out


async def test_cli_health_json_tables_and_errors_never_print_a_token(crms: Crms, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    _, bad = await synced_with_errors(crms, state)
    config = str(config_file(tmp_path / "crmsync.toml", crms.ep, state))

    code, out, err = await crmsync("health", "--config", config, "--json")
    assert (code, err) == (0, "")
    assert_no_token(out, err)
    health = json.loads(out)
    assert set(health) == {"hubspot", "salesforce", "errors", "runs"}
    assert set(health["hubspot"]) == {"calls_24h", "allotment", "remaining"}
    assert set(health["salesforce"]) == {"calls_24h", "allotment", "limited_by_salesforce", "remaining"}
    assert health["hubspot"]["calls_24h"] == await ledger_total(state, "hubspot")
    assert health["salesforce"]["limited_by_salesforce"] == SF_DAILY_LIMIT
    assert health["errors"] == {"total": 2, "by_type": {"validation": {"errors": 2, "records": 2}}}
    # The two runs that made this state, newest first, each with its summary.
    last, first = health["runs"]
    assert (last["id"], last["outcome"], first["id"], first["outcome"]) == (2, "idle", 1, "idle")
    assert last["created"] == {"hubspot": 0, "salesforce": 2} and last["errors"] == 2
    assert first["created"] == {"hubspot": 0, "salesforce": 0} and first["synced"] == 0
    assert last["api_calls"]["hubspot"] > 0 and last["seconds"] >= 0

    code, out, err = await crmsync("health", "--config", config)
    assert code == 0
    assert_no_token(out, err)
    assert "HubSpot" in out and "Salesforce" in out and "200,000" in out and "validation" in out
    assert "Last runs" in out and "until-idle" in out and "idle" in out

    code, out, err = await crmsync("errors", "--config", config)
    assert code == 0
    assert_no_token(out, err)
    for record_id in bad:
        assert record_id in out
    assert "Interns are not kept in Salesforce" in out and "validation" in out and "Correct the record" in out


async def test_unreachable_salesforce_reports_null_and_still_prints(crms: Crms, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    await synced_with_errors(crms, state)
    with anyio.fail_after(10):
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()  # a port nobody listens on any more
    config = str(config_file(tmp_path / "c.toml", crms.ep, state, salesforce_url=f"https://127.0.0.1:{port}"))
    code, out, err = await crmsync("health", "--config", config, "--json")
    assert code == 0, err
    assert_no_token(out, err)
    health = json.loads(out)
    assert health["salesforce"]["limited_by_salesforce"] is None
    assert health["salesforce"]["calls_24h"] == await ledger_total(state, "salesforce") > 0
    assert health["errors"]["total"] == 2
    code, out, err = await crmsync("health", "--config", config)
    assert code == 0 and "unknown" in out and "Salesforce is not reachable" in out


async def test_refused_token_and_used_up_allotment_are_explained(crms: Crms, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    settings, _ = await synced_with_errors(crms, state)
    wrong = "00DWRONGTOKEN!HEALTHLEAK-wrong"
    tight = msgspec.structs.replace(
        settings,
        hubspot=msgspec.structs.replace(settings.hubspot, daily_api_allotment=3),
        salesforce=msgspec.structs.replace(settings.salesforce, token=wrong),
    )
    with anyio.fail_after(30):
        health = await read_health(tight)
    assert health.hubspot.calls_24h > 3 and health.hubspot.remaining == 0
    assert health.salesforce.limited_by_salesforce is None
    out = io.StringIO()
    Console(file=out, width=200).print(health_view(health))
    text = out.getvalue()
    assert "Salesforce refused the credentials (HTTP 401)" in text
    assert "HubSpot: no calls left in the rolling 24 h" in text and "pauses" in text
    assert wrong not in text and "HEALTHLEAK" not in text
    assert set(health.public()) == {"hubspot", "salesforce", "errors", "runs"}


async def test_config_and_state_file_problems(crms: Crms, tmp_path: Path) -> None:
    config = config_file(tmp_path / "crmsync.toml", crms.ep, tmp_path / "never-run.db")
    code, out, err = await crmsync("health", "--config", str(config))
    assert (code, out) == (1, "")
    assert (
        err.strip()
        == f"crmsync: state file {tmp_path / 'never-run.db'}: does not exist (crmsync run creates it)"
    )
    assert not (tmp_path / "never-run.db").exists()  # health never creates a state file

    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    junk = config_file(tmp_path / "junk.toml", crms.ep, tmp_path / "junk.db")
    code, _, err = await crmsync("errors", "--config", str(junk))
    assert code == 1 and "junk.db" in err and "\n" not in err.strip()

    config.write_text(
        config.read_text().replace("daily_api_allotment = 100000", "daily_api_allotment = 0", 1)
    )
    code, out, err = await crmsync("health", "--config", str(config), "--json")
    assert (code, out) == (2, "")
    assert "hubspot.daily_api_allotment" in err and "\n" not in err.strip()
    assert_no_token(out, err)


async def test_health_works_while_the_engine_holds_the_state_file(crms: Crms, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    settings, _ = await synced_with_errors(crms, state)
    async with await StateStore.open(state):  # as a running `crmsync run` would hold it
        with anyio.fail_after(30):
            health = await read_health(settings, ask_salesforce=False)
    assert health.errors.total == 2 and health.salesforce.limited_by_salesforce is None
