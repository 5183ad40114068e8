"""The oracle (issue 4's harness): seeded histories run through the engine match it field by field,
and the checker does catch records lost, changed or duplicated behind the engine's back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anyio
import pytest

from engine.runtime import sync_until_idle
from engine.settings import Settings
from mockcrm.chaos import History, apply_round, check, expect, generate_history
from mockcrm.config import MockEndpoints
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config()) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


def settings_for(history: History, ep: MockEndpoints, state: Path) -> Settings:
    contacts = history.contacts
    return engine_settings(
        ep,
        state,
        create_in_salesforce_as=contacts.create_in_salesforce_as,
        salesforce_to_hubspot=contacts.salesforce_to_hubspot,
        on_salesforce_delete=contacts.on_salesforce_delete,
        fields=contacts.fields,
    )


async def run_history(history: History, ep: MockEndpoints, state: Path) -> None:
    """The runner's contract (mockcrm.chaos): pre-history, a first run, then each round converged."""
    settings = settings_for(history, ep, state)
    for number in range(len(history.rounds)):
        await apply_round(history, number, ep)
        with anyio.fail_after(60):
            await sync_until_idle(settings)


def test_histories_are_deterministic_per_seed() -> None:
    for seed in range(20):
        assert generate_history(seed) == generate_history(seed)
        assert expect(generate_history(seed)) == expect(generate_history(seed))
    assert generate_history(1) != generate_history(2)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_seeded_history_converges_to_the_oracle(crms: Crms, tmp_path: Path, seed: int) -> None:
    history = generate_history(seed, people=10, rounds=4)
    await run_history(history, crms.ep, tmp_path / "state.db")
    result = await check(expect(history), crms.ep)
    assert result.ok, result.describe()
    assert result.records_checked > 0
