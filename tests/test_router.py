"""The router: order per key, parallelism across keys, bounded actors and mailboxes."""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from actors.router import Router
from actors.stream import Change, Ticket


def _change(rid: str, ms: int) -> Change:
    return Change(system="hubspot", object="contacts", record_id=rid, modified_ms=ms)


async def test_per_key_order_and_cross_key_parallelism() -> None:
    log: list[tuple[str, int]] = []
    running = 0
    peak = 0

    async def handle(key: str, change: Change) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0.001)
        log.append((key, change.modified_ms))
        running -= 1

    tickets: list[Ticket] = []
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            router = Router(tg, handle, max_actors=8, mailbox_size=4)
            for ms in range(20):
                for key in ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"):
                    t = Ticket(_change(key, ms))
                    tickets.append(t)
                    await router.route(key, _change(key, ms), t)
            await router.wait_idle()
    assert all(t.done_flag for t in tickets)
    assert router.handled == 200
    for key in "abcdefghij":
        assert [ms for k, ms in log if k == key] == list(range(20))  # in order per key
    assert 1 < peak <= 8  # parallel, never beyond max_actors
    assert router.active == 0


async def test_a_full_mailbox_makes_the_producer_wait() -> None:
    gate = anyio.Event()

    async def handle(key: str, change: Change) -> None:
        await gate.wait()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            router = Router(tg, handle, max_actors=1, mailbox_size=2)
            routed = 0

            async def produce() -> None:
                nonlocal routed
                for ms in range(10):
                    await router.route("k", _change("k", ms), Ticket(_change("k", ms)))
                    routed += 1

            tg.start_soon(produce)
            await anyio.wait_all_tasks_blocked()
            # One change in the actor's hands, two in its mailbox; the producer waits on the fourth.
            assert routed == 3
            gate.set()
            await anyio.wait_all_tasks_blocked()
            assert routed == 10
            await router.wait_idle()


async def test_a_settled_change_needs_no_actor_unless_its_record_has_one() -> None:
    """``settled`` is asked only for a record without an actor: behind a change still queued or
    being handled, a change goes through the mailbox in order, whatever ``settled`` would say."""
    handled: list[tuple[str, int]] = []
    asked: list[tuple[str, int]] = []
    gate = anyio.Event()

    async def handle(key: str, change: Change) -> None:
        await gate.wait()
        handled.append((key, change.modified_ms))

    def settled(change: Change) -> bool:
        asked.append((change.record_id, change.modified_ms))
        return change.modified_ms % 2 == 1  # odd versions are "echoes"

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            router = Router(tg, handle, max_actors=4, settled=settled)
            tickets = [Ticket(_change(k, ms)) for k, ms in [("a", 1), ("b", 2), ("b", 3)]]
            for t in tickets:
                await router.route(t.change.record_id, t.change, t)
            assert tickets[0].done_flag  # settled as routed: no actor, no task switch
            assert router.active == 1  # "b" only
            gate.set()
            await router.wait_idle()
    assert all(t.done_flag for t in tickets)
    assert asked == [("a", 1), ("b", 2)]  # b's second change found b's actor: not asked
    assert handled == [("b", 2), ("b", 3)]
    assert router.handled == 3


async def test_a_page_of_grouped_changes_is_one_group_and_later_changes_wait_for_it() -> None:
    """Routing makes no checkpoint, so a page's grouped changes reach one ``handle_group`` call;
    a later change to a record of the group waits in its mailbox until the group is done, and
    each change's outcome decides its ticket (a retryable one fails it, to be read again)."""
    groups: list[list[str]] = []
    singles: list[tuple[str, int]] = []
    release = anyio.Event()

    async def handle(key: str, change: Change) -> None:
        singles.append((key, change.modified_ms))

    async def handle_group(items: Sequence[tuple[str, Change]]) -> list[BaseException | None]:
        groups.append([key for key, _ in items])
        await release.wait()
        return [TimeoutError("again") if key == "c" else None for key, _ in items]

    retried: list[BaseException] = []
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            router = Router(
                tg,
                handle,
                max_actors=16,
                retry_on=(TimeoutError,),
                on_retry=retried.append,
                grouped=lambda change: change.modified_ms == 1,
                handle_group=handle_group,
            )
            tickets = {key: Ticket(_change(key, 1)) for key in "abc"}
            for key, ticket in tickets.items():
                await router.route(key, ticket.change, ticket)
            later = Ticket(_change("a", 2))
            await router.route("a", later.change, later)  # a's record is in the group
            alone = Ticket(_change("z", 2))
            await router.route("z", alone.change, alone)  # not grouped: its own actor
            await anyio.wait_all_tasks_blocked()
            assert groups == [["a", "b", "c"]]
            assert singles == [("z", 2)]  # "a" waits for its group
            release.set()
            await router.wait_idle()
    assert singles == [("z", 2), ("a", 2)]
    assert tickets["a"].done_flag and tickets["b"].done_flag and later.done_flag and alone.done_flag
    assert not tickets["c"].done_flag and tickets["c"].failed and len(retried) == 1
    assert router.active == 0 and router.handled == 4
