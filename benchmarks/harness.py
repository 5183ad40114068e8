"""What every scenario shares: the mocks in their own process, the engine in its own, and counters.

The mock CRMs run as ``crmsync mock`` (real or lifted limits) and the engine as ``crmsync run`` in
separate processes, so each one's CPU time and peak RSS are its own: the engine's come from
``os.wait4`` on its process, the mocks' from ``/proc/<pid>/stat``. API calls are the mocks' own
counters (``GET /__mock/stats``), never the engine's view of them.
"""

from __future__ import annotations

import os
import platform
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import aiohttp
import anyio
import msgspec

from benchmarks.options import Regime
from benchmarks.profiling import Profiler
from mockcrm.config import MockEndpoints

System = Literal["hubspot", "salesforce"]
SYSTEMS: tuple[System, System] = ("hubspot", "salesforce")
SF_API = "/services/data/v59.0"
# Seeding a million records is one control call that can take minutes on a loaded machine.
TIMEOUT = aiohttp.ClientTimeout(total=3600)
_WRITE_METHODS = frozenset({"PATCH", "PUT", "DELETE"})
_READ_POSTS = ("/search", "/batch/read", "/composite")
"""``/composite`` (not ``/composite/sobjects``): the engine sends only GET subrequests in it (the
email match's queries, a poll's first reads)."""


class Limits(msgspec.Struct, kw_only=True, frozen=True):
    """The limits the mocks enforce in one regime (0 = none)."""

    hubspot_burst_per_10s: int
    hubspot_search_per_s: int
    hubspot_daily: int
    salesforce_daily: int

    @staticmethod
    def of(regime: Regime) -> Limits:
        if regime == "lifted":
            return Limits(
                hubspot_burst_per_10s=0, hubspot_search_per_s=0, hubspot_daily=0, salesforce_daily=0
            )
        # The mocks' defaults, which are the real products' (see mockcrm/config.py).
        return Limits(
            hubspot_burst_per_10s=190, hubspot_search_per_s=5, hubspot_daily=650_000, salesforce_daily=100_000
        )


class Calls(msgspec.Struct, kw_only=True, frozen=True):
    """API calls per system as the mocks counted them, and how many of them wrote."""

    hubspot: int
    salesforce: int
    hubspot_writes: int
    salesforce_writes: int
    by_endpoint: dict[str, int] = {}

    def __sub__(self, before: Calls) -> Calls:
        keys = set(self.by_endpoint) | set(before.by_endpoint)
        delta = {k: self.by_endpoint.get(k, 0) - before.by_endpoint.get(k, 0) for k in sorted(keys)}
        return Calls(
            hubspot=self.hubspot - before.hubspot,
            salesforce=self.salesforce - before.salesforce,
            hubspot_writes=self.hubspot_writes - before.hubspot_writes,
            salesforce_writes=self.salesforce_writes - before.salesforce_writes,
            by_endpoint={k: v for k, v in delta.items() if v},
        )


def is_write(endpoint: str) -> bool:
    """``"POST /crm/v3/objects/{objectType}/search"`` is a read; any other POST, PATCH or DELETE writes.

    Salesforce's SOQL and describe calls are GETs; sObject Collections, upserts and deletes are not.
    """
    method, _, route = endpoint.partition(" ")
    if method in _WRITE_METHODS:
        return True
    return method == "POST" and not route.endswith(_READ_POSTS) and "oauth2" not in route


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process, from ``/proc/<pid>/stat`` (fields 14 and 15)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Mocks:
    """``crmsync mock`` in a subprocess, and an aiohttp client for its control plane."""

    def __init__(self, regime: Regime, profiler: Profiler | None = None) -> None:
        self.regime = regime
        self.limits = Limits.of(regime)
        self.profiler = profiler
        """With ``--profile``: every measured engine run against these mocks is profiled."""
        self._proc: subprocess.Popen[str] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.ep: MockEndpoints | None = None
        self._ssl: ssl.SSLContext | bool = True

    async def __aenter__(self) -> Mocks:
        lim = self.limits
        cmd = [sys.executable, "-m", "engine.cli", "mock", "--hubspot-port", "0", "--salesforce-port", "0"]
        if self.regime == "lifted":
            cmd.append("--lift-limits")
        else:
            cmd += [
                "--hubspot-burst-limit", str(lim.hubspot_burst_per_10s),
                "--hubspot-search-rate", str(lim.hubspot_search_per_s),
                "--hubspot-daily-limit", str(lim.hubspot_daily),
                "--salesforce-daily-limit", str(lim.salesforce_daily),
            ]  # fmt: skip
        # Popen returns at once (the child's start-up is awaited on its first line, in a thread).
        self._proc = subprocess.Popen(  # noqa: ASYNC220
            cmd, stdout=subprocess.PIPE, text=True, env=_quiet_env()
        )
        assert self._proc.stdout is not None
        try:
            with anyio.fail_after(120):
                line = await anyio.to_thread.run_sync(self._proc.stdout.readline, abandon_on_cancel=True)
            if not line:
                raise RuntimeError("crmsync mock exited before it printed its endpoints")
            self.ep = msgspec.json.decode(line, type=MockEndpoints)
        except BaseException:
            self._proc.kill()
            self._proc.wait()
            raise
        if self.ep.ca_file:
            self._ssl = ssl.create_default_context(cafile=self.ep.ca_file)
        self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                await anyio.to_thread.run_sync(lambda: self._proc.wait(timeout=30) if self._proc else None)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    @property
    def endpoints(self) -> MockEndpoints:
        assert self.ep is not None, "the mocks are not running"
        return self.ep

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    async def request(
        self, system: System, method: str, path: str, body: object = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, Any]:  # fmt: skip
        assert self._session is not None
        ep = self.endpoints
        base = ep.hubspot_url if system == "hubspot" else ep.salesforce_url
        ctx = self._ssl if system == "salesforce" else True
        data = None if body is None else msgspec.json.encode(body)
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        async with self._session.request(method, base + path, data=data, headers=hdrs, ssl=ctx) as r:
            raw = await r.read()
            return r.status, msgspec.json.decode(raw) if raw else None

    async def control(self, system: System, method: str, path: str, body: object = None) -> Any:
        status, data = await self.request(system, method, "/__mock/" + path, body)
        if status >= 300:
            raise RuntimeError(f"{system} /__mock/{path}: {status} {data}")
        return data

    async def calls(self) -> Calls:
        hs = await self.control("hubspot", "GET", "stats")
        sf = await self.control("salesforce", "GET", "stats")
        by = {f"hubspot {k}": v for k, v in hs["by_endpoint"].items()}
        by.update({f"salesforce {k}": v for k, v in sf["by_endpoint"].items()})
        # Refusals (429s) by limit, so a run shows whether the engine's pacing held (a refused
        # call is counted above too: it reached the mock).
        for system, stats in (("hubspot", hs), ("salesforce", sf)):
            by.update({f"{system} refused {k}": v for k, v in stats.get("refused", {}).items()})
        return Calls(
            hubspot=int(hs["api_calls"]),
            salesforce=int(sf["api_calls"]),
            hubspot_writes=sum(v for k, v in hs["by_endpoint"].items() if is_write(k)),
            salesforce_writes=sum(v for k, v in sf["by_endpoint"].items() if is_write(k)),
            by_endpoint=by,
        )

    async def call_log(self, since: float) -> dict[System, list[tuple[float, str]]]:
        """Each mock's (arrival epoch s, endpoint) of the API calls since ``since`` (``timeline``)."""
        out: dict[System, list[tuple[float, str]]] = {}
        for system in SYSTEMS:
            rows = await self.control(system, "GET", f"timeline?since={since!r}")
            out[system] = [(float(t), str(e)) for t, e in rows]
        return out

    async def reset(self) -> None:
        await self.control("hubspot", "POST", "reset")
        await self.control("salesforce", "POST", "reset")

    async def hubspot_contacts(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = await self.control("hubspot", "GET", "dump/contacts")
        return data

    async def salesforce_contacts(self, fields: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """Every Contact (deleted ones too), whole or only ``fields`` (and Id)."""
        query = f"?fields={','.join(fields)}" if fields else ""
        data = await self.control("salesforce", "GET", "dump/Contact" + query)
        records: list[dict[str, Any]] = data["records"]
        return records


class EngineRun(msgspec.Struct, kw_only=True):
    """One engine process: its exit code, CPU seconds, peak RSS and what it printed."""

    exit_code: int
    cpu_s: float
    peak_rss_mb: float
    stdout: str
    stderr_tail: str


class Engine:
    """``crmsync run`` in a subprocess, configured by ``CRMSYNC_*`` variables against the mocks."""

    def __init__(self, mocks: Mocks, state_dir: Path, tuning: Mapping[str, str] | None = None) -> None:
        self.mocks = mocks
        self.state_dir = state_dir
        self.tuning = dict(tuning or {})

    @property
    def state_path(self) -> Path:
        return self.state_dir / "state.db"

    def env(self) -> dict[str, str]:
        ep, lim = self.mocks.endpoints, self.mocks.limits
        env = _quiet_env()
        env.update(
            {
                "CRMSYNC_HUBSPOT_BASE_URL": ep.hubspot_url,
                "CRMSYNC_HUBSPOT_TOKEN": ep.hubspot_token,
                "CRMSYNC_HUBSPOT_BURST_PER_10S": str(lim.hubspot_burst_per_10s),
                "CRMSYNC_HUBSPOT_SEARCH_PER_S": str(lim.hubspot_search_per_s),
                "CRMSYNC_HUBSPOT_DAILY_API_ALLOTMENT": str(lim.hubspot_daily or 100_000_000),
                "CRMSYNC_SALESFORCE_INSTANCE_URL": ep.salesforce_url,
                "CRMSYNC_SALESFORCE_TOKEN": ep.salesforce_token,
                "CRMSYNC_SALESFORCE_DAILY_API_ALLOTMENT": str(lim.salesforce_daily or 100_000_000),
                "CRMSYNC_STATE_PATH": str(self.state_path),
                "CRMSYNC_LOG_LEVEL": "WARNING",
            }
        )
        if ep.ca_file:
            env["CRMSYNC_SALESFORCE_CA_FILE"] = ep.ca_file
        env.update(self.tuning)
        return env

    def start(self, *args: str, profile: str | None = None) -> subprocess.Popen[str]:
        """``crmsync run ARGS``; a measured run names its ``profile`` (profiled with ``--profile``)."""
        log = open(self.state_dir / "engine.log", "a")  # noqa: SIM115 - the child holds it; closed in wait()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "engine.cli", "run", *args],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=self.env(),
            )
        finally:
            log.close()
        profiler = self.mocks.profiler
        if profile is not None and profiler is not None:
            tuning = self.tuning.items()
            knobs = "".join(f"-{k.removeprefix('CRMSYNC_').lower()}{v}" for k, v in sorted(tuning))
            profiler.attach(proc.pid, f"{profile}-{self.mocks.regime}{knobs}")
        return proc

    async def wait(self, proc: subprocess.Popen[str], timeout_s: float) -> EngineRun:
        """Reap ``proc`` with ``os.wait4`` (its own rusage); SIGKILL it after ``timeout_s``."""
        with anyio.move_on_after(timeout_s) as scope:
            out = await anyio.to_thread.run_sync(
                proc.stdout.read if proc.stdout else str, abandon_on_cancel=True
            )
        if scope.cancelled_caught:
            os.kill(proc.pid, signal.SIGKILL)  # not proc.kill(): see stop()
            out = ""
        _, status, usage = await anyio.to_thread.run_sync(os.wait4, proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.stdout is not None:
            proc.stdout.close()
        if self.mocks.profiler is not None:
            await anyio.to_thread.run_sync(self.mocks.profiler.finish, proc.pid)
        tail = (self.state_dir / "engine.log").read_text(errors="replace")[-2000:]
        return EngineRun(
            exit_code=proc.returncode,
            cpu_s=usage.ru_utime + usage.ru_stime,
            peak_rss_mb=round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
            stdout=out,
            stderr_tail=tail,
        )

    async def until_idle(
        self, *, backfill: bool, timeout_s: float = 3600, profile: str | None = None
    ) -> EngineRun:
        args = ["--until-idle"] + (["--backfill"] if backfill else [])
        run = await self.wait(self.start(*args, profile=profile), timeout_s)
        if run.exit_code != 0:
            raise RuntimeError(f"crmsync run {' '.join(args)} exited {run.exit_code}: {run.stderr_tail}")
        return run

    async def stop(self, proc: subprocess.Popen[str], timeout_s: float = 60) -> EngineRun:
        # os.kill, not proc.send_signal: that polls first, which reaps an engine that has exited by
        # itself (a crash) and leaves wait()'s os.wait4 nothing to reap ("No child processes"
        # instead of the engine's own error). A signal to an unreaped zombie is harmless.
        os.kill(proc.pid, signal.SIGTERM)
        return await self.wait(proc, timeout_s)

    def state_size_mb(self) -> float:
        """The state file with its WAL and shared-memory files."""
        total = sum(p.stat().st_size for p in self.state_dir.glob("state.db*"))
        return round(total / 1e6, 2)


def _quiet_env() -> dict[str, str]:
    """This environment less any CRMSYNC_* variable a user may have set (the bench sets its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CRMSYNC_")}


def temp_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="crmsync-bench-")


async def wait_until_quiet(mocks: Mocks, quiet_s: float, max_s: float) -> tuple[bool, Calls]:
    """Wait until no write call reached either mock for ``quiet_s`` seconds (or ``max_s`` passed)."""
    deadline = time.monotonic() + max_s
    last = await mocks.calls()
    since = time.monotonic()
    while time.monotonic() < deadline:
        await anyio.sleep(min(0.5, quiet_s / 4))
        now = await mocks.calls()
        if (now.hubspot_writes, now.salesforce_writes) != (last.hubspot_writes, last.salesforce_writes):
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return True, now
    return False, await mocks.calls()


async def polling_rate(mocks: Mocks, window_s: float) -> float:
    """API calls per second over ``window_s`` (both mocks), e.g. of an engine that only polls."""
    before = await mocks.calls()
    t0 = time.monotonic()
    await anyio.sleep(window_s)
    delta = (await mocks.calls()) - before
    return (delta.hubspot + delta.salesforce) / (time.monotonic() - t0)


async def wait_until_caught_up(
    mocks: Mocks, window_s: float, idle_calls_per_s: float, max_s: float
) -> tuple[bool, Calls]:
    """Wait for a window of ``window_s`` with no write and no more calls than polling makes.

    No writes alone is not enough: an engine held back by a rate limit may spend a long while
    reading (searching) before its next write, with its backlog still unsynced.
    """
    deadline = time.monotonic() + max_s
    allowed = idle_calls_per_s * window_s * 1.5 + 2
    while time.monotonic() < deadline:
        before = await mocks.calls()
        await anyio.sleep(window_s)
        now = await mocks.calls()
        delta = now - before
        if (
            delta.hubspot_writes + delta.salesforce_writes == 0
            and delta.hubspot + delta.salesforce <= allowed
        ):
            return True, now
    return False, await mocks.calls()


def machine_info() -> dict[str, object]:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }
