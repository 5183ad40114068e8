"""Issue 4, case 5: after convergence, further runs make zero writes and only polling calls — and
the same scenario with echo suppression switched off (``CRMSYNC_ECHO_SUPPRESSION=off``) breaks it.

Calls are counted by the mocks themselves (``GET /__mock/stats``) per endpoint and classified:
polling (HubSpot search, Salesforce SOQL and the delete log) and start-up metadata (schema, owners,
users) are allowed; record reads by id and every write are not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest

from engine.settings import Settings
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings
from tests.test_faults import LIFTED, assert_no_sync_errors, lifted, sync

PER_SIDE = 30


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config(**LIFTED)) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


def classify(endpoint: str) -> str:
    """``polling``, ``startup``, ``record_read`` or ``write`` for one ``METHOD route`` of the stats."""
    method, _, route = endpoint.partition(" ")
    if method == "POST" and route.endswith("/search"):
        return "polling"
    if method == "GET" and ("/query" in route or route.endswith(("/deleted", "/deleted/"))):
        return "polling"  # SOQL: the change streams (and the start-up users query)
    if method == "GET" and any(p in route for p in ("/properties", "/owners", "/describe", "/limits")):
        return "startup"
    if (method == "POST" and route.endswith("/batch/read")) or method == "GET":
        return "record_read"
    return "write"


def delta(before: dict[str, Any], after: dict[str, Any]) -> Counter[str]:
    out: Counter[str] = Counter()
    for endpoint, n in after["by_endpoint"].items():
        out[endpoint] += n - before["by_endpoint"].get(endpoint, 0)
    return +out


async def calls_of_one_run(crms: Crms, settings: Settings) -> tuple[Counter[str], Counter[str]]:
    """One further ``run --until-idle``: the calls it made per endpoint, and per class."""
    hs0, sf0 = await crms.calls()
    summary = await sync(settings)
    hs1, sf1 = await crms.calls()
    assert summary.errors == 0
    assert summary.created.hubspot == summary.created.salesforce == 0
    per_endpoint = delta(hs0, hs1) + delta(sf0, sf1)
    per_class: Counter[str] = Counter()
    for endpoint, n in per_endpoint.items():
        per_class[classify(endpoint)] += n
    return per_endpoint, per_class


async def converge(crms: Crms, settings: Settings) -> None:
    """New people on both sides, then edits on both sides (the default rules send Salesforce's
    values and revert HubSpot's edits of Salesforce-preferred fields): many writes, many echoes.
    In Lead mode the HubSpot people become Leads, and Salesforce edits Leads as well."""
    await sync(settings)
    hs_ids = [
        await crms.hs_create(
            email=f"h{i}@example.com", firstname="H", lastname=f"H{i}", jobtitle="T0", company="Acme"
        )
        for i in range(PER_SIDE)
    ]
    sf_ids = [
        await crms.sf_create("Contact", LastName=f"S{i}", Email=f"s{i}@example.com", Title="T0")
        for i in range(PER_SIDE)
    ]
    await sync(settings)
    for i, hs_id in enumerate(hs_ids):
        await crms.hs_update(hs_id, jobtitle=f"hs edit {i}", phone=f"+1 555 01{i:02d}")
    for i, sf_id in enumerate(sf_ids):
        await crms.sf_update("Contact", sf_id, Title=f"sf edit {i}", MobilePhone=f"+1 555 02{i:02d}")
    for i, lead in enumerate((await crms.sf_all("Lead"))[: PER_SIDE // 2]):
        await crms.sf_update("Lead", lead["Id"], Title=f"lead edit {i}", Phone=f"+1 555 03{i:02d}")
    edited = await sync(settings)
    assert edited.updated.hubspot + edited.updated.salesforce >= PER_SIDE


def with_echo(settings: Settings, value: str) -> Settings:
    return msgspec.structs.replace(
        settings, tuning=msgspec.structs.replace(settings.tuning, echo_suppression=value)
    )


@pytest.mark.parametrize("create_as", ["Contact", "Lead"])
async def test_converged_runs_make_zero_writes_and_only_polling_calls(
    crms: Crms, tmp_path: Path, create_as: str
) -> None:
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db", create_in_salesforce_as=create_as))
    await converge(crms, settings)
    if create_as == "Lead":
        assert len(await crms.sf_all("Lead")) == PER_SIDE
    # Two further runs, within the look-back window: every write of the converging run comes back
    # to a new process as a change, and must be recognised as our own.
    for _ in range(2):
        per_endpoint, per_class = await calls_of_one_run(crms, settings)
        assert per_class["write"] == per_class["record_read"] == 0, per_endpoint
        # A second pass happened: the first found changes (the echoes) and delivered them.
        assert per_endpoint["POST /crm/v3/objects/{objectType}/search"] >= 2, per_endpoint
    await assert_no_sync_errors(tmp_path / "s.db")


async def test_the_echo_condition_fails_with_echo_suppression_off(crms: Crms, tmp_path: Path) -> None:
    settings = lifted(engine_settings(crms.ep, tmp_path / "s.db"))
    await converge(crms, settings)
    off = with_echo(settings, "off")
    per_endpoint, per_class = await calls_of_one_run(crms, off)
    # Each of our writes, redelivered, now reads the other side: the echo test's condition breaks.
    assert per_class["record_read"] > 0, per_endpoint
    assert not (per_class["write"] == per_class["record_read"] == 0)
    # Switched back on, the same state file is quiet again.
    per_endpoint, per_class = await calls_of_one_run(crms, settings)
    assert per_class["write"] == per_class["record_read"] == 0, per_endpoint
