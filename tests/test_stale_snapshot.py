"""A change stream's snapshot read before our own write to that record, handled after it.

The HubSpot stream is polled first; its actors start writing to Salesforce while the Salesforce
stream is already reading its page. A Salesforce snapshot taken before an actor's write, handled
after the actor committed new bases, disagrees with those bases although nothing changed in
Salesforce since: reconciled as it stands it looks like a Salesforce edit back to the old value.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anyio
import pytest

from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms
from tests.test_delivery import snapshot, sync, two_way
from tests.test_faults import LIFTED, assert_no_sync_errors

PAIRS = 60


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config(**LIFTED)) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


async def test_both_sides_edited_each_pass_makes_one_write_per_side_and_no_revert(
    crms: Crms, tmp_path: Path
) -> None:
    state = tmp_path / "s.db"
    settings = two_way(crms, state)
    await sync(settings)
    hs_ids = [
        await crms.hs_create(email=f"p{i}@example.com", lastname=f"L{i}", jobtitle="T0") for i in range(PAIRS)
    ]
    await sync(settings)
    sf_ids = {c["Email"]: c["Id"] for c in await crms.sf_all("Contact")}
    assert len(sf_ids) == PAIRS
    for rnd in range(1, 4):
        # Every pair edited on both sides, in different fields: each side needs exactly one write.
        for i, hs_id in enumerate(hs_ids):
            await crms.hs_update(hs_id, lastname=f"L{i}r{rnd}")
            await crms.sf_update("Contact", sf_ids[f"p{i}@example.com"], Title=f"T{rnd}")
        summary = await sync(settings)
        hs_view, sf_view = await snapshot(crms)
        for i in range(PAIRS):
            email = f"p{i}@example.com"
            assert hs_view[email][1:3] == sf_view[email][1:3] == (f"L{i}r{rnd}", f"T{rnd}"), (rnd, email)
        assert (summary.updated.hubspot, summary.updated.salesforce) == (PAIRS, PAIRS), (rnd, summary)
    await assert_no_sync_errors(state)


async def test_one_field_edited_on_both_sides_the_later_edit_wins_with_one_write(
    crms: Crms, tmp_path: Path
) -> None:
    """A conflict in one field (two_way: the later edit wins). A stale snapshot of the loser must
    not come back as a fresh edit and win after all."""
    state = tmp_path / "s.db"
    settings = two_way(crms, state)
    await sync(settings)
    hs_ids = [
        await crms.hs_create(email=f"c{i}@example.com", lastname=f"L{i}", jobtitle="T0") for i in range(PAIRS)
    ]
    await sync(settings)
    sf_ids = {c["Email"]: c["Id"] for c in await crms.sf_all("Contact")}
    for rnd in range(1, 4):
        for hs_id in hs_ids:
            await crms.hs_update(hs_id, jobtitle=f"hs r{rnd}")
        await anyio.sleep(1.1)  # Salesforce stamps whole seconds: its edit is clearly the later one
        for i in range(PAIRS):
            await crms.sf_update("Contact", sf_ids[f"c{i}@example.com"], Title=f"sf r{rnd}")
        summary = await sync(settings)
        hs_view, sf_view = await snapshot(crms)
        for i in range(PAIRS):
            email = f"c{i}@example.com"
            assert hs_view[email][2] == sf_view[email][2] == f"sf r{rnd}", (rnd, email)
        assert (summary.updated.hubspot, summary.updated.salesforce) == (PAIRS, 0), (rnd, summary)
    await assert_no_sync_errors(state)
