"""PairCommits: which snapshots may predate our own commit of their pair (actors/contact_fresh.py)."""

from __future__ import annotations

from actors.contact_fresh import HORIZON_S, PairCommits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def tick(self) -> float:
        self.now += 1.0
        return self.now


def test_a_snapshot_read_before_the_pairs_commit_may_be_stale() -> None:
    clock = Clock()
    commits = PairCommits(clock=clock)
    before = clock.now
    clock.tick()
    commits.committed("a")
    after = clock.tick()
    assert commits.may_be_stale("a", before)
    assert not commits.may_be_stale("a", after)
    assert not commits.may_be_stale("b", before)  # never committed by us: nothing to predate


def test_a_forgotten_pair_is_read_afresh_only_if_the_snapshot_predates_what_was_forgotten() -> None:
    clock = Clock()
    commits = PairCommits(capacity=3, clock=clock)
    early = clock.now
    for key in ("a", "b", "c", "d", "e"):
        clock.tick()
        commits.committed(key)
    late = clock.tick()
    # "a" and "b" were forgotten to keep the map at 3: a snapshot older than "b"'s commit can no
    # longer be told apart, so it is read afresh; one newer than every forgotten commit is not.
    assert commits.may_be_stale("a", early)
    assert commits.may_be_stale("b", early)
    assert not commits.may_be_stale("a", late)
    assert commits.may_be_stale("e", early)
    assert not commits.may_be_stale("e", late)


def test_committing_again_keeps_the_newest_moment() -> None:
    clock = Clock()
    commits = PairCommits(capacity=2, clock=clock)
    commits.committed("a")
    clock.tick()
    commits.committed("b")
    between = clock.tick()
    clock.tick()
    commits.committed("a")  # "a" is now the newest: "b" is the one to forget next
    clock.tick()
    commits.committed("c")
    assert commits.may_be_stale("a", between)
    assert commits.may_be_stale("b", between - 1.5)  # forgotten, and the snapshot predates it
    assert not commits.may_be_stale("b", between)
    assert not commits.may_be_stale("c", clock.tick())


def test_commits_past_the_horizon_are_forgotten_and_old_snapshots_always_stale() -> None:
    clock = Clock()
    commits = PairCommits(clock=clock)
    commits.committed("a")
    start = clock.now
    clock.now += HORIZON_S + 1
    commits.committed("b")
    assert len(commits._at) == 1
    assert commits.may_be_stale("a", start)  # older than the horizon: read afresh whatever it is
    assert not commits.may_be_stale("a", clock.now)


def test_a_large_backfill_stays_linear() -> None:
    # 200,000 commits all inside the horizon: the map holds at most its capacity. (Rebuilding
    # the map on every commit once it was large made a 10,000-pair backfill a third slower.)
    commits = PairCommits(capacity=1000)
    for i in range(200_000):
        commits.committed(str(i))
    assert len(commits._at) == 1000
