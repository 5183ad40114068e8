from __future__ import annotations

import anyio

from actors.locks import KeyedLocks


async def test_same_key_serialises_other_keys_do_not_and_nothing_leaks() -> None:
    locks = KeyedLocks()
    inside: dict[str, int] = {"a": 0, "b": 0}
    peak: dict[str, int] = {"a": 0, "b": 0}
    both = 0

    async def work(key: str) -> None:
        nonlocal both
        async with locks.hold(key):
            inside[key] += 1
            peak[key] = max(peak[key], inside[key])
            both = max(both, inside["a"] + inside["b"])
            await anyio.sleep(0.001)
            inside[key] -= 1

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(work, "a")
                tg.start_soon(work, "b")
    assert peak == {"a": 1, "b": 1}
    assert both == 2
    assert len(locks) == 0


async def _queue(locks: KeyedLocks, order: list[str], name: str, scope: anyio.CancelScope) -> None:
    with scope:
        async with locks.hold("k"):
            order.append(name)


async def _two_waiters(release_after_cancel: bool) -> list[str]:
    """Hold "k", queue a doomed waiter and then another, cancel the doomed one — and either let it
    run out of the queue before releasing, or release at once, handing it the lock as it is
    cancelled. Returns who got the lock."""
    locks = KeyedLocks()
    order: list[str] = []
    doomed = anyio.CancelScope()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg, locks.hold("k"):
            tg.start_soon(_queue, locks, order, "doomed", doomed)
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(_queue, locks, order, "next", anyio.CancelScope())
            await anyio.wait_all_tasks_blocked()
            doomed.cancel()
            if not release_after_cancel:
                await anyio.wait_all_tasks_blocked()
                assert order == []  # still ours
    assert len(locks) == 0
    return order


async def test_a_waiter_cancelled_before_its_turn_leaves_the_queue() -> None:
    assert await _two_waiters(release_after_cancel=False) == ["next"]


async def test_a_waiter_cancelled_as_the_lock_reaches_it_passes_it_on() -> None:
    assert await _two_waiters(release_after_cancel=True) == ["next"]


async def test_try_hold_takes_a_free_key_at_once_and_refuses_a_held_one() -> None:
    locks = KeyedLocks()
    assert locks.try_hold("k")
    assert not locks.try_hold("k")
    got: list[str] = []

    async def waiter() -> None:
        async with locks.hold("k"):
            got.append("k")

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await anyio.wait_all_tasks_blocked()
            assert got == []  # waits for the key taken with try_hold
            locks.release("k")
    assert got == ["k"] and len(locks) == 0
