"""Issue 4, case 1: ``kill -9`` of the engine at its failpoints and at random instants, then restart
and converge — nothing lost, nothing duplicated."""

from __future__ import annotations

import random
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import msgspec
import pytest

from engine import failpoints
from engine.mapping import FieldMapping, SyncRule
from engine.runtime import sync_until_idle
from mockcrm.chaos import CheckResult, apply_round, check, expect, generate_history
from mockcrm.chaos.crash import EngineExit, engine_config_toml, run_engine
from mockcrm.config import MockEndpoints
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings


def test_failpoint_specs_parse_and_unknown_names_are_refused() -> None:
    assert failpoints.parse("") == {}
    assert failpoints.parse("store_commit:3, page_read") == {"store_commit": 3, "page_read": 1}
    assert failpoints.format_spec({"write_sent": 2, "store_commit": 1}) == "write_sent:2,store_commit:1"
    with pytest.raises(ValueError, match="unknown failpoint 'nope'"):
        failpoints.parse("nope:1")
    with pytest.raises(ValueError, match="at least 1"):
        failpoints.parse("write_sent:0")


def test_failpoints_are_inert_unless_armed() -> None:
    assert failpoints.ARMED == {}  # the test run itself never arms any
    failpoints.hit("store_commit")  # counts, kills nothing


# -- the engine as a process, killed and restarted ---------------------------------------------


class Scene:
    """Mocks holding a seeded history, and a config for the engine process that syncs them."""

    def __init__(self, ep: MockEndpoints, tmp: Path, seed: int) -> None:
        self.ep = ep
        self.tmp = tmp
        # Every person touched in the one round, so that each failpoint surely has work to stop.
        self.history = generate_history(seed, people=10, rounds=1, touch_rate=1.0)
        self.config = tmp / "crmsync.toml"
        contacts = msgspec.to_builtins(self.history.contacts)
        allot = dict.fromkeys(("hubspot", "salesforce"), 100_000)
        self.config.write_text(engine_config_toml(ep, tmp / "state.db", contacts, allot), encoding="utf-8")
        self.starts = 0

    async def engine(self, **kwargs: Any) -> EngineExit:
        self.starts += 1
        with anyio.fail_after(200):
            return await run_engine(self.config, self.tmp / f"engine-{self.starts}", **kwargs)

    async def clean_pass(self) -> None:
        end = await self.engine(timeout_s=150)
        assert end.returncode == 0, end.stderr_tail
        assert end.summary is not None and end.summary.get("errors") == 0, end.summary

    async def begin(self) -> None:
        """The pre-history, the first start (which syncs none of it), then the round's ops."""
        await apply_round(self.history, 0, self.ep)
        await self.clean_pass()
        await apply_round(self.history, 1, self.ep)

    async def converged(self) -> CheckResult:
        await self.clean_pass()
        result = await check(expect(self.history), self.ep)
        assert result.ok, result.describe()
        assert result.records_checked >= 10
        return result


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    async with running_mocks(mock_config(seed=7)) as (ep, _, _):
        yield Scene(ep, tmp_path, seed=7)


# The hit each point kills at: well inside the round's work (10 people, all touched).
KILL_AT = {"page_read": 4, "write_sent": 2, "after_write_before_commit": 3, "store_commit": 20}


@pytest.mark.parametrize("point", failpoints.POINTS)
async def test_kill_9_at_each_failpoint_then_restart_converges(scene: Scene, point: str) -> None:
    await scene.begin()
    # Killed twice at the same instant kind (the second time while redoing what the first left).
    for hit in (KILL_AT[point], 1):
        end = await scene.engine(armed={point: hit}, kill_after_s=120)
        assert end.returncode == -signal.SIGKILL, end.stderr_tail
        assert end.killed_by == point
        assert end.summary is None  # it never got to say it was done
    await scene.converged()


async def test_kill_9_at_random_instants_then_restart_converges(scene: Scene) -> None:
    await scene.begin()
    rng = random.Random(7)
    kills = 0
    for _ in range(4):
        end = await scene.engine(kill_after_s=round(rng.uniform(0.3, 2.0), 3))
        assert end.returncode in (0, -signal.SIGKILL), end.stderr_tail
        kills += end.killed_by == "timer"
    assert kills >= 1
    await scene.converged()


# -- regressions found by the chaos runner -----------------------------------------------------


async def test_a_restart_after_a_salesforce_delete_does_not_recreate_the_record(tmp_path: Path) -> None:
    """Chaos seed 12 (`crmsync chaos --runs 1 --seed 12 --people 8 --rounds 2 --kills 3
    --fault-rate 0.15`): a pair unlinked by its Salesforce delete (on_salesforce_delete =
    do_nothing) got a new Salesforce record from a restart alone — the restarted stream re-read the
    HubSpot contact's last version in its look-back window and took it for a new edit. Every start
    (here: every ``sync_until_idle``) re-reads that window. A real edit afterwards still makes one."""
    async with running_mocks(mock_config()) as (ep, _, _), aiohttp.ClientSession() as session:
        crms = Crms(ep, session)
        settings = engine_settings(ep, tmp_path / "s.db")
        with anyio.fail_after(120):
            await sync_until_idle(settings)
            hs_id = await crms.hs_create(email="gone@example.com", lastname="Gone", jobtitle="T1")
            await sync_until_idle(settings)
            (contact,) = await crms.sf_all("Contact")
            await crms.sf_delete("Contact", contact["Id"])
            for _ in range(3):  # the delete is handled, then restarts re-read the HubSpot contact
                await sync_until_idle(settings)
            assert await crms.sf_all("Contact") == []
            await crms.hs_update(hs_id, jobtitle="T2")
            await sync_until_idle(settings)
            (again,) = await crms.sf_all("Contact")
            assert (again["Email"], again["Title"], again["HubSpot_Id__c"]) == (
                "gone@example.com",
                "T2",
                hs_id,
            )
            assert (await crms.hs_get(hs_id, "salesforcecontactid"))["salesforcecontactid"] == again["Id"]


async def test_a_restart_after_a_salesforce_delete_does_not_recreate_an_owned_record(tmp_path: Path) -> None:
    """Chaos seed 1004 (`crmsync chaos --runs 1 --seed 1004 --people 200 --rounds 3 --kills 4
    --fault-rate 0.1`): the unchanged-orphan check compared the HubSpot owner's id with the base,
    which holds the owner's email — so every owned contact looked edited after a restart, and its
    deleted Salesforce record was made again."""
    async with running_mocks(mock_config()) as (ep, _, _), aiohttp.ClientSession() as session:
        crms = Crms(ep, session)
        settings = engine_settings(ep, tmp_path / "s.db")
        with anyio.fail_after(120):
            await sync_until_idle(settings)
            users = await crms._sf_call("GET", "/query/?q=SELECT+Id,Email+FROM+User")
            (alex,) = [u["Id"] for u in users["records"] if u["Email"] == "alex.admin@crmsync.mock"]
            sf_id = await crms.sf_create("Contact", LastName="Owned", Email="owned@example.com", OwnerId=alex)
            await sync_until_idle(settings)
            (hs,) = await crms.hs_all()
            assert hs["properties"]["hubspot_owner_id"] is not None  # the owner came across
            await crms.sf_delete("Contact", sf_id)
            for _ in range(3):  # the delete is handled, then restarts re-read the HubSpot contact
                await sync_until_idle(settings)
            assert await crms.sf_all("Contact") == []


async def test_an_edit_after_a_salesforce_delete_makes_a_record_even_without_a_base(tmp_path: Path) -> None:
    """Chaos seed 1019 (`crmsync chaos --runs 1 --seed 1019 --people 200 --rounds 3 --kills 0
    --fault-rate 0`): the orphan of a deleted pair told a redelivery from an edit by its values
    against the bases — but a field the pair never agreed on (here a blank HubSpot job title over
    ``always_hubspot``) has none, so an edit of it was taken for a redelivery and dropped. An orphan
    now keeps its contact's newest version by HubSpot's clock instead."""
    fields = [
        FieldMapping(hubspot="lastname", salesforce="LastName", rule=SyncRule.ALWAYS_HUBSPOT),
        FieldMapping(hubspot="jobtitle", salesforce="Title", rule=SyncRule.ALWAYS_HUBSPOT),
    ]
    async with running_mocks(mock_config()) as (ep, _, _), aiohttp.ClientSession() as session:
        crms = Crms(ep, session)
        settings = engine_settings(ep, tmp_path / "s.db", fields=fields)
        with anyio.fail_after(120):
            await sync_until_idle(settings)
            sf_id = await crms.sf_create("Contact", LastName="Base", Email="nobase@example.com", Title="T0")
            hs_id = await crms.hs_create(email="nobase@example.com", lastname="Base")
            await sync_until_idle(settings)  # linked by email
            await crms.sf_delete("Contact", sf_id)
            for _ in range(2):  # the delete is handled, then a restart re-reads the contact
                await sync_until_idle(settings)
            assert await crms.sf_all("Contact") == []
            await crms.hs_update(hs_id, jobtitle="T2")
            await sync_until_idle(settings)
            (again,) = await crms.sf_all("Contact")
            assert (again["Title"], again["HubSpot_Id__c"]) == ("T2", hs_id)
