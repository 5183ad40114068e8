"""How many records per second the mock CRMs move through their batch write, search and query APIs.

Starts ``crmsync mock --lift-limits`` as a subprocess (as a user would), then drives it over loopback
with aiohttp: HubSpot batch create/update (100 contacts a call) and search paging (200 a page), and
Salesforce sObject Collections create/update (200 Contacts a call) and SOQL paging. Request bodies
are built before the clock starts, so the figures are the server's, not the generator's. The mock
process's CPU time (``/proc/<pid>/stat``) is read around each phase, which gives records/s per core.

    .venv/bin/python -m benchmarks.mock_capacity --records 20000 --concurrency 4 --out mock_capacity.json
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import ssl
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import msgspec

from benchmarks.harness import machine_info, proc_cpu_seconds
from mockcrm.fakedata import FakeData

SF_API = "/services/data/v59.0"
HS_PATH = "/crm/v3/objects/contacts"
PHASES = (
    "hs-create", "hs-update", "hs-search", "sf-create", "sf-update", "sf-query", "hs-workload", "sf-workload",
)  # fmt: skip
WORKLOAD_S = 3.0
HS_BATCH = 100
SF_BATCH = 200
SEARCH_PAGE = 200
SEARCH_CAP = 10_000  # HubSpot refuses to page a search past 10,000 results
TIMEOUT = aiohttp.ClientTimeout(total=300)


# The mock under cProfile with a CPU-time clock: on a busy machine a wall clock would charge other
# processes' time slices to whatever call was running (typically the loopback ``send``).
_PROFILED_MOCK = """
import cProfile, sys, time
from engine.cli import main
profiler = cProfile.Profile(time.process_time)
try:
    profiler.runcall(main, sys.argv[2:])
finally:
    profiler.dump_stats(sys.argv[1])
"""


class Result(msgspec.Struct, kw_only=True):
    endpoint: str
    records: int
    seconds: float
    records_per_s: float
    calls: int
    errors: int
    server_cpu_s: float
    records_per_cpu_s: float | None
    """Records per second of mock CPU time: the throughput one fully busy core would give."""
    client_cpu_s: float
    """CPU time of this benchmark process: when it nears ``seconds``, the client is the limit."""
    note: str | None = None


class Phase:
    """Counters one measured phase fills in."""

    def __init__(self) -> None:
        self.records = 0
        self.calls = 0
        self.errors = 0
        self.note: str | None = None
        self.ids: list[str] = []
        """Ids of the records a create phase made (for the update phase that follows)."""


async def start_mock(
    plain_http: bool, profile: str | None
) -> tuple[asyncio.subprocess.Process, dict[str, Any]]:
    # Under cProfile the figures shrink (every call is traced), but the breakdown shows where the
    # mock's time goes; the stats are written when the mock exits on SIGTERM.
    prof = ["-c", _PROFILED_MOCK, profile] if profile else ["-m", "engine.cli"]
    cmd = [sys.executable, *prof, "mock", "--lift-limits", "--hubspot-port", "0"]
    cmd += ["--salesforce-port", "0"] + (["--plain-http"] if plain_http else [])
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
        info: dict[str, Any] = msgspec.json.decode(line)
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    return proc, info


async def stop_mock(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout=15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def in_parallel(
    bodies: list[bytes], concurrency: int, send: Callable[[bytes], Awaitable[None]]
) -> None:
    """Send every body, ``concurrency`` requests in flight at a time."""
    queue = iter(bodies)

    async def worker() -> None:
        for body in queue:  # a shared iterator: each body goes to exactly one worker
            await send(body)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


class Bench:
    def __init__(
        self, session: aiohttp.ClientSession, info: dict[str, Any], pid: int, args: argparse.Namespace
    ):
        self.s = session
        self.hs_url = info["hubspot_url"]
        self.sf_url = info["salesforce_url"] + SF_API
        self.hs_auth = {
            "Authorization": f"Bearer {info['hubspot_token']}",
            "Content-Type": "application/json",
        }
        self.sf_auth = {
            "Authorization": f"Bearer {info['salesforce_token']}",
            "Content-Type": "application/json",
        }
        self.pid = pid
        self.n = args.records
        self.concurrency = args.concurrency
        self.fake = FakeData(2024)
        self.results: list[Result] = []

    async def measure(self, endpoint: str, run: Callable[[Phase], Awaitable[None]]) -> Phase:
        phase = Phase()
        cpu0, client0, t0 = proc_cpu_seconds(self.pid), time.process_time(), time.perf_counter()
        try:
            await run(phase)
        except Exception as exc:  # a missing endpoint is reported, and the other phases still run
            phase.note = f"failed: {exc!r}"[:300]
        seconds = time.perf_counter() - t0
        cpu = proc_cpu_seconds(self.pid) - cpu0
        self.results.append(
            Result(
                endpoint=endpoint,
                records=phase.records,
                seconds=round(seconds, 3),
                records_per_s=round(phase.records / seconds, 1) if seconds > 0 else 0.0,
                calls=phase.calls,
                errors=phase.errors,
                server_cpu_s=round(cpu, 3),
                records_per_cpu_s=round(phase.records / cpu, 1) if cpu > 0 else None,
                client_cpu_s=round(time.process_time() - client0, 3),
                note=phase.note,
            )
        )
        return phase

    async def _post(self, phase: Phase, method: str, url: str, body: bytes, headers: dict[str, str]) -> Any:
        async with self.s.request(method, url, data=body, headers=headers, timeout=TIMEOUT) as resp:
            phase.calls += 1
            raw = await resp.read()
            if resp.status >= 300:
                raise RuntimeError(f"{method} {url} -> {resp.status}: {raw[:200]!r}")
            return msgspec.json.decode(raw) if raw else None

    # -- request bodies, built before the clock starts -----------------------------------------
    def hs_create_bodies(self) -> list[bytes]:
        props = [self.fake.hubspot_properties("contacts") for _ in range(self.n)]
        return [
            msgspec.json.encode({"inputs": [{"properties": p} for p in props[i : i + HS_BATCH]]})
            for i in range(0, len(props), HS_BATCH)
        ]

    def hs_update_bodies(self, ids: list[str]) -> list[bytes]:
        inputs = [{"id": i, "properties": self.fake.hubspot_update("contacts")} for i in ids]
        return [
            msgspec.json.encode({"inputs": inputs[i : i + HS_BATCH]}) for i in range(0, len(inputs), HS_BATCH)
        ]

    def sf_create_bodies(self) -> list[bytes]:
        attrs = {"attributes": {"type": "Contact"}}
        return self._sf_bodies([attrs | self.fake.salesforce_fields("Contact") for _ in range(self.n)])

    def sf_update_bodies(self, ids: list[str]) -> list[bytes]:
        return self._sf_bodies(
            [
                {"attributes": {"type": "Contact"}, "id": i} | self.fake.salesforce_update("Contact")
                for i in ids
            ]
        )

    @staticmethod
    def _sf_bodies(records: list[dict[str, object]]) -> list[bytes]:
        return [
            msgspec.json.encode({"allOrNone": False, "records": records[i : i + SF_BATCH]})
            for i in range(0, len(records), SF_BATCH)
        ]

    # -- measured phases -----------------------------------------------------------------------
    async def hs_batches(self, phase: Phase, url: str, bodies: list[bytes]) -> None:
        async def send(body: bytes) -> None:
            reply = await self._post(phase, "POST", url, body, self.hs_auth)
            phase.ids.extend(r["id"] for r in reply["results"])
            phase.records += len(reply["results"])
            phase.errors += int(reply.get("numErrors", 0))

        await in_parallel(bodies, self.concurrency, send)

    async def sf_collections(self, phase: Phase, method: str, bodies: list[bytes]) -> None:
        url = f"{self.sf_url}/composite/sobjects"

        async def send(body: bytes) -> None:
            for r in await self._post(phase, method, url, body, self.sf_auth):
                if r.get("success"):
                    phase.records += 1
                    phase.ids.append(r["id"])
                else:
                    phase.errors += 1
                    phase.note = phase.note or f"first error: {r.get('errors')!r}"[:300]

        await in_parallel(bodies, self.concurrency, send)

    async def hs_search(self, phase: Phase, since_ms: int) -> None:
        """Incremental-sync paging: GTE a watermark, sorted; restart from the last timestamp
        seen before the 10,000-result cap, as a real sync must."""
        url = f"{self.hs_url}/crm/v3/objects/contacts/search"
        seen: set[str] = set()
        watermark, after = since_ms, None
        while True:
            body: dict[str, object] = {
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(watermark)}
                        ]
                    }
                ],
                "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
                "properties": ["email", "lastmodifieddate"],
                "limit": SEARCH_PAGE,
            }
            if after is not None:
                body["after"] = after
            reply = await self._post(phase, "POST", url, msgspec.json.encode(body), self.hs_auth)
            results = reply["results"]
            before = len(seen)
            seen.update(r["id"] for r in results)
            nxt = reply.get("paging", {}).get("next", {}).get("after")
            if nxt is None or not results:
                break
            if int(nxt) + SEARCH_PAGE > SEARCH_CAP:
                last = results[-1]["properties"]["lastmodifieddate"]
                new_mark = int(datetime.fromisoformat(last.replace("Z", "+00:00")).timestamp() * 1000)
                if new_mark == watermark and len(seen) == before:
                    phase.note = "more than 10,000 records share one timestamp; stopped"
                    break
                watermark, after = new_mark, None
            else:
                after = nxt
        phase.records = len(seen)

    async def workload(self, phase: Phase, base: str, object_type: str, rate: float) -> None:
        """The seeded workload generator at ``rate`` changes/s for a few seconds, in the mock itself
        (no API calls): records = changes made; skipped ones mean the mock could not keep up."""
        spec = {"object_type": object_type, "rate_per_s": rate, "duration_s": WORKLOAD_S, "seed": 7}
        async with self.s.post(f"{base}/__mock/workload", json=spec, timeout=TIMEOUT) as resp:
            if resp.status != 200:
                raise RuntimeError(f"POST /__mock/workload -> {resp.status}: {(await resp.read())[:200]!r}")
        async with asyncio.timeout(WORKLOAD_S + 60):
            while True:
                await asyncio.sleep(0.1)
                async with self.s.get(f"{base}/__mock/workload", timeout=TIMEOUT) as resp:
                    status = await resp.json()
                if not status["running"]:
                    break
        phase.records = sum(status["done"].values())
        phase.errors = status["errors"]
        phase.note = f"skipped {status['skipped']} of {int(rate * WORKLOAD_S)}" if status["skipped"] else None

    async def sf_query(self, phase: Phase, since: str) -> None:
        soql = (
            f"SELECT Id, Email, SystemModstamp FROM Contact WHERE SystemModstamp > {since} "
            "ORDER BY SystemModstamp, Id"
        )
        base = self.sf_url.removesuffix(SF_API)
        url, params = f"{self.sf_url}/query", {"q": soql}
        while True:
            async with self.s.get(url, params=params, headers=self.sf_auth, timeout=TIMEOUT) as resp:
                phase.calls += 1
                raw = await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"GET {url} -> {resp.status}: {raw[:200]!r}")
            page = msgspec.json.decode(raw)
            phase.records += len(page["records"])
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                break
            url, params = base + page["nextRecordsUrl"], {}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    machine = machine_info()
    proc, info = await start_mock(args.plain_http, args.profile)
    try:
        ctx = ssl.create_default_context(cafile=info["ca_file"]) if info.get("ca_file") else None
        connector = aiohttp.TCPConnector(limit=args.concurrency, ssl=ctx if ctx is not None else True)
        async with aiohttp.ClientSession(connector=connector) as session:
            b = Bench(session, info, proc.pid, args)
            # One second of slack: the mock stamps with its own clock, which may round differently.
            since = time.time() - 1
            since_iso = datetime.fromtimestamp(since, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            hs = f"{b.hs_url}{HS_PATH}"
            want = set(args.phases.split(","))
            if "hs-create" in want:
                bodies = b.hs_create_bodies()
                created = await b.measure(
                    f"hubspot POST {HS_PATH}/batch/create",
                    lambda p: b.hs_batches(p, f"{hs}/batch/create", bodies),
                )
                if "hs-update" in want:
                    bodies = b.hs_update_bodies(created.ids)
                    await b.measure(
                        f"hubspot POST {HS_PATH}/batch/update",
                        lambda p: b.hs_batches(p, f"{hs}/batch/update", bodies),
                    )
            if "hs-search" in want:
                await b.measure(f"hubspot POST {HS_PATH}/search", lambda p: b.hs_search(p, int(since * 1000)))
            if "sf-create" in want:
                bodies = b.sf_create_bodies()
                created = await b.measure(
                    "salesforce POST /composite/sobjects (create)",
                    lambda p: b.sf_collections(p, "POST", bodies),
                )
                if "sf-update" in want:
                    bodies = b.sf_update_bodies(created.ids)
                    await b.measure(
                        "salesforce PATCH /composite/sobjects (update)",
                        lambda p: b.sf_collections(p, "PATCH", bodies),
                    )
            if "sf-query" in want:
                await b.measure(
                    "salesforce GET /query (SystemModstamp paging)", lambda p: b.sf_query(p, since_iso)
                )
            rate = args.workload_rate
            if "hs-workload" in want:
                await b.measure(
                    f"hubspot workload contacts @ {rate:g}/s",
                    lambda p: b.workload(p, b.hs_url, "contacts", rate),
                )
            if "sf-workload" in want:
                await b.measure(
                    f"salesforce workload Contact @ {rate:g}/s",
                    lambda p: b.workload(p, info["salesforce_url"], "Contact", rate),
                )
    finally:
        await stop_mock(proc)
    machine["mock_https"] = not args.plain_http
    machine["records"], machine["concurrency"] = args.records, args.concurrency
    return {"machine": machine, "results": msgspec.to_builtins(b.results)}


def table(report: dict[str, Any]) -> str:
    head = (
        f"{'endpoint':<52} {'records':>8} {'seconds':>8} {'rec/s':>9} {'calls':>6} {'errors':>6} "
        f"{'cpu s':>7} {'rec/cpu-s':>10} {'client cpu':>10}"
    )
    lines = [head, "-" * len(head)]
    for r in report["results"]:
        per_cpu = f"{r['records_per_cpu_s']:.0f}" if r["records_per_cpu_s"] else "-"
        lines.append(
            f"{r['endpoint']:<52} {r['records']:>8} {r['seconds']:>8.2f} {r['records_per_s']:>9.0f} "
            f"{r['calls']:>6} {r['errors']:>6} {r['server_cpu_s']:>7.2f} {per_cpu:>10} "
            f"{r['client_cpu_s']:>10.2f}"
        )
        if r["note"]:
            lines.append(f"    note: {r['note']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=20_000, help="records per phase (default 20,000)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    parser.add_argument("--out", help="write the JSON report here")
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma-separated subset of {','.join(PHASES)} (updates need their create; default all)",
    )
    parser.add_argument(
        "--workload-rate", type=float, default=5000, help="changes/s for the workload phases (default 5000)"
    )
    parser.add_argument("--profile", metavar="FILE", help="run the mock under cProfile, writing pstats here")
    parser.add_argument(
        "--plain-http", action="store_true", help="serve Salesforce over HTTP instead of HTTPS"
    )
    args = parser.parse_args(argv)
    if args.records < 1 or args.concurrency < 1:
        parser.error("--records and --concurrency must be positive")
    if not set(args.phases.split(",")) <= set(PHASES):
        parser.error(f"--phases: choose from {','.join(PHASES)}")
    report = asyncio.run(run(args))
    sys.stdout.write(table(report) + "\n")
    if args.out:
        with open(args.out, "wb") as f:
            f.write(msgspec.json.format(msgspec.json.encode(report), indent=2) + b"\n")
    return 1 if any(r["note"] and r["note"].startswith("failed") for r in report["results"]) else 0


if __name__ == "__main__":
    sys.exit(main())
