"""A seeded workload generator: creates, updates and deletes records on a mock at a steady rate.

It gives the sync engine realistic change streams to chase. Each server implements
``WorkloadTarget`` over its in-memory store (no HTTP, so the workload costs no API calls) and
installs a ``WorkloadRunner`` on its app, which adds the ``/__mock/workload`` routes:

- ``POST /__mock/workload`` with a ``WorkloadSpec`` body starts a workload (replacing a running one),
- ``GET /__mock/workload`` reports progress,
- ``DELETE /__mock/workload`` stops it.

Operations run in the app's own event loop, spread evenly over time: the driver wakes at most every
few milliseconds and performs the operations that have fallen due, so the count after ``t`` seconds
is ``rate * t`` however the wake-ups were scheduled. When it falls behind (a slow store, a busy
loop) it catches up in small bursts, yielding between them; beyond one second of backlog it skips
ahead instead, and reports the skipped operations, rather than stalling the server with a long burst.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from typing import Annotated, Protocol

import msgspec
from aiohttp import web
from loguru import logger

from mockcrm.fakedata import FakeData

MAX_RATE_PER_S = 100_000.0
_MIN_SLEEP_S = 0.005
"""Shortest wait between wake-ups: above ~200 operations/s each wake-up does several at once."""
_BURST_S = 0.05
"""When behind, catch up at most this many seconds' worth of operations per burst."""
_MAX_LAG_S = 1.0
"""Backlog beyond this is skipped (and counted) instead of being caught up."""

Rate = Annotated[float, msgspec.Meta(gt=0, le=MAX_RATE_PER_S)]
Weight = Annotated[float, msgspec.Meta(ge=0, le=1_000_000)]


class WorkloadSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    object_type: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    rate_per_s: Rate
    duration_s: Annotated[float, msgspec.Meta(gt=0, le=7 * 86_400)] | None = None
    """None = until stopped."""
    create: Weight = 0.2
    update: Weight = 0.7
    delete: Weight = 0.1
    """The operation mix, as relative weights (they need not sum to 1)."""
    seed: int | None = None


class WorkloadTarget(Protocol):
    """What a server offers the workload: direct access to its store, by object type."""

    def create(self, object_type: str, fake: FakeData) -> str | None:
        """Create a valid record with values from ``fake``; return its id (None = not created)."""
        ...

    def update(self, object_type: str, record_id: str, fake: FakeData) -> None: ...

    def delete(self, object_type: str, record_id: str) -> None: ...

    def pick_id(self, object_type: str, rng: random.Random) -> str | None:
        """An existing live record of that type, or None when there is none.

        Raise ValueError (or KeyError) for an object type the server does not know: the runner
        calls this once before starting, to answer an unknown type with a 400.
        """
        ...


class WorkloadStatus(msgspec.Struct, kw_only=True):
    running: bool
    spec: WorkloadSpec | None
    done: dict[str, int]
    errors: int
    skipped: int = 0
    """Operations dropped because the runner fell more than a second behind."""
    last_error: str | None = None


class _Run:
    """One started workload: its spec, its own random streams and its counters."""

    def __init__(self, spec: WorkloadSpec, number: int) -> None:
        self.spec = spec
        # Operation choices and record values come from separate seeded streams; the email tag
        # keeps this run's addresses apart from the server's seeding and from earlier runs.
        self.rng = random.Random(None if spec.seed is None else f"workload-ops-{spec.seed}")
        self.fake = FakeData(spec.seed, email_tag=f"w{number}")
        self.done = {"create": 0, "update": 0, "delete": 0}
        self.errors = 0
        self.skipped = 0
        self.last_error: str | None = None
        self.task: asyncio.Task[None] | None = None
        total = spec.create + spec.update + spec.delete
        self.create_below = spec.create / total
        self.update_below = (spec.create + spec.update) / total

    def status(self) -> WorkloadStatus:
        return WorkloadStatus(
            running=self.task is not None and not self.task.done(),
            spec=self.spec,
            done=dict(self.done),
            errors=self.errors,
            skipped=self.skipped,
            last_error=self.last_error,
        )


class WorkloadRunner:
    """Runs at most one workload at a time against ``target``, inside the app's event loop."""

    def __init__(self, target: WorkloadTarget) -> None:
        self._target = target
        self._run: _Run | None = None
        self._started = 0

    # -- programmatic interface ----------------------------------------------------------------
    def check(self, spec: WorkloadSpec) -> str | None:
        """Why ``spec`` cannot run, or None when it can."""
        if spec.create + spec.update + spec.delete <= 0:
            return "the operation mix (create, update, delete) must have a positive weight"
        try:
            self._target.pick_id(spec.object_type, random.Random(0))
        except (ValueError, KeyError) as exc:
            return f"unknown object type {spec.object_type!r}: {exc}"
        return None

    async def start(self, spec: WorkloadSpec) -> WorkloadStatus:
        """Start ``spec`` (stopping any running workload first). Raises ValueError if it cannot run."""
        problem = self.check(spec)
        if problem is not None:
            raise ValueError(problem)
        await self.stop()
        self._started += 1
        run = _Run(spec, self._started)
        run.task = asyncio.get_running_loop().create_task(self._drive(run), name="mock-workload")
        self._run = run
        return run.status()

    async def stop(self) -> WorkloadStatus:
        run = self._run
        if run is not None and run.task is not None and not run.task.done():
            run.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run.task
        return self.status()

    def status(self) -> WorkloadStatus:
        if self._run is None:
            return WorkloadStatus(
                running=False, spec=None, done={"create": 0, "update": 0, "delete": 0}, errors=0
            )
        return self._run.status()

    # -- the driver ----------------------------------------------------------------------------
    async def _drive(self, run: _Run) -> None:
        loop = asyncio.get_running_loop()
        rate = run.spec.rate_per_s
        duration = run.spec.duration_s
        total = None if duration is None else int(duration * rate)
        burst = max(1, int(rate * _BURST_S))
        start = loop.time()
        performed = 0  # operations done or skipped so far; the schedule says how many are due
        while total is None or performed < total:
            elapsed = loop.time() - start
            due = int(elapsed * rate) - performed
            if total is not None:
                due = min(due, total - performed)
            if due > rate * _MAX_LAG_S:
                skip = due - burst
                run.skipped += skip
                performed += skip
                due = burst
            n = min(due, burst)
            for _ in range(n):
                self._one(run)
            performed += n
            if n < due:
                await asyncio.sleep(0)  # behind: let the server breathe, then the next burst
                continue
            next_at = start + (performed + 1) / rate
            await asyncio.sleep(max(next_at - loop.time(), _MIN_SLEEP_S))

    def _one(self, run: _Run) -> None:
        spec, target = run.spec, self._target
        r = run.rng.random()
        op = "create" if r < run.create_below else "update" if r < run.update_below else "delete"
        try:
            if op != "create":
                record_id = target.pick_id(spec.object_type, run.rng)
                if record_id is None:
                    op = "create"  # nothing to edit yet: grow the store instead
                elif op == "update":
                    target.update(spec.object_type, record_id, run.fake)
                else:
                    target.delete(spec.object_type, record_id)
            if op == "create" and target.create(spec.object_type, run.fake) is None:
                raise RuntimeError("the target created no record")
        except Exception as exc:
            # A rejected write (validation rule, duplicate) is part of the workload's life, not a
            # reason to stop it; the count and the last message show up in the status.
            if run.errors == 0:
                logger.warning("mock workload: {} on {} failed: {!r}", op, spec.object_type, exc)
            run.errors += 1
            run.last_error = f"{op}: {exc!r}"
            return
        run.done[op] += 1

    # -- HTTP ----------------------------------------------------------------------------------
    def install(self, app: web.Application) -> None:
        """Add the ``/__mock/workload`` routes, and stop the workload when the app shuts down."""
        app.router.add_post("/__mock/workload", self._post)
        app.router.add_get("/__mock/workload", self._get)
        app.router.add_delete("/__mock/workload", self._delete)
        app.cleanup_ctx.append(self._lifespan)

    async def _lifespan(self, _: web.Application) -> AsyncIterator[None]:
        yield
        await self.stop()

    async def _post(self, request: web.Request) -> web.Response:
        try:
            spec = msgspec.json.decode(await request.read(), type=WorkloadSpec)
        except msgspec.DecodeError as exc:
            return _json({"error": f"invalid workload: {exc}"}, status=400)
        problem = self.check(spec)
        if problem is not None:
            return _json({"error": f"invalid workload: {problem}"}, status=400)
        return _json(await self.start(spec))

    async def _get(self, _: web.Request) -> web.Response:
        return _json(self.status())

    async def _delete(self, _: web.Request) -> web.Response:
        return _json(await self.stop())


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.json.encode(body), status=status, content_type="application/json")
