"""``crmsync demo``: both mock CRMs in-process, a small story, a sync to idle, and what happened.

The engine runs exactly as ``crmsync run --until-idle`` would (same settings type, same runtime),
against mocks that speak the real APIs, on an embedded SQLite state file in a temporary folder.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import aiohttp
import anyio
from loguru import logger
from rich.console import Console

from engine.demo_crms import DemoCrms
from engine.demo_report import Outcome, render
from engine.demo_story import INTERN_RULE, after_first_run, before_first_run
from engine.health import console as wide_console
from engine.health import read_health
from engine.mapping import FieldMapping, SyncRule, default_contact_mappings
from engine.runtime import sync_until_idle
from engine.settings import (
    ContactsSettings,
    HubSpotSettings,
    SalesforceSettings,
    Settings,
    StateSettings,
    TuningSettings,
)
from engine.store import StateStore
from engine.summary import PerSystem
from mockcrm.config import MockConfig, MockEndpoints
from mockcrm.server import running_mocks

DEMO_SEED = 2026
# Fields that exist on both Contact and Lead, so one list serves both; two rules changed from the
# default to show three of the six rules deciding conflicts.
_DEMO_RULES = {"phone": SyncRule.PREFER_HUBSPOT_UNLESS_BLANK, "jobtitle": SyncRule.TWO_WAY}
_DEMO_FIELDS = ("email", "firstname", "lastname", "phone", "mobilephone", "jobtitle", "leadsource")


def demo_mapping() -> list[FieldMapping]:
    return [
        FieldMapping(m.hubspot, m.salesforce, _DEMO_RULES.get(m.hubspot, m.rule), m.kind)
        for m in default_contact_mappings("Contact")
        if m.hubspot in _DEMO_FIELDS
    ]


def demo_settings(ep: MockEndpoints, state: Path) -> Settings:
    return Settings(
        hubspot=HubSpotSettings(base_url=ep.hubspot_url, token=ep.hubspot_token),
        salesforce=SalesforceSettings(
            instance_url=ep.salesforce_url, token=ep.salesforce_token, ca_file=ep.ca_file
        ),
        state=StateSettings(path=str(state)),
        contacts=ContactsSettings(fields=demo_mapping()),
        tuning=TuningSettings(batch_linger_ms=5),
    )


async def run_demo(console: Console, workdir: Path) -> Outcome:
    config = MockConfig(hubspot_port=0, salesforce_port=0, seed=DEMO_SEED)
    state = workdir / "crmsync-demo.db"
    async with running_mocks(config) as (ep, _, _), aiohttp.ClientSession() as session:
        crms = DemoCrms(ep, session)
        console.print(
            f"Mock HubSpot at [bold]{ep.hubspot_url}[/], mock Salesforce at [bold]{ep.salesforce_url}[/]"
        )
        console.print(f"State file: {state}")
        await crms.sf_rules({"validation_rules": [INTERN_RULE]})
        people = await before_first_run(crms)
        settings = demo_settings(ep, state)
        calls = [await crms.api_calls()]
        with console.status("First run: crmsync initialises its state…"):
            first = await sync_until_idle(settings)
        calls.append(await crms.api_calls())
        # Salesforce stamps changes to the second, and a change in the same second as the newest
        # existing record counts as existing (SPEC §4): let that second pass before editing.
        await anyio.sleep(1.1)
        await after_first_run(crms, people)
        calls.append(await crms.api_calls())
        with console.status("Syncing to idle…"):
            summary = await sync_until_idle(settings)
        calls.append(await crms.api_calls())
        with console.status("Running once more (nothing should move)…"):
            again = await sync_until_idle(settings)
        calls.append(await crms.api_calls())
        async with await StateStore.open(state) as store:
            errors = await store.sync_errors()
        health = await read_health(settings)
        hs = await crms.hs_contacts()
        sf = {t: await crms.sf_records(t) for t in ("Contact", "Lead")}
    return Outcome(
        people=people,
        first=first,
        summary=summary,
        again=again,
        errors=errors,
        health=health,
        hubspot=hs,
        salesforce=sf,
        mapping=demo_mapping(),
        first_calls=_served(calls[0], calls[1]),
        sync_calls=_served(calls[2], calls[3]),
        again_calls=_served(calls[3], calls[4]),
    )


def _served(before: tuple[int, int], after: tuple[int, int]) -> PerSystem:
    return PerSystem(hubspot=after[0] - before[0], salesforce=after[1] - before[1])


def main() -> int:
    # The sync's own log lines would interleave with the report; the report shows the errors.
    logger.remove()
    logger.add(sys.stderr, level="ERROR", backtrace=False, diagnose=False)
    console = wide_console()
    console.rule("[bold]crmsync demo[/]: HubSpot ↔ Salesforce contacts, against two mock CRMs")
    with tempfile.TemporaryDirectory(prefix="crmsync-demo-") as tmp:
        outcome = anyio.run(run_demo, console, Path(tmp), backend="asyncio")
    render(console, outcome)
    return 0
