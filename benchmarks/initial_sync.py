"""Initial sync throughput alone (kept for its old command line; ``crmsync bench`` does more).

Same as ``crmsync bench --scenario initial --limits lifted`` without the baseline: N contact pairs
through ``--backfill``, mocks and engine in their own processes (see ``scenario_initial``).

    .venv/bin/python -m benchmarks.initial_sync --records 10000 --out benchmarks/out/initial-10k.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import anyio
import msgspec

from benchmarks.harness import Mocks, temp_dir
from benchmarks.options import Regime
from benchmarks.scenario_initial import InitialResult, run_initial


async def measure(records: int, regime: Regime = "lifted") -> InitialResult:
    async with Mocks(regime) as mocks:
        with temp_dir() as tmp:
            return await run_initial(mocks, records, Path(tmp))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--limits", choices=("real", "lifted"), default="lifted")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    figures = anyio.run(measure, args.records, args.limits)
    data: dict[str, Any] = msgspec.to_builtins(figures)
    data.pop("by_endpoint")
    width = max(len(k) for k in data)
    for key, value in data.items():
        sys.stdout.write(f"{key:<{width}}  {value}\n")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(msgspec.to_builtins(figures), indent=2) + "\n")


if __name__ == "__main__":
    main()
