"""The links cache: what StateStore committed, by either side's id (engine/link_cache.py)."""

from __future__ import annotations

from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from engine.errors import StateFileError
from engine.link_cache import LinkCache
from engine.store import StateStore
from engine.store_types import DeleteLink, Link, PutLink


def _link(key: str, hs: str | None, sf: str | None, bases: dict[str, str] | None = None) -> Link:
    return Link(
        key=key,
        object="contacts",
        hubspot_id=hs,
        salesforce_type="Contact",
        salesforce_id=sf,
        bases=bases or {},
    )


def test_put_replace_delete() -> None:
    cache = LinkCache()
    cache.put(_link("k1", "h1", None))
    assert cache.by_hubspot("contacts", "h1") == _link("k1", "h1", None)
    assert cache.by_salesforce("contacts", "s1") is None
    cache.put(_link("k1", "h1", "s1"))  # the pair gains its Salesforce side
    assert cache.by_salesforce("contacts", "s1") == _link("k1", "h1", "s1")
    cache.put(_link("k1", "h1", "s2"))  # a Lead conversion moves it
    assert cache.by_salesforce("contacts", "s1") is None
    assert cache.by_salesforce("contacts", "s2") is not None
    cache.delete("k1")
    assert cache.by_hubspot("contacts", "h1") is None and cache.by_salesforce("contacts", "s2") is None
    assert len(cache) == 0
    assert cache.by_hubspot("companies", "h1") is None


def test_an_id_taken_by_a_newer_link_survives_the_older_ones_removal() -> None:
    cache = LinkCache()
    cache.put(_link("old", "h1", "s1"))
    cache.put(_link("new", "h1", "s2"))  # R-ID-3 / an orphan replaced: the id now belongs to "new"
    cache.delete("old")
    found = cache.by_hubspot("contacts", "h1")
    assert found is not None and found.key == "new"
    assert cache.by_salesforce("contacts", "s1") is None


def test_the_least_recently_committed_go_first() -> None:
    cache = LinkCache(capacity=2)
    cache.put(_link("a", "ha", "sa"))
    cache.put(_link("b", "hb", "sb"))
    cache.put(_link("a", "ha", "sa", {"firstname": "x"}))  # committed again: now the newest
    cache.put(_link("c", "hc", "sc"))
    assert cache.by_hubspot("contacts", "hb") is None and cache.by_salesforce("contacts", "sb") is None
    assert cache.by_hubspot("contacts", "ha") is not None and cache.by_hubspot("contacts", "hc") is not None
    assert len(cache) == 2
    assert cache.forgotten == 1  # "b": deletes and replacements are not forgetting


async def test_the_store_serves_what_it_committed_and_sqlite_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    async with await StateStore.open(path) as store:
        await store.commit([PutLink(_link("k1", "h1", "s1", {"email": "a@x.io"}), now_ms=1)])
        assert store.links.by_hubspot("contacts", "h1") is not None
        found = await store.links_by_hubspot("contacts", ["h1", "h2"])
        assert list(found) == ["h1"] and found["h1"].bases == {"email": "a@x.io"}
        await store.commit([DeleteLink("k1")])
        assert await store.links_by_salesforce("contacts", ["s1"]) == {}
        await store.commit([PutLink(_link("k2", "h2", "s2"), now_ms=1)])
    # A new process starts with an empty cache and finds the same links in SQLite.
    async with await StateStore.open(path) as store:
        assert len(store.links) == 0
        found = await store.links_by_hubspot("contacts", ["h1", "h2"])
        assert list(found) == ["h2"] and found["h2"] == _link("k2", "h2", "s2")


async def test_a_failed_transaction_caches_nothing(tmp_path: Path) -> None:
    async with await StateStore.open(tmp_path / "state.db") as store:
        await store.commit([PutLink(_link("k1", "h1", "s1"), now_ms=1)])
        # Another key with the same HubSpot id breaks the unique index: the transaction rolls back.
        with pytest.raises(StateFileError):
            await store.commit([PutLink(_link("k2", "h1", "s2"), now_ms=1)])
        found = store.links.by_hubspot("contacts", "h1")
        assert found is not None and found.key == "k1"
        assert store.links.by_salesforce("contacts", "s2") is None


async def test_a_page_is_looked_up_at_once_and_its_unlinked_ids_remembered(tmp_path: Path) -> None:
    async with await StateStore.open(tmp_path / "state.db") as store:
        await store.commit([PutLink(_link("k1", "h1", "s1", {"email": "a@x.io"}), now_ms=1)])
    async with await StateStore.open(tmp_path / "state.db") as store:
        links = store.links
        await store.prefetch_links("contacts", "hubspot", ["h1", "h2", "h2"])
        found = links.by_hubspot("contacts", "h1")
        assert found is not None and found.bases == {"email": "a@x.io"}
        assert links.by_salesforce("contacts", "s1") == found  # by either side's id now
        assert links.absent("contacts", "hubspot", "h2") and not links.absent("contacts", "hubspot", "h1")
        assert not links.absent("contacts", "salesforce", "h2")  # per side
        # A link committed with the id ends its absence, also once the cache forgets that link.
        await store.commit([PutLink(_link("k2", "h2", "s2"), now_ms=1)])
        assert not links.absent("contacts", "hubspot", "h2")
        await store.commit([DeleteLink("k2")])
        assert not links.absent("contacts", "hubspot", "h2")  # unknown again: asked of SQLite
        assert await store.links_by_hubspot("contacts", ["h2"]) == {}


def test_what_a_commit_touches_during_a_read_is_not_taken_from_that_read() -> None:
    cache = LinkCache()
    watch = cache.watch()
    cache.put(_link("k1", "h1", "s1"))  # committed while the read was in flight
    cache.delete("k1")
    other = cache.watch()
    cache.delete("never-cached")  # ids unknown: the whole read is suspect
    cache.unwatch(watch)
    cache.unwatch(other)
    assert watch.ids == {("hubspot", "h1"), ("salesforce", "s1")} and watch.blind
    assert other.blind and not other.ids
    # A read's link never replaces what the cache holds: the key, or an id under another key.
    cache.put(_link("k2", "h2", "s2", {"email": "new@x.io"}))
    cache.read(_link("k2", "h2", "s2", {"email": "old@x.io"}))
    cache.read(_link("k3", "h2", "s3"))
    assert cache.by_hubspot("contacts", "h2") == _link("k2", "h2", "s2", {"email": "new@x.io"})
    assert cache.by_salesforce("contacts", "s3") is None


async def test_a_commit_overlapping_the_page_read_wins(tmp_path: Path) -> None:
    """A link committed while the page's query runs: the query may predate it, so neither its
    absence nor an older version is taken from the query."""
    async with await StateStore.open(tmp_path / "state.db") as store:
        await store.commit([PutLink(_link("k1", "h1", "s1"), now_ms=1)])
    async with await StateStore.open(tmp_path / "state.db") as store:
        async with anyio.create_task_group() as tg:
            tg.start_soon(store.prefetch_links, "contacts", "hubspot", ["h1", "h2"])
            await anyio.lowlevel.checkpoint()  # the query is in flight
            await store.commit([DeleteLink("k1"), PutLink(_link("k2", "h2", "s2"), now_ms=1)])
        links = store.links
        assert links.by_hubspot("contacts", "h1") is None and not links.absent("contacts", "hubspot", "h1")
        found = links.by_hubspot("contacts", "h2")
        assert found is not None and found.key == "k2"
