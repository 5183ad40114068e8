"""The run history (schema 2): every ``crmsync run`` leaves a row with its outcome and summary;
one killed with kill -9 shows as interrupted, and the next run marks it so for good."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anyio
import pytest
from anyio.abc import Process

from engine.budget import AllotmentExhausted
from engine.runs import RunRecorder, outcome_of
from engine.runtime import open_engine, run_until_idle, sync_until_idle
from engine.store import StateStore
from engine.summary import Summary
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings, wait_until
from tests.test_faults import set_faults
from tests.test_health import config_file
from tests.test_migration import rows

OPEN = "SELECT id, outcome, ended_ms FROM runs ORDER BY id"


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config()) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMSYNC_")}
    return {**env, "COLUMNS": "250", "CRMSYNC_POLL_INTERVAL_S": "0.2", **extra}


async def crmsync(*args: str, **env: str) -> tuple[int, str, str]:
    with anyio.fail_after(90):
        done = await anyio.run_process(
            [sys.executable, "-m", "engine.cli", *args], env=_env(**env), check=False
        )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


async def runs_json(config: Path) -> list[dict[str, object]]:
    code, out, err = await crmsync("runs", "--config", str(config), "--json")
    assert code == 0, err
    runs = json.loads(out)
    assert isinstance(runs, list)
    return runs


async def forever(config: Path) -> Process:
    # Its log goes to a file: a pipe nobody reads would fill up and stall the engine.
    with (config.parent / "forever.log").open("ab") as log:
        return await anyio.open_process(
            [sys.executable, "-m", "engine.cli", "run", "--config", str(config)],
            env=_env(),
            stdout=log,
            stderr=log,
        )


async def synced_to_salesforce(crms: Crms, email: str) -> None:
    async def there() -> bool:
        return any(c["Email"] == email for c in await crms.sf_all("Contact"))

    await wait_until(there, timeout_s=60)


async def started(crms: Crms, config: Path, state: Path, email: str) -> Process:
    """A forever run that has recorded its start and synced one new HubSpot contact."""
    process = await forever(config)

    async def polling() -> bool:
        # Started, and every stream's starting point saved: a contact made now is a new change.
        if not await anyio.Path(state).exists():
            return False
        tables = {str(r[0]) for r in rows(state, "SELECT name FROM sqlite_master")}
        return {"runs", "cursors"} <= tables and len(rows(state, "SELECT 1 FROM cursors")) == 5

    try:
        await wait_until(polling, timeout_s=60)
        await crms.hs_create(email=email, lastname="Forever")
        await synced_to_salesforce(crms, email)

        async def linked() -> bool:  # the link is committed after the create
            return rows(state, "SELECT count(*) FROM links") == [(1,)]

        await wait_until(linked, timeout_s=30)
    except BaseException:
        process.kill()
        await process.wait()
        raise
    return process


async def test_killed_run_shows_interrupted_and_the_next_run_marks_it(crms: Crms, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    config = config_file(tmp_path / "crmsync.toml", crms.ep, state)
    process = await started(crms, config, state, "killed@example.com")
    assert rows(state, OPEN) == [(1, None, None)]  # alive, no outcome yet
    (alive,) = await runs_json(config)
    assert alive["outcome"] == "running" and alive["mode"] == "forever" and alive["ended"] is None
    process.send_signal(signal.SIGKILL)
    with anyio.fail_after(30):
        await process.wait()
    # A reader (no lock) tells a dead run by its pid; the row itself is still open.
    (dead,) = await runs_json(config)
    assert dead["outcome"] == "interrupted" and dead["ended"] is None
    assert rows(state, OPEN) == [(1, None, None)]

    code, out, err = await crmsync("run", "--config", str(config), "--until-idle")
    assert code == 0, err
    assert "run 1 (started " in err and "marked interrupted" in err
    assert json.loads(out.splitlines()[-1])["created"] == {"hubspot": 0, "salesforce": 0}
    assert rows(state, OPEN) == [(1, "interrupted", None), (2, "idle", rows(state, OPEN)[1][2])]
    newest, killed = await runs_json(config)
    assert (newest["id"], newest["outcome"], killed["outcome"]) == (2, "idle", "interrupted")
    # A third run does not mark anything again.
    code, _, err = await crmsync("run", "--config", str(config), "--until-idle")
    assert code == 0 and "marked interrupted" not in err, err


async def test_stopped_forever_run_records_its_summary(crms: Crms, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    config = config_file(tmp_path / "crmsync.toml", crms.ep, state)
    process = await started(crms, config, state, "stopped@example.com")
    process.send_signal(signal.SIGTERM)
    with anyio.fail_after(60):
        assert await process.wait() == 0
    (run,) = await runs_json(config)
    assert (run["mode"], run["backfill"], run["outcome"], run["detail"]) == (
        "forever",
        False,
        "stopped",
        None,
    )
    assert run["created"] == {"hubspot": 0, "salesforce": 1} and run["synced"] == 1 and run["errors"] == 0
    calls = run["api_calls"]
    assert isinstance(calls, dict) and calls["hubspot"] > 0 and calls["salesforce"] > 0
    assert isinstance(run["seconds"], float) and run["seconds"] > 0

    code, out, err = await crmsync("runs", "--config", str(config))
    assert code == 0, err
    assert "forever" in out and "stopped" in out and "0 / 1" in out


async def test_failed_run_records_why_without_the_token(crms: Crms, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    config = config_file(tmp_path / "crmsync.toml", crms.ep, state)
    code, _, err = await crmsync("run", "--config", str(config), "--until-idle", "--backfill")
    assert code == 0, err
    wrong = "pat-na1-RUNLEAK-wrong-token"
    code, _, err = await crmsync("run", "--config", str(config), "--until-idle", CRMSYNC_HUBSPOT_TOKEN=wrong)
    assert code == 1, err
    failed, ok = await runs_json(config)
    assert (ok["outcome"], ok["backfill"]) == ("idle", True)
    assert failed["outcome"] == "failed" and failed["ended"] is not None
    detail = failed["detail"]
    assert isinstance(detail, str) and "hubspot refused the credentials" in detail, detail
    assert "RUNLEAK" not in json.dumps(failed)

    code, out, err = await crmsync("runs", "--config", str(config), "--limit", "1", "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == [2]
    code, _, err = await crmsync("runs", "--config", str(config), "--limit", "0")
    assert code == 2 and "at least 1" in err


async def test_used_up_allotment_records_a_paused_run(crms: Crms, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    config = config_file(tmp_path / "crmsync.toml", crms.ep, state)
    code, out, err = await crmsync(
        "run", "--config", str(config), "--until-idle", CRMSYNC_SALESFORCE_DAILY_API_ALLOTMENT="4"
    )
    assert code == 3, err
    assert json.loads(out.splitlines()[-1])["paused"] == "salesforce allotment"
    (run,) = await runs_json(config)
    assert (run["outcome"], run["detail"]) == ("paused", "salesforce allotment")
    calls = run["api_calls"]
    assert isinstance(calls, dict) and 0 < calls["salesforce"] <= 4


async def test_history_keeps_the_newest_runs(tmp_path: Path) -> None:
    with anyio.fail_after(30):
        async with await StateStore.open(tmp_path / "state.db") as store:
            for _ in range(5):
                async with RunRecorder(store, "until-idle", False, keep=3):
                    pass
            kept = await store.runs(10)
    assert [(r.id, r.outcome) for r in kept] == [(5, "idle"), (4, "idle"), (3, "idle")]


class Boom(Exception):
    pass


async def test_outcomes_name_the_reason() -> None:
    cancelled = anyio.get_cancelled_exc_class()
    assert outcome_of(None, "forever", None) == ("stopped", None)
    assert outcome_of(None, "until-idle", Summary(paused="hubspot allotment")) == (
        "paused",
        "hubspot allotment",
    )
    group = BaseExceptionGroup("tg", [cancelled(), AllotmentExhausted("salesforce", 0.0)])
    assert outcome_of(group, "until-idle", None) == ("paused", "salesforce allotment")
    assert outcome_of(BaseExceptionGroup("tg", [cancelled()]), "forever", None) == ("stopped", None)
    outcome, detail = outcome_of(Boom("line one\nline two " + "x" * 400), "until-idle", None)
    assert outcome == "failed" and detail is not None
    assert detail.startswith("Boom: line one line two x") and len(detail) == 300 and "\n" not in detail


async def test_run_that_gives_up_on_a_failing_crm_is_incomplete(crms: Crms, tmp_path: Path) -> None:
    """Not ``idle``: changes are left for the next run, and the history must say so."""
    settings = engine_settings(crms.ep, tmp_path / "state.db")
    with anyio.fail_after(60):
        await sync_until_idle(settings)
        async with open_engine(settings) as engine:
            await set_faults(crms, "hubspot", error_rate=1.0)  # after start-up, which reads HubSpot
            try:
                summary = await run_until_idle(engine, retry_passes=0)
            finally:
                await set_faults(crms, "hubspot")
            assert summary.paused is None
        async with await StateStore.open(tmp_path / "state.db") as store:
            last = (await store.runs(1))[0]
    assert last.outcome == "incomplete"
    assert last.detail == "a CRM kept failing through every retry; the next run retries what failed"
