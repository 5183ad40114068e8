"""When a snapshot from a change stream may be older than the record it shows.

A stream reads a page, and the changes in it wait for their actors. Meanwhile the actor of the
pair's *other* record may write to this record and commit new bases: the snapshot then predates our
own write, disagrees with the new bases, and — reconciled as it stands — would look like an edit
back to the old value (an extra write each way, and a stale value shown on the other side until
the record's next version arrives). So an actor notes when it commits each pair, and a snapshot
requested before that moment is replaced by a fresh read of the record (one batched read, only in
that race).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

HORIZON_S = 600.0
"""Commits are remembered this long; a snapshot older than this is always read afresh."""
CAPACITY = 100_000
"""At most this many commits are remembered (about 3 MB per 10,000; a 1M-pair backfill would
otherwise hold a horizon's worth). A snapshot requested before the newest forgotten commit is
read afresh when its pair is no longer remembered: it may predate that commit."""


class PairCommits:
    """Per link key, the ``time.monotonic()`` of this process's last commit of the pair."""

    def __init__(self, capacity: int = CAPACITY, clock: Callable[[], float] = time.monotonic) -> None:
        # Oldest commit first (a key committed again moves to the end), so forgetting is O(1) per
        # commit: rebuilding the whole map on each commit once it was large cost a third of the
        # engine's time in a 10,000-pair backfill.
        self._at: OrderedDict[str, float] = OrderedDict()
        self._capacity = capacity
        self._forgotten_at = -math.inf
        self._clock = clock

    def committed(self, key: str) -> None:
        now = self._clock()
        self._at[key] = now
        self._at.move_to_end(key)
        horizon = now - HORIZON_S
        while self._at:
            oldest_key, oldest = next(iter(self._at.items()))
            if oldest >= horizon and len(self._at) <= self._capacity:
                break
            del self._at[oldest_key]
            if oldest >= horizon:
                self._forgotten_at = oldest  # forgotten early: remember how recent it was

    def may_be_stale(self, key: str, read_at: float) -> bool:
        """True when the pair was committed after the snapshot was requested (or long ago)."""
        if self._clock() - read_at > HORIZON_S:
            return True
        at = self._at.get(key)
        if at is None:
            return read_at <= self._forgotten_at
        return read_at <= at
