"""``crmsync demo``: in-process for its facts, and as the command a new user runs."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import anyio
from rich.console import Console

from engine.demo import run_demo
from engine.demo_report import render
from engine.demo_story import HS_NEW, INVALID, NO_EMAIL, OLD, PAIR, SF_NEW


async def test_demo_story_syncs_conflicts_and_errors(tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200)
    with anyio.fail_after(120):
        outcome = await run_demo(console, tmp_path)
    s = outcome.summary
    stories = [p.story for p in outcome.people]
    assert (s.created.salesforce, s.created.hubspot) == (stories.count(HS_NEW), stories.count(SF_NEW))
    assert s.ineligible == stories.count(NO_EMAIL) == 1
    assert s.errors == stories.count(INVALID) == 2
    assert {e.error_type for e in outcome.errors} == {"validation"}
    assert {e.record_id for e in outcome.errors} == {
        p.hubspot_id for p in outcome.people if p.story == INVALID
    }
    status = {p.name: outcome.status(p) for p in outcome.people}
    for p in outcome.people:
        expected = {
            PAIR: "linked by email",
            OLD: "not synced: it existed before",
            HS_NEW: "created in Salesforce: Contact",
            SF_NEW: "created in HubSpot",
            NO_EMAIL: "not synced: no email",
            INVALID: "sync error (validation)",
        }[p.story]
        assert status[p.name].startswith(expected), (p, status[p.name])
    # Every pair typed differently on both sides: conflicts decided by three different rules.
    assert {c.rule for c in s.conflicts} == {
        "prefer_salesforce_unless_blank",
        "prefer_hubspot_unless_blank",
        "two_way",
    }
    again = outcome.again
    assert (
        again.created.hubspot + again.created.salesforce + again.updated.hubspot + again.updated.salesforce
        == 0
    )
    assert (
        outcome.health.hubspot.calls_24h > 0 and outcome.health.salesforce.limited_by_salesforce is not None
    )

    render(console, outcome)
    text = out.getvalue()
    assert "created in Salesforce" in text and "created in HubSpot" in text
    assert "Interns are not kept in Salesforce" in text and "INVALID_EMAIL_ADDRESS" in text
    assert "HubSpot has a value, and it wins" in text and "~4" in text


def test_crmsync_demo_command_exits_0_and_tells_the_story() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMSYNC_")}
    env["COLUMNS"] = "200"
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "created in Salesforce: Contact" in out and "created in HubSpot: contact" in out
    assert "Conflicts:" in out and "prefer_salesforce_unless_blank" in out
    assert "Sync errors: 2" in out and "FIELD_CUSTOM_VALIDATION_EXCEPTION" in out
    assert "Per synced person" in out
    assert result.stderr == ""
