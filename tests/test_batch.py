"""The Batcher: many single-record requests become few batch calls, results go back per record."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import anyio.abc
import pytest

from actors.batch import Batcher


class FirstCallHeld:
    """A flush whose first call stays out until ``release`` is set (``out`` is set once it is out);
    ``calls`` has each call's batch size."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.out = anyio.Event()
        self.release = anyio.Event()

    async def __call__(self, items: Sequence[int]) -> list[int | BaseException]:
        self.calls.append(len(items))
        if len(self.calls) == 1:
            self.out.set()
            await self.release.wait()
        return list(items)


class RecordFailed(Exception):
    pass


async def test_concurrent_submits_coalesce_into_full_batches() -> None:
    calls: list[list[int]] = []

    async def flush(items: Sequence[int]) -> list[int | BaseException]:
        calls.append(list(items))
        await anyio.sleep(0.01)
        return [i * 10 if i % 7 else RecordFailed(f"bad {i}") for i in items]

    batcher: Batcher[int, int] = Batcher(flush, size=100, linger_s=0.05)
    results: dict[int, int | str] = {}

    async def one(i: int) -> None:
        try:
            results[i] = await batcher.submit(i)
        except RecordFailed as exc:
            results[i] = str(exc)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for i in range(1, 251):
                tg.start_soon(one, i)
    assert [len(c) for c in calls] == [100, 100, 50]
    assert batcher.calls == 3
    assert sorted(x for c in calls for x in c) == list(range(1, 251))
    assert results[3] == 30 and results[7] == "bad 7" and results[250] == 2500


async def test_a_lone_request_goes_after_the_linger() -> None:
    async def flush(items: Sequence[str]) -> list[str | BaseException]:
        return [s.upper() for s in items]

    batcher: Batcher[str, str] = Batcher(flush, size=100, linger_s=0.01)
    with anyio.fail_after(5):
        assert await batcher.submit("a") == "A"
        assert await batcher.submit("b") == "B"
    assert batcher.calls == 2


async def test_a_failing_call_fails_every_item_of_its_batch_only() -> None:
    seen = 0

    async def flush(items: Sequence[int]) -> list[int | BaseException]:
        nonlocal seen
        seen += 1
        if seen == 1:
            raise ConnectionError("boom")
        return list(items)

    batcher: Batcher[int, int] = Batcher(flush, size=2, linger_s=0.01)
    outcomes: list[object] = []

    async def one(i: int) -> None:
        try:
            outcomes.append(await batcher.submit(i))
        except ConnectionError as exc:
            outcomes.append(exc)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for i in range(4):
                tg.start_soon(one, i)
    assert sum(isinstance(o, ConnectionError) for o in outcomes) == 2
    assert sorted(o for o in outcomes if isinstance(o, int)) in ([0, 1], [2, 3])


async def test_wrong_result_count_is_a_bug_reported_to_callers() -> None:
    async def flush(items: Sequence[int]) -> list[int | BaseException]:
        return []

    batcher: Batcher[int, int] = Batcher(flush, size=10, linger_s=0.0)
    with anyio.fail_after(5), pytest.raises(RuntimeError, match="0 results for 1 items"):
        await batcher.submit(1)


async def test_cancelled_sender_does_not_strand_companions() -> None:
    never = anyio.Event()

    async def flush(items: Sequence[int]) -> list[int | BaseException]:
        await never.wait()
        return list(items)

    batcher: Batcher[int, int] = Batcher(flush, size=2, linger_s=10)
    outcome: list[object] = []

    async def sender(*, task_status: anyio.abc.TaskStatus[anyio.CancelScope]) -> None:
        with anyio.CancelScope() as scope:
            task_status.started(scope)
            await batcher.submit(1)  # first in the batch, so this task makes the call

    async def companion() -> None:
        try:
            outcome.append(await batcher.submit(2))  # fills the batch: the call goes out
        except RuntimeError as exc:
            outcome.append(exc)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            scope = await tg.start(sender)
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(companion)
            await anyio.wait_all_tasks_blocked()
            assert batcher.calls == 1
            scope.cancel()
    assert len(outcome) == 1 and isinstance(outcome[0], RuntimeError)
    assert "abandoned" in str(outcome[0])


async def test_a_sender_cancelled_before_the_call_hands_it_on_and_its_item_is_not_sent() -> None:
    calls: list[list[int]] = []

    async def flush(items: Sequence[int]) -> list[int | BaseException]:
        calls.append(list(items))
        return [i * 10 for i in items]

    batcher: Batcher[int, int] = Batcher(flush, size=10, linger_s=0.2)
    outcome: list[int] = []

    async def sender(*, task_status: anyio.abc.TaskStatus[anyio.CancelScope]) -> None:
        with anyio.CancelScope() as scope:
            task_status.started(scope)
            await batcher.submit(1)  # lingers for company: cancelled before it sends

    async def companion(i: int) -> None:
        outcome.append(await batcher.submit(i))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            scope = await tg.start(sender)
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(companion, 2)
            tg.start_soon(companion, 3)
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
    assert calls == [[2, 3]]
    assert sorted(outcome) == [20, 30]


async def test_a_batch_takes_its_items_when_a_slot_frees_not_before() -> None:
    """With the one call slot busy, everything that arrives meanwhile goes in the next call, full,
    instead of in several partial batches queued behind it with their contents fixed."""
    flush = FirstCallHeld()
    calls, first_out, release = flush.calls, flush.out, flush.release
    batcher: Batcher[int, int] = Batcher(flush, size=50, linger_s=0.001, concurrency=1)

    async def one(i: int) -> None:
        assert await batcher.submit(i) == i

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(one, 0)
            await first_out.wait()  # the first call is out, and holds the slot
            for i in range(1, 121):
                tg.start_soon(one, i)
                if i % 10 == 0:
                    await anyio.sleep(0.005)  # past the linger: a new batch would have formed
            await anyio.wait_all_tasks_blocked()
            release.set()
    assert calls == [1, 50, 50, 20]


async def test_ready_is_awaited_with_the_batch_still_open() -> None:
    """``ready`` (the rate limiter's room) is awaited before the batch closes: items keep joining."""
    calls: list[int] = []
    room = anyio.Event()

    async def ready() -> None:
        await room.wait()

    async def flush(items: Sequence[int]) -> list[int | BaseException]:
        calls.append(len(items))
        return list(items)

    batcher: Batcher[int, int] = Batcher(flush, size=100, linger_s=0.001, ready=ready)

    async def one(i: int) -> None:
        assert await batcher.submit(i) == i

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for i in range(30):
                tg.start_soon(one, i)
                await anyio.sleep(0.002)
            await anyio.wait_all_tasks_blocked()
            room.set()
    assert calls == [30]
    assert batcher.items == 30


async def test_a_partial_batch_waits_for_the_call_in_flight_not_beside_it() -> None:
    """Slots free, items trickling in past the linger: while a call is out, the next batch keeps
    filling (Nagle) instead of going out small beside it; a call that stays out holds it only
    ``5 × linger``."""
    flush = FirstCallHeld()
    calls, first_out, release = flush.calls, flush.out, flush.release
    batcher: Batcher[int, int] = Batcher(flush, size=100, linger_s=0.04, concurrency=4)

    async def one(i: int) -> None:
        assert await batcher.submit(i) == i

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(one, 0)
            await first_out.wait()
            for i in range(1, 11):
                tg.start_soon(one, i)
                await anyio.sleep(0.007)  # 10 items over ~0.07 s: past the linger, within the hold
            await anyio.wait_all_tasks_blocked()
            assert calls == [1]  # held while the first call is out
            release.set()
    assert calls == [1, 10]

    calls.clear()
    stuck, stuck_out, second_out = anyio.Event(), anyio.Event(), anyio.Event()

    async def slow(items: Sequence[int]) -> list[int | BaseException]:
        calls.append(len(items))
        if len(calls) == 1:
            stuck_out.set()
            await stuck.wait()
        second_out.set()
        return list(items)

    held: Batcher[int, int] = Batcher(slow, size=100, linger_s=0.02, concurrency=4)

    async def two(i: int) -> None:
        assert await held.submit(i) == i

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(two, 0)
            await stuck_out.wait()
            tg.start_soon(two, 1)
            tg.start_soon(two, 2)
            with anyio.fail_after(2):  # the hold is 0.1 s: they go while the first is still out
                await second_out.wait()
            stuck.set()
    assert calls == [1, 2]


async def test_submit_many_fills_batches_with_one_wait_each_and_keeps_each_items_outcome() -> None:
    """A group's items join the open batch (here beside a lone caller's), fill as many more as it
    takes, and come back in order with their own results; one item's failure is its own."""
    calls: list[list[int]] = []

    async def flush(items: Sequence[int]) -> list[int | BaseException]:
        calls.append(list(items))
        return [RecordFailed(i) if i == 7 else i * 10 for i in items]

    batcher: Batcher[int, int] = Batcher(flush, size=4, linger_s=0.05)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            lone: list[int] = []

            async def one() -> None:
                lone.append(await batcher.submit(100))

            tg.start_soon(one)
            await anyio.wait_all_tasks_blocked()
            results = await batcher.submit_many(list(range(10)))
    assert lone == [1000]
    assert sorted(len(c) for c in calls) == [3, 4, 4]  # 11 items in three calls, the first shared
    assert calls[0][0] == 100
    assert results[:7] == [0, 10, 20, 30, 40, 50, 60] and results[8:] == [80, 90]
    assert isinstance(results[7], RecordFailed)
    assert batcher.calls == 3 and batcher.items == 11


async def test_submit_many_cancelled_before_sending_withdraws_every_item() -> None:
    sent: list[list[int]] = []

    async def flush(items: Sequence[int]) -> list[int | BaseException]:
        sent.append(list(items))
        return list(items)

    batcher: Batcher[int, int] = Batcher(flush, size=10, linger_s=0.5)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:

            async def many() -> None:
                await batcher.submit_many([1, 2, 3])

            tg.start_soon(many)
            await anyio.wait_all_tasks_blocked()
            tg.cancel_scope.cancel()
        assert await batcher.submit(4) == 4  # a fresh batch, without the withdrawn items
    assert sent == [[4]]
