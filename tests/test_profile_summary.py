"""benchmarks/profile_summary.py: a raw py-spy profile grouped by where the engine's time went."""

from __future__ import annotations

from benchmarks.profile_summary import render, summarise

RAW = [
    "main (engine/cli.py:1);Router._drain (actors/router.py:9);ContactActor.handle (actors/contact.py:3) 6",
    "main (engine/cli.py:1);Router._drain (actors/router.py:9);Event.wait (anyio/_backends/_asyncio.py:2) 2",
    "main (engine/cli.py:1);ChangeStream.poll (actors/stream.py:4);read (aiohttp/client.py:5) 1",
    "main (engine/cli.py:1);EpollSelector.select (selectors.py:468) 1",
    "Thread._bootstrap (threading.py:1002);_connection_worker_thread (aiosqlite/core.py:59) 50",
    "not a profile line",
]


def test_main_thread_samples_are_grouped_by_the_innermost_frame() -> None:
    total, groups, paths = summarise(RAW)
    assert total == 10  # the SQLite thread's 50 samples and the junk line are not counted
    assert groups["crmsync (actors/, engine/)"] == 6
    assert groups["event loop machinery (asyncio, anyio)"] == 2
    assert groups["HTTP (aiohttp, ssl, yarl, multidict)"] == 1
    assert groups["waiting for I/O (selector)"] == 1
    assert paths["actors (Router._drain)"] == 8
    assert paths["reading change streams (ChangeStream.poll)"] == 1
    table = render(total, groups, paths)
    assert "| crmsync (actors/, engine/) | 60.0% |" in table
    assert "| actors (Router._drain) | 80.0% |" in table


def test_an_empty_profile_says_so() -> None:
    assert render(*summarise([])) == "no main-thread samples"
