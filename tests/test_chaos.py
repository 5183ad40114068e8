"""The chaos runner, CI-sized: seeded runs of the oracle's histories with the engine killed (at
failpoints and at seeded instants) and faults injected, then checked. And the runner itself: a
wrong end state is reported as a failure with the seed and the command that replays it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aiohttp
import anyio
import msgspec

from mockcrm.chaos.report import ChaosParams, ChaosReport
from mockcrm.chaos.runner import run_one
from mockcrm.config import MockEndpoints
from tests.crms import Crms


def test_ci_sized_chaos_run_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    cmd = [
        *(sys.executable, "-m", "engine.cli", "chaos", "--runs", "3", "--seed", "11", "--people", "8"),
        *("--rounds", "2", "--kills", "3", "--fault-rate", "0.15", "--json", "--keep-dir", str(tmp_path)),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=400, check=False)
    report = msgspec.json.decode(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0, (report["failures"], done.stderr[-3000:])
    assert report["runs"] == 3 and report["failed"] == 0
    assert (report["lost"], report["duplicated"], report["mismatched"], report["unexpected"]) == (0, 0, 0, 0)
    assert report["overruns"] == 0
    assert report["records_checked"] >= 3 * 8
    # It really restarted, killed and broke things: 3 runs x (1 + 2 rounds x 4 starts) starts.
    assert report["restarts"] == 3 * 2 * 4
    assert sum(report["kills"].values()) >= 6
    assert sum(report["faults_injected"].values()) > 0
    for run in report["results"]:
        assert 0 < run["engine_calls"]["hubspot"] <= run["ledger_calls"]["hubspot"]
        assert 0 < run["engine_calls"]["salesforce"] <= run["ledger_calls"]["salesforce"]


async def test_a_wrong_end_state_fails_the_run_with_its_replay_seed(tmp_path: Path) -> None:
    async def delete_a_contact(ep: MockEndpoints) -> None:
        async with aiohttp.ClientSession() as session:
            crms = Crms(ep, session)
            with_email = [h for h in await crms.hs_all() if h["properties"].get("email")]
            await crms.hs_delete(with_email[0]["id"])

    params = ChaosParams(people=6, rounds=1, kills=1, fault_rate=0.0)
    with anyio.fail_after(200):
        result = await run_one(4242, params, keep_dir=tmp_path, tamper=delete_a_contact)
    assert not result.ok
    assert result.lost >= 1
    assert result.failure is not None and "lost" in result.failure
    assert result.replay.startswith("crmsync chaos --runs 1 --seed 4242 --people 6 --rounds 1 --kills 1")
    assert result.workdir is not None and (Path(result.workdir) / "state.db").exists()
    report = ChaosReport(params=params, results=[result])
    assert report.exit_code == 1
    assert report.public()["failures"] == [{"seed": 4242, "replay": result.replay, "failure": result.failure}]
