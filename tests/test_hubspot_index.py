"""The last-modified index behind incremental-sync searches, against a sorted list as the model."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mockcrm.hubspot.store import ModifiedIndex

entries = st.tuples(st.integers(0, 50), st.integers(0, 5_000))
ops = st.lists(st.tuples(st.booleans(), entries), max_size=3_000)


@settings(max_examples=60, deadline=None)
@given(
    ops=ops,
    window=st.tuples(st.integers(-1, 52), st.integers(-1, 52)),
    cut=st.tuples(st.integers(0, 3_000), st.integers(0, 3_000)),
)
def test_index_matches_a_sorted_list(
    ops: list[tuple[bool, tuple[int, int]]], window: tuple[int, int], cut: tuple[int, int]
) -> None:
    index, model = ModifiedIndex(), set[tuple[int, int]]()
    for remove, entry in ops:
        if remove and model:
            victim = min(model, key=lambda e: (e[1] * 7919 + entry[1]) % 10_007)  # any live entry
            model.discard(victim)
            index.remove(*victim)
        elif entry not in model:
            model.add(entry)
            index.add(*entry)
    ordered = sorted(model)
    assert len(index) == len(ordered)
    assert list(index.entries(0, len(ordered))) == ordered
    lo, hi = sorted(window)
    start, stop = index.bounds(lo, hi)
    assert ordered[start:stop] == [e for e in ordered if lo <= e[0] <= hi]
    a, b = sorted(min(c, len(ordered)) for c in cut)
    assert list(index.entries(a, b)) == ordered[a:b]
    assert list(index.entries(a, b, reverse=True)) == ordered[a:b][::-1]


def test_blocks_split_and_merge_under_volume() -> None:
    index = ModifiedIndex()
    for i in range(5_000):
        index.add(i // 3, i)  # many records share one millisecond
    for i in range(0, 5_000, 2):
        index.remove(i // 3, i)
    assert len(index) == 2_500
    assert index.bounds(0, 10) == (0, 16)  # ids 1, 3, ..., 31 (ms = id // 3 <= 10)
    assert [e[1] for e in index.entries(0, 4)] == [1, 3, 5, 7]
    assert [e[1] for e in index.entries(2_496, 2_500, reverse=True)] == [4_999, 4_997, 4_995, 4_993]
