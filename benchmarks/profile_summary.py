"""Where an engine run's time went, from a raw py-spy profile (``crmsync bench --profile DIR
--profile-format raw``): ``python -m benchmarks.profile_summary DIR/01-initial-10000-lifted.txt``.

A raw profile is one line per distinct stack, ``frame;frame;...;frame count``, sampled 100 times a
second. The summary counts the engine's main thread only (SQLite's worker thread waits on its
queue most of the time, which py-spy cannot always tell from work), attributes each sample to the
innermost frame's package, and groups them: our own code, the event loop's machinery (asyncio,
anyio), waiting for I/O (the selector), the SQLite hops (aiosqlite), HTTP (aiohttp, ssl), the rest.
Then, for our own code, the top-level paths by inclusive share, so a figure like "a third of the
time goes to reading the change streams" can be checked against the profile itself.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("crmsync (actors/, engine/)", ("actors/", "engine/")),
    ("waiting for I/O (selector)", ("selectors.py",)),
    ("event loop machinery (asyncio, anyio)", ("asyncio/", "anyio/")),
    ("SQLite hops (aiosqlite)", ("aiosqlite/",)),
    ("HTTP (aiohttp, ssl, yarl, multidict)", ("aiohttp/", "ssl.py", "yarl/", "multidict/")),
    ("logging (loguru)", ("loguru/",)),
    ("start-up (imports)", ("<frozen importlib",)),
)
_FILE = re.compile(r"\(([^:()]+):\d+\)$")
_PATHS = (
    ("reading change streams (ChangeStream.poll)", "ChangeStream.poll"),
    ("actors (Router._drain)", "Router._drain"),
    ("  of which: echoes recognised early", "ContactActor._agrees_with_last_commit"),
    ("batch calls (Batcher._send)", "Batcher._send"),
    ("group commits (StateStore.commit)", "StateStore.commit"),
    ("API budget (Budget.acquire)", "Budget.acquire"),
)


def group_of(frame: str) -> str:
    match = _FILE.search(frame)
    where = match.group(1) if match else frame
    for name, needles in GROUPS:
        if any(n in where for n in needles):
            return name
    return "other (msgspec, stdlib, …)"


def summarise(lines: list[str]) -> tuple[int, Counter[str], Counter[str]]:
    total = 0
    groups: Counter[str] = Counter()
    paths: Counter[str] = Counter()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if frames[0].startswith("Thread._bootstrap") or "(threading.py" in frames[0]:
            continue  # not the main thread
        n = int(count)
        total += n
        groups[group_of(frames[-1])] += n
        for label, needle in _PATHS:
            if any(needle in f for f in frames):
                paths[label] += n
    return total, groups, paths


def render(total: int, groups: Counter[str], paths: Counter[str]) -> str:
    if total == 0:
        return "no main-thread samples"
    out = [
        f"main-thread samples: {total} ({total / 100:.1f} s at 100 Hz)",
        "",
        "| where | share |",
        "|---|---|",
    ]
    out += [f"| {name} | {n / total:.1%} |" for name, n in groups.most_common()]
    out += ["", "| path (inclusive) | share |", "|---|---|"]
    out += [f"| {label} | {paths[label] / total:.1%} |" for label, _ in _PATHS]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path, help="a raw py-spy profile (--profile-format raw)")
    args = parser.parse_args()
    sys.stdout.write(render(*summarise(args.profile.read_text().splitlines())) + "\n")


if __name__ == "__main__":
    main()
