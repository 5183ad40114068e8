"""Issue 4 case 11: no token (HubSpot private-app token, Salesforce session id) ever appears in what
crmsync prints — DEBUG logs plain and JSON, record errors, retries under injected faults, the exit
message after a 401, the summary, ``crmsync health`` (tables and JSON) and ``crmsync errors``."""

from __future__ import annotations

import json
import ssl
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockcrm.config import MockEndpoints
from mockcrm.server import MocksInThread
from tests.conftest import mock_config
from tests.test_cli_run import crmsync, hubspot_create, write_config

HUBSPOT_TOKEN = "pat-na1-9f1c2e7a-HSSECRET-4b8d-a1b2c3d4e5f6"
SALESFORCE_TOKEN = "00DSFSECRET0042!AQ8AQKx.SECRETSESSION.Zr7Yq2Lw9Vb3Nd5Hp0Tj"
WRONG_HUBSPOT = "pat-na1-WRONGHSTOKEN-77e1-0c2b-deadbeefcafe"
WRONG_SALESFORCE = "00DWRONGSFSESS!AQwrongSESSIONvalue.Kq81Mn34Pz"
SECRETS = (HUBSPOT_TOKEN, SALESFORCE_TOKEN, WRONG_HUBSPOT, WRONG_SALESFORCE)


def leaks(text: str) -> list[str]:
    """Every secret, or its first 12 characters, or its part after Salesforce's ``!``, found in text."""
    found = []
    for secret in SECRETS:
        pieces = {secret, secret[:12], secret.split("!")[-1][:12]}
        found += [p for p in pieces if p in text]
    return found


@pytest.fixture(scope="module")
def secret_mocks() -> Iterator[MockEndpoints]:
    config = mock_config(hubspot_token=HUBSPOT_TOKEN, salesforce_token=SALESFORCE_TOKEN)
    with MocksInThread(config) as endpoints:
        yield endpoints


def _post(ep: MockEndpoints, base: str, path: str, body: object) -> dict[str, object]:
    ctx = ssl.create_default_context(cafile=ep.ca_file) if base.startswith("https") else None
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10, context=ctx) as resp:
        answer = json.loads(resp.read())
    assert isinstance(answer, dict)
    return answer


def _faults_injected(ep: MockEndpoints) -> int:
    total = 0
    for base in (ep.hubspot_url, ep.salesforce_url):
        ctx = ssl.create_default_context(cafile=ep.ca_file) if base.startswith("https") else None
        with urllib.request.urlopen(base + "/__mock/stats", timeout=10, context=ctx) as resp:
            total += sum(json.loads(resp.read())["faults_injected"].values())
    return total


@pytest.mark.parametrize("log_json", [False, True], ids=["plain", "json"])
def test_no_secret_in_any_output(secret_mocks: MockEndpoints, tmp_path: Path, log_json: bool) -> None:
    ep = secret_mocks
    # Leads need a Company: a HubSpot contact without one becomes a REQUIRED_FIELD_MISSING sync error.
    config = write_config(
        tmp_path / "crmsync.toml",
        ep,
        tmp_path / "state.db",
        "\n[contacts]\ncreate_in_salesforce_as = 'Lead'\n",
    )
    env = {"CRMSYNC_LOG_LEVEL": "DEBUG"}
    flags = ["--log-json"] if log_json else []
    outputs: list[subprocess.CompletedProcess[str]] = []

    def run(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = crmsync(*args, "--config", str(config), env={**env, **(extra_env or {})})
        outputs.append(result)
        return result

    assert run("run", "--until-idle", *flags).returncode == 0
    tag = f"{tmp_path.name}.{int(log_json)}"
    for i in range(12):
        hubspot_create(ep, email=f"s{i}.{tag}@example.com", lastname=f"S{i}", company="Acme")
    hubspot_create(ep, email=f"nocompany.{tag}@example.com", lastname="NoCompany")

    faults = {"error_rate": 0.3, "timeout_rate": 0.05, "timeout_s": 0.5}
    before = _faults_injected(ep)
    for base in (ep.hubspot_url, ep.salesforce_url):
        _post(ep, base, "/__mock/faults", faults)
    try:
        synced = run("run", "--until-idle", *flags)
    finally:
        for base in (ep.hubspot_url, ep.salesforce_url):
            _post(ep, base, "/__mock/faults", {})
    assert synced.returncode == 0, synced.stderr[-2000:]
    assert _faults_injected(ep) > before  # retries happened and were logged at DEBUG
    summary = json.loads(synced.stdout.splitlines()[-1])
    assert summary["errors"] >= 1 and summary["created"]["salesforce"] >= 1
    assert "DEBUG" in synced.stderr or '"DEBUG"' in synced.stderr

    health = run("health")
    assert health.returncode == 0, health.stderr
    health_json = run("health", "--json")
    assert health_json.returncode == 0, health_json.stderr
    json.loads(health_json.stdout)
    errors = run("errors")
    assert errors.returncode == 0 and "REQUIRED_FIELD_MISSING" in errors.stdout, errors.stdout

    # A 401 from each side with a wrong token: a one-line exit message, exit code 1.
    for var, wrong in (
        ("CRMSYNC_SALESFORCE_TOKEN", WRONG_SALESFORCE),
        ("CRMSYNC_HUBSPOT_TOKEN", WRONG_HUBSPOT),
    ):
        refused = run("run", "--until-idle", *flags, extra_env={var: wrong})
        assert refused.returncode == 1, refused.stderr[-2000:]
        assert "refused the credentials" in refused.stderr.strip().splitlines()[-1]
        for args in (("health",), ("health", "--json"), ("errors",)):
            refused_health = run(*args, extra_env={var: wrong})
            assert refused_health.returncode == 0, refused_health.stderr

    for result in outputs:
        for stream in (result.stdout, result.stderr):
            assert leaks(stream) == [], (
                result.args,
                [line for line in stream.splitlines() if leaks(line)][:5],
            )
