"""Failpoints: named instants where a chaos run makes the engine kill itself with SIGKILL.

``CRMSYNC_FAILPOINTS="store_commit:3"`` kills the process at the third time it reaches the
``store_commit`` point; several points are separated by commas (``page_read:5,write_sent:1``) and
the first one reached its count wins. This is how ``crmsync chaos`` and ``tests/test_crash.py``
land a ``kill -9`` on an exact instant instead of hoping a timer hits it.

Unset (always, outside chaos runs) every hook is one attribute test: hooks read
``if failpoints.ARMED: failpoints.hit("name")``, and ``ARMED`` is decided once at import.

The points, and the instant each one stands for:

- ``page_read``: a change-stream page has been read and is being delivered — some of its changes
  are with the actors, the rest not yet (hit once per change delivered).
- ``write_sent``: a batch write reached the CRM and its reply arrived, but no record in it has
  been handed its result (hit once per batch write call).
- ``after_write_before_commit``: a pair's remote writes succeeded, its link and bases are not yet
  in the state file (hit once per pair about to be committed after writing).
- ``store_commit``: inside the state store's group commit, the rows written into the open SQLite
  transaction, ``COMMIT`` not yet issued (hit once per transaction).
"""

from __future__ import annotations

import os
import signal
import sys
from collections import Counter

POINTS = ("page_read", "write_sent", "after_write_before_commit", "store_commit")
ENV = "CRMSYNC_FAILPOINTS"
MARK = "crmsync failpoint"
"""Prefix of the one stderr line written just before the kill (the chaos runner counts them)."""


def parse(spec: str) -> dict[str, int]:
    """``"name:N,name2:M"`` → {name: N}; raises ValueError on an unknown name or a bad count."""
    armed: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, count = part.partition(":")
        if name not in POINTS:
            raise ValueError(f"{ENV}: unknown failpoint {name!r} (known: {', '.join(POINTS)})")
        n = int(count) if sep else 1
        if n < 1:
            raise ValueError(f"{ENV}: {name} needs a hit count of at least 1")
        armed[name] = n
    return armed


def format_spec(armed: dict[str, int]) -> str:
    return ",".join(f"{name}:{n}" for name, n in armed.items())


ARMED: dict[str, int] = parse(os.environ.get(ENV, ""))
_hits: Counter[str] = Counter()


def hit(name: str) -> None:
    """Count a pass through ``name``; SIGKILL this process when its armed count is reached."""
    _hits[name] += 1
    if ARMED.get(name) == _hits[name]:
        # Said on stderr first so the runner can tell a failpoint's kill from its own timer's;
        # nothing else is flushed or closed — that is the point.
        sys.stderr.write(f"{MARK} {name} hit {_hits[name]}: SIGKILL\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
