"""Issue 4, case 8: the daily allotment runs out mid-run, across restarts.

Each mock's own daily limit equals the engine's allotment for that system, and the work needs
several days of it. ``crmsync run --until-idle`` runs as a real process, again and again: it exits
3 (paused) when the allotment is used up, spends nothing while the window is still full, and carries
on when the window moves. The window moves by the mocks' clock offset (``/__mock/clock``) and, for
the engine process, by the same offset on its wall clock (the child shifts ``time.time`` before
importing crmsync, as ``faketime`` would) — no sleeps.

Verdicts come from the mocks' own counters: per 24-hour window the calls a mock saw never exceed
the limit, the mock refused none of them for it (its own count), and it saw no call the engine's
ledger had not charged first.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest

from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms
from tests.test_cli_run import write_config
from tests.test_faults import LIFTED, advance_clock

LIMIT = 24  # a run now spends ~9 Salesforce calls on start-up and polls: the work still takes days
"""The mock's daily limit and the engine's allotment for the system under test."""
PER_SIDE = 200
DAY_S = 86_400

# Runs crmsync with its wall clock shifted by argv[1] seconds (monotonic time is left alone).
CHILD = (
    "import sys, time\n"
    "offset = float(sys.argv.pop(1))\n"
    "wall = time.time\n"
    "time.time = lambda: wall() + offset\n"
    "from engine.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.fixture(params=["hubspot", "salesforce"])
async def limited(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, Crms]]:
    system = str(request.param)
    config = mock_config(**LIFTED, **{f"{system}_daily_limit": LIMIT})
    async with running_mocks(config) as (ep, _, _), aiohttp.ClientSession() as session:
        yield system, Crms(ep, session)


async def run(config: Path, offset_s: int) -> tuple[int, dict[str, Any]]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CRMSYNC_")}
    env = {
        **clean,
        # Small batches, so that the work takes several days of a small allotment.
        "CRMSYNC_BATCH_SIZE": "10",
        "CRMSYNC_BATCH_LINGER_MS": "5",
        "CRMSYNC_HUBSPOT_BURST_PER_10S": "0",
        "CRMSYNC_HUBSPOT_SEARCH_PER_S": "0",
    }
    with anyio.fail_after(120):
        done = await anyio.run_process(
            [sys.executable, "-c", CHILD, str(offset_s), "run", "--config", str(config), "--until-idle"],
            env=env,
            check=False,
        )
    stdout = done.stdout.decode()
    assert done.returncode in (0, 3), done.stderr.decode()[-3000:]
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert isinstance(summary, dict)
    return done.returncode, summary


async def seen(crms: Crms) -> Counter[str]:
    """Calls each mock has answered so far, by its own count."""
    hs, sf = await crms.calls()
    return Counter(hubspot=hs["api_calls"], salesforce=sf["api_calls"])


async def seed_people(crms: Crms) -> None:
    """PER_SIDE new, unlinked contacts on each side (seeded through the control plane: uncounted)."""
    for body, url in (
        ({"object_type": "contacts", "count": PER_SIDE, "seed": 5}, crms.ep.hubspot_url),
        ({"sobject": "Contact", "count": PER_SIDE, "seed": 6}, crms.ep.salesforce_url),
    ):
        async with crms.s.post(url + "/__mock/seed", json=body, ssl=crms._ssl) as r:
            assert r.status == 200, await r.text()


async def refused(crms: Crms) -> Counter[str]:
    """Calls each mock refused for its daily limit, by its own count."""
    hs, sf = await crms.calls()
    return Counter(hubspot=hs["refused"].get("daily", 0), salesforce=sf["refused"].get("daily", 0))


def ledger(state: Path, since_minute: int) -> Counter[str]:
    """Calls the engine charged to its allotments (before making each one) from a minute on, by
    its own clock. (The ledger keeps only the last 24 hours: read it before the window moves.)"""
    with sqlite3.connect(state) as db:
        rows = db.execute(
            "SELECT system, SUM(calls) FROM api_ledger WHERE minute >= ? GROUP BY system", (since_minute,)
        ).fetchall()
    db.close()
    return Counter({str(system): int(n) for system, n in rows})


def minute_now(offset_s: int) -> int:
    return int((time.time() + offset_s) // 60)


async def test_allotment_runs_out_across_restarts_and_the_mock_never_refuses(
    limited: tuple[str, Crms], tmp_path: Path
) -> None:
    system, crms = limited
    state = tmp_path / "s.db"
    allotments = {"hubspot": 100_000, "salesforce": 100_000, system: LIMIT}
    config = write_config(tmp_path / "crmsync.toml", crms.ep, state)
    text = config.read_text(encoding="utf-8").replace("daily_api_allotment = 50000\n", "", 2)
    text = text.replace("[hubspot]\n", f"[hubspot]\ndaily_api_allotment = {allotments['hubspot']}\n").replace(
        "[salesforce]\n", f"[salesforce]\ndaily_api_allotment = {allotments['salesforce']}\n"
    )
    config.write_text(text, encoding="utf-8")

    offset = 0
    # The first window counts from the very first call: the mock's limit does too.
    window_start, window_minute = Counter[str](), minute_now(offset)
    code, _ = await run(config, offset)  # a new state file starts at "now"
    assert code == 0
    await seed_people(crms)

    days = paused_runs = 0
    while True:
        code, summary = await run(config, offset)
        calls = await seen(crms)
        spent = calls[system] - window_start[system]
        assert spent <= LIMIT, (days, calls, window_start)
        # None refused for the limit, and every call the mock saw was charged first (the ledger may
        # over-count: a call lost on the way, e.g. on a connection the server had just closed, is
        # charged again when it is resent, but it never under-counts).
        assert (await refused(crms))[system] == 0, days
        assert ledger(state, window_minute)[system] >= spent, days
        if code == 0:
            break
        assert summary["paused"] == f"{system} allotment", summary
        paused_runs += 1
        # Restarted in the same window: paused again at once. It may spend what its ledger still
        # has room for (a run can pause on the server's figure, which it discounts for calls in
        # flight, before its own ledger is full); the ledger never under-counts, so that room is
        # within the server's too: never over the limit, never refused.
        room = LIMIT - ledger(state, window_minute)[system]
        code, summary = await run(config, offset)
        assert (code, summary["paused"]) == (3, f"{system} allotment")
        again = (await seen(crms))[system] - calls[system]
        assert again <= room and spent + again <= LIMIT, (again, room, spent)
        assert (await refused(crms))[system] == 0
        # A day later (both mocks and the engine): the window has room again.
        days += 1
        assert days < 15, "no progress from one day to the next"
        offset += DAY_S
        for crm in ("hubspot", "salesforce"):
            await advance_clock(crms, crm, DAY_S)
        window_start, window_minute = await seen(crms), minute_now(offset)
    assert paused_runs >= 2, "the allotment should have run out mid-run on more than one day"
    # Converged: every person once on each side, linked both ways.
    hs = await crms.hs_all()
    sf = await crms.sf_all("Contact")
    assert len(hs) == len(sf) == 2 * PER_SIDE
    assert len({c["HubSpot_Id__c"] for c in sf}) == 2 * PER_SIDE
    assert {h["properties"].get("salesforcecontactid") for h in hs} == {c["Id"] for c in sf}


async def test_a_server_limit_below_the_allotment_costs_at_most_one_refusal_per_run(
    limited: tuple[str, Crms], tmp_path: Path
) -> None:
    """The org's own limit is smaller than the engine's allotment (other integrations spend it):
    the engine can only find out from the server, so the first call of a run may be refused; after
    that every answer's headers tell it the usage, and no call of concurrent batches is refused."""
    system, crms = limited
    state = tmp_path / "s.db"
    config = write_config(tmp_path / "crmsync.toml", crms.ep, state)  # 50,000 a day each
    code, _ = await run(config, 0)
    assert code == 0
    await seed_people(crms)
    for runs in (1, 2):  # a second run in the same window: its first call is the one refused
        code, summary = await run(config, 0)
        assert (code, summary["paused"]) == (3, f"{system} allotment")
        # The mocks' own count of refusals; the ledger cannot tell a refused call from one lost
        # on the way (it charges both).
        assert (await refused(crms))[system] <= runs - 1, (runs, await crms.calls())
