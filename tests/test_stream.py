"""Change-stream cursors: equal timestamps across pages, late-visible records, the low watermark."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import anyio

from actors.stream import Change, ChangeStream, Ticket
from engine.store import StateStore


class ListSource:
    """A CRM's change feed reduced to a sorted list, paged like the real ones."""

    def __init__(self, page_size: int) -> None:
        self.records: dict[str, int] = {}  # id -> modified_ms
        self.values: dict[str, dict[str, str]] = {}
        self.page_size = page_size
        self.pages = 0
        self.returned: list[str] = []
        """Every record id a page returned, re-reads included."""
        self.bounded = 0
        """Passes asked for with an upper bound (look-back slices)."""

    def touch(self, record_id: str, ms: int, **values: str) -> None:
        self.records[record_id] = ms
        self.values[record_id] = values

    async def page(
        self,
        since_ms: int,
        token: str | None,
        *,
        until_ms: int | None = None,
        after_id: str | None = None,
    ) -> tuple[list[Change], str | None]:
        self.pages += 1
        if until_ms is not None and token is None:
            self.bounded += 1
        top = until_ms if until_ms is not None else float("inf")
        rows = sorted((ms, rid) for rid, ms in self.records.items() if since_ms <= ms <= top)
        self.returned.extend(rid for _, rid in rows[int(token or 0) : int(token or 0) + self.page_size])
        start = int(token or 0)
        chunk = rows[start : start + self.page_size]
        nxt = str(start + self.page_size) if start + self.page_size < len(rows) else None
        changes = [
            Change(system="s", object="o", record_id=r, modified_ms=ms, values=self.values[r])
            for ms, r in chunk
        ]
        return changes, nxt


class Handler:
    def __init__(self, finish: bool = True) -> None:
        self.seen: list[tuple[str, int]] = []
        self.tickets: list[Ticket] = []
        self.finish = finish

    async def __call__(self, change: Change, ticket: Ticket) -> None:
        self.seen.append((change.record_id, change.modified_ms))
        self.tickets.append(ticket)
        if self.finish:
            ticket.done()


async def test_equal_timestamps_across_pages_are_all_delivered_once(tmp_path: Path) -> None:
    source = ListSource(page_size=7)
    for i in range(50):
        source.touch(f"r{i:02d}", 1000)  # fifty records, one millisecond
    async with await StateStore.open(tmp_path / "s.db") as store:
        stream = ChangeStream("s:o", source, store, overlap_ms=100)
        await stream.load(initial_ms=0)
        handler = Handler()
        assert await stream.poll(handler) == 50
        assert sorted(handler.seen) == [(f"r{i:02d}", 1000) for i in range(50)]
        assert await stream.poll(handler) == 0  # overlap re-read, nothing new
        await stream.checkpoint()
        assert (stream.cursor.ts_ms, stream.cursor.last_id) == (1000, "r49")


def now_ms() -> int:
    """The CRM's clock in these tests is ours (``time.monotonic``, as the stream reads it)."""
    return int(time.monotonic() * 1000)


async def test_a_late_visible_record_is_caught_once_its_stamp_settles(tmp_path: Path) -> None:
    source = ListSource(page_size=100)
    source.touch("a", now_ms() - 50)
    source.touch("b", now_ms())
    async with await StateStore.open(tmp_path / "s.db") as store:
        stream = ChangeStream("s:o", source, store, overlap_ms=2000, lookback_interval_s=0)
        await stream.load(initial_ms=0)
        handler = Handler()
        assert await stream.poll(handler) == 2
        late = source.records["b"] - 20
        source.touch("late", late)  # committed late, with a stamp behind the cursor
        source.touch("a", now_ms() + 1)  # and a real new edit
        assert await stream.poll(handler) == 1  # the edit; the late one's stamp is not settled yet
        await anyio.sleep(2.05)
        assert await stream.poll(handler) == 1
        assert handler.seen[-1] == ("late", late)
        assert await stream.poll(handler) == 0


async def test_a_busy_stream_reads_each_record_once_more_in_throttled_slices(tmp_path: Path) -> None:
    """Fresh records every poll, some late-visible: each is delivered once, read at most three
    times (fresh, once as the cursor's own record, once in the slice that settles it), and the
    slices come at most once per interval."""
    source = ListSource(page_size=4)
    async with await StateStore.open(tmp_path / "s.db") as store:
        stream = ChangeStream("s:o", source, store, overlap_ms=800, lookback_interval_s=0.25, slice_from=0)
        await stream.load(initial_ms=0)
        handler = Handler()
        started = time.monotonic()
        for i in range(40):
            source.touch(f"r{i:02d}", now_ms())
            if i % 5 == 4:
                source.touch(f"late{i:02d}", now_ms() - 100)
            await stream.poll(handler)
            await anyio.sleep(0.04)
        elapsed = time.monotonic() - started
        await anyio.sleep(0.85)
        await stream.poll(handler)
        await stream.poll(handler)
    ids = [rid for rid, _ in handler.seen]
    assert sorted(ids) == sorted(source.records)  # every one, late ones too, each once
    reads = Counter(source.returned)
    assert max(reads.values()) <= 3, reads.most_common(3)
    slices = source.bounded
    assert 1 <= slices <= elapsed / 0.25 + 2


async def test_cursor_holds_at_the_low_watermark_and_survives_restart(tmp_path: Path) -> None:
    source = ListSource(page_size=100)
    for i in range(5):
        source.touch(f"r{i}", 1000 + i)
    path = tmp_path / "s.db"
    async with await StateStore.open(path) as store:
        stream = ChangeStream("s:o", source, store, overlap_ms=0)
        await stream.load(initial_ms=0)
        handler = Handler(finish=False)
        await stream.poll(handler)
        for i in (0, 1, 3, 4):  # r2 is still in flight
            handler.tickets[i].done()
        assert not stream.idle
        await stream.checkpoint()
        assert stream.cursor.last_id == "r1"
    async with await StateStore.open(path) as store:  # crash before r2 finished: it comes again
        stream = ChangeStream("s:o", source, store, overlap_ms=0)
        await stream.load(initial_ms=0)
        handler = Handler()
        await stream.poll(handler)
        assert [rid for rid, _ in handler.seen] == ["r2", "r3", "r4"]
        assert stream.idle
        await stream.checkpoint()
        assert await store.cursor("s:o") == stream.cursor


async def test_a_new_state_file_starts_now_and_ignores_the_past(tmp_path: Path) -> None:
    source = ListSource(page_size=100)
    source.touch("old", 500)
    async with await StateStore.open(tmp_path / "s.db") as store:
        stream = ChangeStream("s:o", source, store, overlap_ms=0)
        await stream.load(initial_ms=1000)
        handler = Handler()
        assert await stream.poll(handler) == 0
        source.touch("new", 1200)
        with anyio.fail_after(5):
            assert await stream.poll(handler) == 1
        assert handler.seen == [("new", 1200)]


async def test_two_versions_stamped_in_the_same_second_are_both_delivered(tmp_path: Path) -> None:
    source = ListSource(page_size=100)
    source.touch("a", 5000, title="first")
    source.touch("b", 5000, title="x")
    async with await StateStore.open(tmp_path / "s.db") as store:
        stream = ChangeStream("s:o", source, store, overlap_ms=60_000, lookback_interval_s=0)
        await stream.load(initial_ms=0)
        handler = Handler()
        await stream.poll(handler)
        await stream.checkpoint()
        assert stream.cursor.last_id == "b"
        source.touch("a", 5000, title="second")  # edited again within the same whole second
        assert await stream.poll(handler) == 1
        assert handler.seen[-1] == ("a", 5000)
        assert await stream.poll(handler) == 0  # and that version only once


async def test_an_idle_stream_stops_rereading_a_settled_window(tmp_path: Path) -> None:
    """1 s (the overlap) after the newest stamp, nothing up to it can still appear, so once a pass
    has read the window at that time, a poll reads from the cursor on: one page per pass."""
    source = ListSource(page_size=10)
    start = now_ms() - 35
    for i in range(35):
        source.touch(f"r{i:02d}", start + i)
    async with await StateStore.open(tmp_path / "s.db") as store:
        stream = ChangeStream("s:o", source, store, overlap_ms=1000, lookback_interval_s=0)
        await stream.load(initial_ms=0)
        handler = Handler()

        async def pages_of_a_pass() -> int:
            before = source.pages
            await stream.poll(handler)
            return source.pages - before

        assert await pages_of_a_pass() == 4  # 35 new records
        source.touch("late", start + 10)
        await anyio.sleep(1.05)
        assert await pages_of_a_pass() == 4  # the window once more: it found the late one, settled
        assert handler.seen[-1] == ("late", start + 10)
        assert [await pages_of_a_pass() for _ in range(3)] == [1, 1, 1]
        source.touch("new", now_ms())
        assert await pages_of_a_pass() == 1
        assert handler.seen[-1][0] == "new"
        stream.rewind()  # a backfill starts from nothing settled
        assert await pages_of_a_pass() == 4


async def test_one_long_pass_remembers_only_its_look_back_window(tmp_path: Path) -> None:
    """A backfill's pass reads every record once: what it remembers to skip re-reads stays near the
    overlap window's records (amortised pruning), not one entry per record read."""
    source = ListSource(page_size=100)
    for i in range(20_000):
        source.touch(f"r{i:05d}", 1000 + i)  # one record per millisecond
    async with await StateStore.open(tmp_path / "s.db") as store:
        stream = ChangeStream("s:o", source, store, overlap_ms=500)
        await stream.load(initial_ms=0)
        most = 0

        async def handler(change: Change, ticket: Ticket) -> None:
            nonlocal most
            most = max(most, len(stream._recent))
            ticket.done()

        assert await stream.poll(handler) == 20_000
        assert most <= 2 * (500 + 100) + 1024  # twice (window + a page), at the least 1,024
        assert await stream.poll(handler) == 0  # the window's re-read is still recognised


def test_a_done_ticket_keeps_its_key_and_lets_its_values_go() -> None:
    change = Change(
        system="hubspot", object="contacts", record_id="7", modified_ms=5, values={"email": "a@x.io"}
    )
    ticket = Ticket(change)
    ticket.fail()
    assert ticket.change is change  # a failed one is delivered again, whole
    ticket.failed = False
    ticket.done()
    assert ticket.key == (5, "7") and ticket.done_flag
    assert ticket.change.values == {}


async def test_a_backfill_reads_ahead_while_delivery_is_held_back(tmp_path: Path) -> None:
    """Actors waiting for a rate limit hold the reader back: a backfill's pass keeps reading (up
    to its read-ahead) so that the search lane stays busy; a poll reads one page ahead only."""
    source = ListSource(page_size=2)
    for i in range(40):
        source.touch(f"r{i:02d}", 1000 + i)
    gate = anyio.Event()
    handler = Handler()

    async def held(change: Change, ticket: Ticket) -> None:
        await gate.wait()  # every actor busy: routing blocks
        await handler(change, ticket)

    async with await StateStore.open(tmp_path / "s.db") as store:
        backfill = ChangeStream("s:o", source, store, overlap_ms=0, read_ahead=10)
        await backfill.load(initial_ms=0)
        backfill.rewind()
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(backfill.poll, held)
                await anyio.sleep(0.3)
                assert source.pages == 6  # the page being delivered, and five of 2 ahead (10 changes)
                gate.set()
        assert [rid for rid, _ in handler.seen] == [f"r{i:02d}" for i in range(40)]  # in order, once

        # A poll after the backfill: one page ahead, as before.
        for i in range(40, 60):
            source.touch(f"r{i:02d}", 2000 + i)
        gate = anyio.Event()
        pages_before = source.pages
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(backfill.poll, held)
                await anyio.sleep(0.3)
                assert source.pages == pages_before + 2  # the page being delivered, and the next
                gate.set()
        assert len(handler.seen) == 60
