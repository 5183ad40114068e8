"""The Batcher: many single-record requests become few batch calls, results go back per record."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import anyio.abc
import pytest

from actors.batch import Batcher


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

    async def companion() -> None:
        try:
            outcome.append(await batcher.submit(1))
        except RuntimeError as exc:
            outcome.append(exc)

    async def sender(*, task_status: anyio.abc.TaskStatus[anyio.CancelScope]) -> None:
        with anyio.CancelScope() as scope:
            task_status.started(scope)
            await batcher.submit(2)  # fills the batch, so this task makes the call

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(companion)
            await anyio.wait_all_tasks_blocked()
            scope = await tg.start(sender)
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
    assert len(outcome) == 1 and isinstance(outcome[0], RuntimeError)
    assert "abandoned" in str(outcome[0])
