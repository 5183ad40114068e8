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

HORIZON_S = 600.0
"""Commits are remembered this long; a snapshot older than this is always read afresh."""
_PRUNE_AT = 4096


class PairCommits:
    """Per link key, the ``time.monotonic()`` of this process's last commit of the pair."""

    def __init__(self) -> None:
        self._at: dict[str, float] = {}

    def committed(self, key: str) -> None:
        now = time.monotonic()
        self._at[key] = now
        if len(self._at) > _PRUNE_AT:
            # Only entries older than the horizon go: a snapshot they could flag is stale anyway.
            self._at = {k: t for k, t in self._at.items() if t >= now - HORIZON_S}

    def may_be_stale(self, key: str, read_at: float) -> bool:
        """True when the pair was committed after the snapshot was requested (or long ago)."""
        if time.monotonic() - read_at > HORIZON_S:
            return True
        return read_at <= self._at.get(key, -math.inf)
