"""The window limiter: never a 429 from the server's sliding window, whatever the delays between
our send and its stamp, at close to the server's rate; searches first in HubSpot's burst window."""

from __future__ import annotations

import heapq
import itertools
import random
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import anyio
import msgspec
import pytest

from engine.budget import Budget, carry_over
from engine.http import HttpClient
from engine.hubspot import HubSpotClient, HubSpotPolicy
from engine.pacing import WindowLimiter
from engine.store import StateStore
from mockcrm.clock import MockClock
from mockcrm.config import MockEndpoints
from mockcrm.limits import SlidingWindow
from mockcrm.server import MocksInThread
from tests.conftest import mock_config


class SimClock(MockClock):
    """One virtual time for our limiter and the mock's window."""

    def __init__(self) -> None:
        super().__init__()
        self.t = 1_000.0

    def time(self) -> float:
        return self.t

    def __call__(self) -> float:
        return self.t


def simulate(
    limiter: WindowLimiter,
    server: SlidingWindow,
    clock: SimClock,
    *,
    seconds: float,
    delays: Iterator[tuple[float, float]],
) -> tuple[int, int]:
    """Callers that always have a call to make, for ``seconds`` of virtual time. Each call is
    stamped by ``server`` ``a`` after our limiter let it go and answered ``b`` after that
    (``delays`` yields (a, b)). Returns (calls accepted, calls refused) as the server counted."""
    events: list[tuple[float, int, str]] = []  # (time, seq, "stamp" | "answer")
    seq = accepted = refused = 0
    end = clock.t + seconds
    while clock.t < end:
        while limiter.try_acquire():
            a, b = next(delays)
            seq += 1
            heapq.heappush(events, (clock.t + a, seq, "stamp"))
            heapq.heappush(events, (clock.t + a + b, seq, "answer"))
        room_at = limiter.room_at()
        clock.t = min([e[0] for e in events[:1]] + ([room_at] if room_at is not None else []))
        while events and events[0][0] <= clock.t:
            _, _, kind = heapq.heappop(events)
            if kind == "stamp":
                if server.try_acquire():
                    accepted += 1
                else:
                    refused += 1
            else:
                limiter.release()
    return accepted, refused


def jittery(rng: random.Random, rtt: float) -> Iterator[tuple[float, float]]:
    """Mostly quick round trips, and now and then a call held long before the server stamps it
    (queued for a connection, an event loop stalled) right before quick ones: the case that
    breaks spacing by send time."""
    while True:
        if rng.random() < 0.1:
            yield rng.uniform(0.2, 1.5), rng.uniform(0, rtt)
        else:
            total = rng.uniform(0.5 * rtt, rtt)
            yield rng.uniform(0, total), total * rng.uniform(0, 1)


@pytest.mark.parametrize("seed", range(5))
def test_no_refusal_from_the_sliding_window_whatever_the_delays(seed: int) -> None:
    clock = SimClock()
    for limit, interval in ((5, 1.0), (190, 10.0)):
        limiter = WindowLimiter(limit, interval, clock=clock)
        server = SlidingWindow(clock, limit, interval)
        accepted, refused = simulate(
            limiter, server, clock, seconds=120, delays=jittery(random.Random(seed), 0.05)
        )
        assert refused == 0
        assert accepted > 0.5 * 120 * limit / interval


def test_the_rate_is_the_servers_less_one_round_trip_per_window() -> None:
    """Counted in virtual time: at a 20 ms round trip, 5 searches/s give 4.9/s (the old leaky
    bucket: 4/s); 190 calls/10 s at 200 ms give 18.6/s (was 18.1)."""
    clock = SimClock()
    for limit, interval, rtt, floor in ((5, 1.0, 0.02, 4.85), (190, 10.0, 0.2, 18.5)):
        limiter = WindowLimiter(limit, interval, clock=clock)
        server = SlidingWindow(clock, limit, interval)
        steady = itertools.repeat((rtt / 2, rtt / 2))
        accepted, refused = simulate(limiter, server, clock, seconds=600, delays=steady)
        assert refused == 0
        assert accepted / 600 >= floor
        assert limiter.granted == accepted or limiter.granted - accepted <= limit  # the last still in flight


async def test_ready_waits_for_room_and_takes_none(tmp_path: Path) -> None:
    """``Budget.ready`` (what a HubSpot batch waits on before it closes) returns once a call would
    pass the burst limiter, and leaves that room to the call itself."""
    async with await StateStore.open(tmp_path / "s.db") as store:
        limiter = WindowLimiter(2, 0.05)
        budget = Budget("hubspot", 1000, store, burst=limiter)
        await budget.load()
        await budget.ready()  # room from the start
        await budget.acquire(2)
        assert not limiter.has_capacity()
        budget.settle(2)  # answered: still counted for one more interval
        assert not limiter.has_capacity()
        with anyio.fail_after(5):
            await budget.ready()
        assert limiter.has_capacity(2)
        await budget.acquire()
        assert budget.used_24h() == 3


@pytest.fixture(scope="module")
def real_limits() -> Iterator[MockEndpoints]:
    """The HubSpot mock with its real search limit (5/s) and a small burst window, on a thread of
    its own: its stamps come from another event loop than our sends."""
    with MocksInThread(mock_config(hubspot_burst_limit=40)) as endpoints:
        yield endpoints


def stats(ep: MockEndpoints) -> dict[str, object]:
    with urllib.request.urlopen(ep.hubspot_url + "/__mock/stats", timeout=10) as resp:
        out: dict[str, object] = msgspec.json.decode(resp.read())
        return out


def reset(ep: MockEndpoints) -> None:
    request = urllib.request.Request(ep.hubspot_url + "/__mock/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


@asynccontextmanager
async def client(ep: MockEndpoints, tmp_path: Path) -> AsyncIterator[tuple[HubSpotClient, WindowLimiter]]:
    """The real HubSpot client against the mock at its real limits, with a small burst window
    (40 / 10 s)."""
    async with await StateStore.open(tmp_path / "s.db") as store, aiohttp.ClientSession() as session:
        burst = WindowLimiter(40, 10.0)
        budget = Budget("hubspot", 100_000, store, burst=burst)
        await budget.load()
        http = HttpClient("hubspot", ep.hubspot_url, ep.hubspot_token, budget, session, HubSpotPolicy())
        yield HubSpotClient(http, search_limiter=WindowLimiter(5, 1.0)), burst


async def test_a_burst_of_searches_through_the_client_gets_no_429(
    real_limits: MockEndpoints, tmp_path: Path
) -> None:
    ep = real_limits
    before = stats(ep)
    async with client(ep, tmp_path) as (hubspot, _):
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for n in range(16):
                    if n % 2:
                        tg.start_soon(hubspot.search_modified, "contacts", 0, ["email"])
                    else:  # search_equal too goes through the search limiter
                        tg.start_soon(
                            hubspot.search_equal, "contacts", "email", [f"{n}@x.example"], ["email"]
                        )
        assert hubspot.search_limiter is not None and hubspot.search_limiter.granted == 16
    after = stats(ep)
    assert after["refused"] == before["refused"]  # no 429, of any kind
    assert isinstance(after["api_calls"], int) and isinstance(before["api_calls"], int)
    assert after["api_calls"] - before["api_calls"] == 16


async def test_searches_do_not_wait_for_a_full_burst_window(
    real_limits: MockEndpoints, tmp_path: Path
) -> None:
    """Search has a window of its own and HubSpot does not count it in the ten-secondly one
    (reference A8; the mock neither): with the burst window full and calls queued for it to turn,
    the streams' searches go at once, and nothing is refused."""
    ep = real_limits
    reset(ep)  # the earlier tests' calls leave the mock's windows (a fresh limiter cannot see them)
    before = stats(ep)
    async with client(ep, tmp_path) as (hubspot, burst):

        async def ordinary() -> None:
            await hubspot.http.request("GET", "/crm/v3/objects/contacts")

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for _ in range(46):  # 40 fit in the window; 6 wait for it to turn (10 s)
                    tg.start_soon(ordinary)
                await anyio.wait_all_tasks_blocked()
                async with anyio.create_task_group() as searches:
                    for _ in range(6):
                        searches.start_soon(hubspot.search_modified, "contacts", 0, ["email"])
                assert burst.granted == 40  # the searches are done; the six still wait
        assert burst.granted == 46
    after = stats(ep)
    assert after["refused"] == before["refused"]


def test_calls_an_earlier_process_left_are_counted_until_they_leave_the_window() -> None:
    clock = SimClock()
    limiter = WindowLimiter(5, 1.0, clock=clock)
    limiter.occupy(7, answered_ago_s=0.4)  # more than the limit: the window holds at most 5
    assert limiter.counted() == 5 and not limiter.has_capacity()
    clock.t += 0.59
    assert not limiter.has_capacity()
    clock.t += 0.02
    assert limiter.room() == 5
    # The server's own count of its window bounds them (HubSpot's X-HubSpot-RateLimit-Remaining).
    burst = WindowLimiter(190, 10.0, clock=clock)
    burst.occupy(190, answered_ago_s=1.0)
    assert burst.room() == 0 and burst.room_at() == clock.t + 9.0
    burst.trim_occupied(30)
    assert burst.room() == 160
    burst.trim_occupied(60)  # a figure above ours frees nothing
    assert burst.room() == 160


async def test_a_run_started_right_after_another_gets_no_429(
    real_limits: MockEndpoints, tmp_path: Path
) -> None:
    """The search lane's window still holds the previous process's searches when the next one
    starts: the ledger's minutes bound them, and the new limiters count them first."""
    ep = real_limits
    await anyio.sleep(1.1)  # the other tests' searches (their clients' own limiters) out of the window
    before = stats(ep)
    async with client(ep, tmp_path) as (first, _):
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for _ in range(5):
                    tg.start_soon(first.search_modified, "contacts", 0, ["email"])
    ended = time.time()
    async with client(ep, tmp_path) as (second, burst):  # same state file: a new process's limiters
        assert second.search_limiter is not None
        carry_over(second.http.budget, [burst, second.search_limiter], time.time() - ended)
        assert not second.search_limiter.has_capacity()  # the first run's five are still counted
        assert burst.counted() >= 5  # the ledger's minutes: at least the first run's calls
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for _ in range(5):
                    tg.start_soon(second.search_modified, "contacts", 0, ["email"])
    after = stats(ep)
    assert after["refused"] == before["refused"]  # no 429 of any kind
    assert isinstance(after["api_calls"], int) and isinstance(before["api_calls"], int)
    assert after["api_calls"] - before["api_calls"] == 10
