"""The API budget over a real state file, with an injected clock instead of sleeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.budget import SERVER_FIGURE_TTL_S, AllotmentExhausted, Budget
from engine.store import StateStore


class FakeClock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


async def test_allotment_is_never_exceeded_and_survives_restart(tmp_path: Path) -> None:
    clock = FakeClock(1_700_000_000.0)
    path = tmp_path / "s.db"
    async with await StateStore.open(path) as store:
        budget = Budget("salesforce", 10, store, clock=clock)
        await budget.load()
        for _ in range(6):
            await budget.acquire()
        clock.t += 600  # ten minutes later
        await budget.acquire(4)
        with pytest.raises(AllotmentExhausted) as info:
            await budget.acquire()
        # Room comes back when the first minute's 6 calls leave the 24-hour window.
        first_minute = 1_700_000_000 // 60
        assert info.value.resume_at == (first_minute + 1440) * 60
        assert budget.used_24h() == 10 and budget.remaining() == 0

    async with await StateStore.open(path) as store:  # a restart: the ledger remembers
        budget = Budget("salesforce", 10, store, clock=clock)
        await budget.load()
        assert budget.used_24h() == 10
        with pytest.raises(AllotmentExhausted):
            await budget.acquire()
        clock.t = info.value.resume_at
        assert budget.remaining() == 6
        for _ in range(6):
            await budget.acquire()
        with pytest.raises(AllotmentExhausted):
            await budget.acquire()
        other = Budget("hubspot", 5, store, clock=clock)
        await other.load()
        assert other.used_24h() == 0


async def test_server_headers_can_only_tighten_the_budget(tmp_path: Path) -> None:
    clock = FakeClock(1_700_000_000.0)
    async with await StateStore.open(tmp_path / "s.db") as store:
        budget = Budget("salesforce", 1000, store, clock=clock)
        await budget.load()
        budget.observe(used=14_997, limit=15_000)  # the org is nearly out, whatever our share says
        assert budget.server_limit == 15_000
        assert budget.remaining() == 3
        await budget.acquire(3)
        with pytest.raises(AllotmentExhausted):
            await budget.acquire()
        budget.settle(3)  # the three were answered
        budget.observe(remaining=500)  # a late answer's figure, older than our 0: not believed yet
        assert budget.remaining() == 0
        clock.t += SERVER_FIGURE_TTL_S + 1  # ours has aged: the window really freed calls
        budget.observe(remaining=500)
        assert budget.remaining() == 500
        clock.t += SERVER_FIGURE_TTL_S + 1
        budget.observe(remaining=5000)
        assert budget.remaining() == 1000 - 3  # never more than our own allotment


async def test_a_late_answers_older_figure_does_not_undo_newer_ones(tmp_path: Path) -> None:
    """Concurrent calls are answered out of order: the slow one's usage figure was taken before
    the others were counted. Believing it would overshoot the server's limit (a mock refused a
    call this way under load)."""
    clock = FakeClock(1_700_000_000.0)
    async with await StateStore.open(tmp_path / "s.db") as store:
        budget = Budget("salesforce", 1000, store, clock=clock)
        await budget.load()
        budget.observe(used=20, limit=30)
        await budget.acquire(3)  # a, b and c go out; the server counts a, then b, then c
        budget.observe(used=23, limit=30)  # c answers first, counting all three
        budget.settle()
        budget.observe(used=23, limit=30)  # b
        budget.settle()
        room = budget.remaining()
        assert 0 < room <= 7  # the server has 7 left; in-flight discounts may make ours smaller
        budget.observe(used=21, limit=30)  # a answers last, with the figure from before b and c
        budget.settle()
        assert budget.remaining() == room  # not 9


async def test_a_server_figure_expires_so_a_zero_cannot_block_forever(tmp_path: Path) -> None:
    clock = FakeClock(1_700_000_000.0)
    async with await StateStore.open(tmp_path / "s.db") as store:
        budget = Budget("hubspot", 1000, store, clock=clock)
        await budget.load()
        resume = budget.server_exhausted()
        with pytest.raises(AllotmentExhausted) as info:
            await budget.acquire()
        assert info.value.resume_at == resume == clock.t + 60
        clock.t = resume + 1
        await budget.acquire()  # one call may go and read a fresh figure
        assert budget.used_24h() == 1


async def test_a_server_figure_discounts_the_other_calls_in_flight(tmp_path: Path) -> None:
    """An answer's usage header counts its own call, not the others still on their way: trusting
    it as it stood let concurrent batches overshoot the server's limit."""
    clock = FakeClock(1_700_000_000.0)
    async with await StateStore.open(tmp_path / "s.db") as store:
        budget = Budget("salesforce", 1000, store, clock=clock)
        await budget.load()
        for _ in range(4):
            await budget.acquire()  # four calls sent at once
        budget.observe(used=95, limit=100)  # the first answer: its call counted, three still out
        budget.settle()
        assert budget.remaining() == 5 - 3
        await budget.acquire(2)
        with pytest.raises(AllotmentExhausted):
            await budget.acquire()
