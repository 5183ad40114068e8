"""``crmsync run --config FILE --until-idle`` as a user runs it: a real process against the mocks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from mockcrm.config import MockEndpoints

SUMMARY_KEYS = {"synced", "created", "updated", "deleted", "errors", "api_calls", "seconds"}


def crmsync(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CRMSYNC_")}
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **(env or {})},
        check=False,
    )


def write_config(path: Path, ep: MockEndpoints, state: Path, extra: str = "") -> Path:
    path.write_text(
        f"""
[hubspot]
base_url = "{ep.hubspot_url}"
token = "{ep.hubspot_token}"
daily_api_allotment = 50000

[salesforce]
instance_url = "{ep.salesforce_url}"
token = "{ep.salesforce_token}"
ca_file = "{ep.ca_file}"
daily_api_allotment = 50000

[state]
path = "{state}"
{extra}
""",
        encoding="utf-8",
    )
    return path


def hubspot_create(ep: MockEndpoints, **props: str) -> str:
    request = urllib.request.Request(
        ep.hubspot_url + "/crm/v3/objects/contacts",
        data=json.dumps({"properties": props}).encode(),
        headers={"Authorization": f"Bearer {ep.hubspot_token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return str(json.loads(resp.read())["id"])


def last_json_line(stdout: str) -> dict[str, object]:
    lines = stdout.strip().splitlines()
    assert lines, "no output"
    summary = json.loads(lines[-1])
    assert isinstance(summary, dict)
    return summary


def test_run_until_idle_prints_the_summary_last_and_exits_0(
    threaded_mocks: MockEndpoints, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "crmsync.toml", threaded_mocks, tmp_path / "state.db")
    first = crmsync("run", "--config", str(config), "--until-idle")
    assert first.returncode == 0, first.stderr
    assert last_json_line(first.stdout)["synced"] == 0  # a fresh state file starts at "now"

    hubspot_create(threaded_mocks, email="cli.run@example.com", firstname="Cli", lastname="Run")
    second = crmsync("run", "--config", str(config), "--until-idle")
    assert second.returncode == 0, second.stderr
    summary = last_json_line(second.stdout)
    assert set(summary) >= SUMMARY_KEYS
    assert summary["created"] == {"hubspot": 0, "salesforce": 1}
    # synced counts pairs where something moved: the new Contact's own change coming back (with
    # the default owner Salesforce filled in) is reconciled but moves nothing, so it is not counted.
    assert summary["synced"] == 1
    assert summary["errors"] == 0
    calls = summary["api_calls"]
    assert isinstance(calls, dict) and calls["hubspot"] > 0 and calls["salesforce"] > 0
    assert "paused" not in summary


def test_bad_config_value_exits_2_naming_the_key(threaded_mocks: MockEndpoints, tmp_path: Path) -> None:
    config = tmp_path / "crmsync.toml"
    write_config(config, threaded_mocks, tmp_path / "state.db")
    config.write_text(
        config.read_text().replace("daily_api_allotment = 50000", 'daily_api_allotment = "lots"', 1)
    )
    result = crmsync("run", "--config", str(config), "--until-idle")
    assert result.returncode == 2
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message
    assert "hubspot.daily_api_allotment" in message and "CRMSYNC_HUBSPOT_DAILY_API_ALLOTMENT" in message
    assert not (tmp_path / "state.db").exists()


def test_unknown_key_exits_2(threaded_mocks: MockEndpoints, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "crmsync.toml", threaded_mocks, tmp_path / "state.db", "\n[contacts]\ncreate_as = 'Lead'\n"
    )
    result = crmsync("run", "--config", str(config), "--until-idle")
    assert result.returncode == 2
    assert result.stderr.strip() == "crmsync: config error: contacts.create_as: unknown key"


def test_missing_token_exits_2(threaded_mocks: MockEndpoints, tmp_path: Path) -> None:
    config = tmp_path / "crmsync.toml"
    write_config(config, threaded_mocks, tmp_path / "state.db")
    config.write_text(config.read_text().replace(f'token = "{threaded_mocks.salesforce_token}"\n', ""))
    result = crmsync("run", "--config", str(config), "--until-idle")
    assert result.returncode == 2
    message = result.stderr.strip()
    assert "\n" not in message and "salesforce.token" in message and "CRMSYNC_SALESFORCE_TOKEN" in message

    # The environment can supply it (and wins over the file).
    supplied = crmsync(
        "run",
        "--config",
        str(config),
        "--until-idle",
        env={"CRMSYNC_SALESFORCE_TOKEN": threaded_mocks.salesforce_token},
    )
    assert supplied.returncode == 0, supplied.stderr
    assert set(last_json_line(supplied.stdout)) >= SUMMARY_KEYS


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    result = crmsync("run", "--config", str(tmp_path / "nope.toml"), "--until-idle")
    assert result.returncode == 2
    assert (
        result.stderr.strip() == f"crmsync: config error: config file {tmp_path / 'nope.toml'} does not exist"
    )


def test_run_forever_syncs_as_changes_come_and_stops_cleanly_on_sigterm(
    threaded_mocks: MockEndpoints, tmp_path: Path
) -> None:
    import signal
    import ssl
    import time

    ep = threaded_mocks
    config = write_config(tmp_path / "crmsync.toml", ep, tmp_path / "state.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMSYNC_")}
    env["CRMSYNC_POLL_INTERVAL_S"] = "0.2"
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "run", "--config", str(config)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        # A new state file ignores what exists: wait until the engine has set its cursors.
        for _ in range(600):
            if _cursors(tmp_path / "state.db") >= 5:
                break
            time.sleep(0.1)
        hs_id = hubspot_create(ep, email="forever@example.com", lastname="Forever")
        ctx = ssl.create_default_context(cafile=ep.ca_file)
        request = urllib.request.Request(
            ep.salesforce_url + "/__mock/dump/Contact", headers={"Authorization": "Bearer x"}
        )
        found: list[str] = []
        for _ in range(300):
            with urllib.request.urlopen(request, timeout=10, context=ctx) as resp:
                found = [r.get("HubSpot_Id__c") for r in json.loads(resp.read())["records"]]
            if hs_id in found:
                break
            time.sleep(0.1)
        assert hs_id in found
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait()
    assert proc.stderr is not None
    assert ep.hubspot_token not in proc.stderr.read()


def _cursors(path: Path) -> int:
    import sqlite3

    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT count(*) FROM cursors").fetchone()[0])
    except sqlite3.Error:
        return 0
