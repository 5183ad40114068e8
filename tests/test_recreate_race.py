"""A deleted HubSpot contact re-created from its Salesforce record, while the new contact's own
first change is handled before that pair is committed (found by the steady benchmark at 1,000
changes/s: the engine died on a second link for one pair, UNIQUE links.salesforce_id).

The record's actor re-creates the contact under the pair's lock; the new contact's actor finds no
link by its id yet, matches the record by the Salesforce id the contact carries, and waits on the
pair's lock. Once it has it, the pair takes this very contact: the change is a linked pair's, and
the pair keeps its link. Here the state store's group commit lingers a second, so the contact's
change is handled inside that window every time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anyio
import pytest

from actors.sources import HubSpotSource, SalesforceSource
from engine.errors import Transient
from engine.runtime import open_engine, run_until_idle
from engine.store_types import Link, PutLink
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings, wait_until
from tests.test_faults import LIFTED

EMAIL = "again@example.com"


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config(**LIFTED)) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


async def _live_contact(crms: Crms, not_id: str) -> str | None:
    live = [c for c in await crms.hs_all() if not c.get("archived") and c["id"] != not_id]
    return live[0]["id"] if live else None


async def test_the_new_contacts_first_change_joins_the_recreated_pair(crms: Crms, tmp_path: Path) -> None:
    settings = engine_settings(crms.ep, tmp_path / "s.db", salesforce_to_hubspot="create_or_update")
    with anyio.fail_after(90):
        async with open_engine(settings) as engine:
            await run_until_idle(engine)  # a new state file syncs what changes from now on
            sf_id = await crms.sf_create("Contact", LastName="Again", Email=EMAIL, Title="T0")
            assert (await run_until_idle(engine)).created.hubspot == 1
            (link,) = (await engine.store.links_by_salesforce("contacts", [sf_id])).values()
        assert link.hubspot_id is not None
        await crms.hs_delete(link.hubspot_id)
        await anyio.sleep(1.1)  # Salesforce stamps whole seconds: the edit is after the pair agreed
        await crms.sf_update("Contact", sf_id, Title="T1")
        async with open_engine(settings) as engine:
            actor, io = engine.actor, engine.actor.io
            (sf_change,), _ = await SalesforceSource(
                engine.salesforce, "Contact", io.sf_fields["Contact"]
            ).page(0, None)
            engine.store._linger_s = 1.0  # the re-created pair's commit waits a second
            async with anyio.create_task_group() as tg:
                tg.start_soon(actor.handle, f"salesforce:{sf_id}", sf_change)
                new_id: str | None = None

                async def recreated() -> bool:
                    nonlocal new_id
                    new_id = await _live_contact(crms, link.hubspot_id or "")
                    return new_id is not None

                await wait_until(recreated, timeout_s=30)
                hs_changes, _ = await HubSpotSource(engine.hubspot, "contacts", io.hs_props).page(0, None)
                (hs_change,) = [c for c in hs_changes if c.record_id == new_id]
                assert not engine.store.links.by_hubspot("contacts", hs_change.record_id)  # not committed yet
                await actor.handle(f"hubspot:{hs_change.record_id}", hs_change)
            engine.store._linger_s = 0.002
            after = await engine.store.links_by_salesforce("contacts", [sf_id])
            assert engine.summary.errors == 0
    assert [(v.key, v.hubspot_id) for v in after.values()] == [(link.key, new_id)]
    live = [c for c in await crms.hs_all() if not c.get("archived")]
    assert [(c["id"], c["properties"].get("jobtitle")) for c in live] == [(new_id, "T1")]


async def test_a_link_whose_ids_another_key_holds_is_refused_as_a_setback(crms: Crms, tmp_path: Path) -> None:
    """The guard under every pair's commit: a second key for a record id (committed, or being
    committed) is this change's setback, to be read again, and never reaches the state file's
    unique ids (where it would fail the whole group commit)."""
    settings = engine_settings(crms.ep, tmp_path / "s.db")
    with anyio.fail_after(30):
        async with open_engine(settings) as engine:
            actor = engine.actor
            first = Link(
                key="k1", object="contacts", hubspot_id="101", salesforce_type="Contact", salesforce_id="A"
            )
            await engine.store.commit([PutLink(first, now_ms=0)])
            actor._claim("k1", [("hubspot", "101"), ("salesforce", "A")])  # its own ids: fine
            actor._claims.clear()
            with pytest.raises(Transient, match="hubspot 101 was linked meanwhile"):
                actor._claim("k2", [("hubspot", "101"), ("salesforce", "B")])
            actor._claim("k3", [("salesforce", "C")])  # in flight, not committed yet
            with pytest.raises(Transient, match="salesforce C was linked meanwhile"):
                actor._claim("k4", [("hubspot", "102"), ("salesforce", "C")])
            assert actor._claims == {("salesforce", "C"): "k3"}  # a refused claim takes nothing
            assert [v.key for v in (await engine.store.links_by_salesforce("contacts", ["A"])).values()] == [
                "k1"
            ]
