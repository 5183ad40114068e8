"""A Batcher whose callers come in waves released by another, rate-limited API (Salesforce writes
after HubSpot's calls) holds a partial batch for the next wave while that API holds calls back, and
only then: the 10k real backfill's Salesforce updates went from 107 to 190 records a call."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import pytest

from actors.batch import Batcher


async def waves(held: list[bool], *, release_after_first: bool = False) -> list[int]:
    """Two waves of 100 callers, 0.05 s apart (past the 0.01 s linger): the batch sizes sent.
    ``held[0]``: whether the upstream API is holding calls back."""
    calls: list[int] = []

    async def flush(items: Sequence[int]) -> list[int | BaseException]:
        calls.append(len(items))
        return list(items)

    batcher: Batcher[int, int] = Batcher(
        flush, size=200, linger_s=0.01, upstream=lambda: held[0], upstream_hold_s=2.0
    )

    async def one(i: int) -> None:
        assert await batcher.submit(i) == i

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for i in range(100):
                tg.start_soon(one, i)
            await anyio.sleep(0.05)
            if release_after_first:
                held[0] = False
                await anyio.sleep(0.05)
            for i in range(100, 200):
                tg.start_soon(one, i)
    return calls


@pytest.mark.parametrize(("held", "sizes"), [(True, [200]), (False, [100, 100])])
async def test_a_partial_batch_waits_for_the_next_wave_only_while_upstream_is_held(
    held: bool, sizes: list[int]
) -> None:
    assert await waves([held]) == sizes


async def test_the_hold_ends_when_upstream_does() -> None:
    """Upstream no longer held back: the partial batch goes with what it has (no full hold)."""
    assert await waves([True], release_after_first=True) == [100, 100]
