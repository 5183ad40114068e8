"""Initial sync throughput: N contact pairs through ``--backfill``, engine and mocks in separate processes.

The mocks run as ``crmsync mock --lift-limits`` in their own process (so the engine's CPU is its
own), seeded with a third HubSpot-only people, a third Salesforce-only, and a third present on both
sides under the same email with a differing job title. The engine then backfills to idle in this
process. Reported: record pairs/s, API calls per record per system (the mocks' own counters), engine
CPU seconds per 1,000 records, peak RSS, state file size.

    .venv/bin/python -m benchmarks.initial_sync --records 10000 --out benchmarks/out/initial-10k.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import msgspec

from engine.runtime import sync_until_idle
from engine.settings import (
    HubSpotSettings,
    SalesforceSettings,
    Settings,
    StateSettings,
    TuningSettings,
)
from mockcrm.config import MockEndpoints

SF = "/services/data/v59.0"


class Figures(msgspec.Struct, kw_only=True):
    records: int
    seconds: float
    pairs_per_s: float
    calls_hubspot: int
    calls_salesforce: int
    calls_per_record: float
    engine_cpu_s_per_1000: float
    peak_rss_mb: float
    state_file_mb: float
    created_hubspot: int
    created_salesforce: int
    errors: int


def start_mocks() -> tuple[subprocess.Popen[str], MockEndpoints]:
    cmd = [
        sys.executable,
        "-m",
        "engine.cli",
        "mock",
        "--lift-limits",
        "--hubspot-port",
        "0",
        "--salesforce-port",
        "0",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, msgspec.json.decode(proc.stdout.readline(), type=MockEndpoints)


async def seed(ep: MockEndpoints, records: int) -> None:
    third = records // 3
    ctx = ssl.create_default_context(cafile=ep.ca_file) if ep.ca_file else True
    timeout = aiohttp.ClientTimeout(total=3600)
    async with aiohttp.ClientSession(timeout=timeout) as s:
        for url, body in (
            (ep.hubspot_url, {"object_type": "contacts", "count": third, "seed": 1}),
            (ep.salesforce_url, {"sobject": "Contact", "count": 2 * third, "seed": 2}),
        ):
            async with s.post(url + "/__mock/seed", json=body, ssl=ctx) as r:
                assert r.status == 200, await r.text()
        # The same people on the HubSpot side for the last third of the Salesforce contacts.
        async with s.get(ep.salesforce_url + "/__mock/dump/Contact", ssl=ctx) as r:
            contacts = msgspec.json.decode(await r.read())["records"][third:]
        auth = {"Authorization": f"Bearer {ep.hubspot_token}"}
        for i in range(0, len(contacts), 100):
            inputs = [
                {
                    "properties": {
                        "email": c["Email"],
                        "lastname": c["LastName"],
                        "jobtitle": "Title from HubSpot",
                    }
                }
                for c in contacts[i : i + 100]
            ]
            async with s.post(
                ep.hubspot_url + "/crm/v3/objects/contacts/batch/create",
                json={"inputs": inputs},
                headers=auth,
            ) as r:
                assert r.status in (200, 201), await r.text()


async def mock_calls(ep: MockEndpoints) -> tuple[int, int]:
    ctx = ssl.create_default_context(cafile=ep.ca_file) if ep.ca_file else True
    async with aiohttp.ClientSession() as s:
        async with s.get(ep.hubspot_url + "/__mock/stats") as r:
            hs = json.loads(await r.read())["api_calls"]
        async with s.get(ep.salesforce_url + "/__mock/stats", ssl=ctx) as r:
            sf = json.loads(await r.read())["api_calls"]
    return int(hs), int(sf)


def settings_for(ep: MockEndpoints, state: Path) -> Settings:
    return Settings(
        hubspot=HubSpotSettings(
            base_url=ep.hubspot_url,
            token=ep.hubspot_token,
            daily_api_allotment=10_000_000,
            burst_per_10s=0,
            search_per_s=0,
        ),
        salesforce=SalesforceSettings(
            instance_url=ep.salesforce_url,
            token=ep.salesforce_token,
            ca_file=ep.ca_file,
            daily_api_allotment=10_000_000,
        ),
        state=StateSettings(path=str(state)),
        tuning=TuningSettings(log_level="WARNING"),
    )


async def measure(records: int) -> Figures:
    proc, ep = start_mocks()
    try:
        await seed(ep, records)
        with tempfile.TemporaryDirectory() as tmp:
            state = Path(tmp) / "state.db"
            settings = settings_for(ep, state)
            await sync_until_idle(settings)  # initialise the state file (nothing syncs by itself)
            hs0, sf0 = await mock_calls(ep)
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            summary = await sync_until_idle(settings, backfill=True)
            seconds = time.perf_counter() - t0
            cpu = time.process_time() - cpu0
            hs1, sf1 = await mock_calls(ep)
            size = _dir_size(tmp)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return Figures(
        records=records,
        seconds=round(seconds, 2),
        pairs_per_s=round(records / seconds, 1),
        calls_hubspot=hs1 - hs0,
        calls_salesforce=sf1 - sf0,
        calls_per_record=round((hs1 - hs0 + sf1 - sf0) / records, 4),
        engine_cpu_s_per_1000=round(cpu / records * 1000, 3),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        state_file_mb=round(size / 1e6, 2),
        created_hubspot=summary.created.hubspot,
        created_salesforce=summary.created.salesforce,
        errors=summary.errors,
    )


def _dir_size(path: str) -> int:
    """The state file with its WAL and lock files."""
    return sum(os.path.getsize(os.path.join(path, name)) for name in os.listdir(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    figures = anyio.run(measure, args.records)
    data: dict[str, Any] = msgspec.to_builtins(figures)
    width = max(len(k) for k in data)
    for key, value in data.items():
        sys.stdout.write(f"{key:<{width}}  {value}\n")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    main()
