"""``crmsync demo``: not written yet."""

from __future__ import annotations

import sys


def main() -> int:
    sys.stderr.write("crmsync demo: not available yet\n")
    return 1
