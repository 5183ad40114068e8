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
