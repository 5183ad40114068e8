"""The run history: each ``crmsync run`` writes a row when it starts and its outcome and summary
when it ends, so a RevOps engineer can see what the engine did while nobody watched.

A run killed with kill -9 cannot write its end. The next run finds its row still open — the state
file's lock says no other run is alive — and marks it ``interrupted`` before it starts its own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import anyio
from loguru import logger

from engine.budget import AllotmentExhausted
from engine.errors import CrmsyncError, StateFileError
from engine.store_types import EndRun, InterruptOpenRuns, PruneRuns, RunRow, Sides, StartRun

if TYPE_CHECKING:
    from engine.budget import Budget
    from engine.store import StateStore
    from engine.summary import Summary

RunMode = Literal["until-idle", "forever"]
DETAIL_MAX = 300
KEEP_RUNS = 10_000
"""Runs kept in the history: years of a run every five minutes would otherwise grow the file (and
the integrity check every open makes) without bound."""


def _utc(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))


class RunRecorder:
    """``async with RunRecorder(store, mode, backfill) as run:`` around everything a run does once
    the store is open; ``summary`` and ``count_calls`` are attached as the engine is built."""

    def __init__(self, store: StateStore, mode: RunMode, backfill: bool, *, keep: int = KEEP_RUNS) -> None:
        self._store = store
        self._keep = keep
        self.mode: RunMode = mode
        self.backfill = backfill
        self.summary: Summary | None = None
        self._budgets: Mapping[str, Budget] = {}
        self._calls_at_open: dict[str, int] = {}
        self.row: RunRow | None = None
        self.incomplete: str | None = None
        """Why an until-idle run stopped with changes left for the next run (set by the runtime)."""

    def count_calls(self, budgets: Mapping[str, Budget]) -> None:
        """Count the run's API calls from now on (the 24-hour counts less these, at the end)."""
        self._budgets = budgets
        self._calls_at_open = {name: budget.used_24h() for name, budget in budgets.items()}

    async def __aenter__(self) -> RunRecorder:
        for dead in await self._store.open_runs():
            logger.warning(
                "run {} (started {} UTC, pid {}) ended without recording an outcome (killed?); "
                "marked interrupted",
                dead.id,
                _utc(dead.started_ms),
                dead.pid,
            )
        self.row = RunRow(
            id=await self._store.next_run_id(),
            started_ms=int(time.time() * 1000),
            ended_ms=None,
            mode=self.mode,
            backfill=self.backfill,
            pid=os.getpid(),
            outcome=None,
            detail=None,
        )
        await self._store.commit([InterruptOpenRuns(), StartRun(self.row), PruneRuns(self._keep)])
        return self

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if self.row is None:
            return
        outcome, detail = outcome_of(exc, self.mode, self.summary, self.incomplete)
        s = self.summary
        calls = {n: max(0, b.used_24h() - self._calls_at_open.get(n, 0)) for n, b in self._budgets.items()}
        end = RunRow(
            id=self.row.id,
            started_ms=self.row.started_ms,
            ended_ms=int(time.time() * 1000),
            mode=self.mode,
            backfill=self.backfill,
            pid=self.row.pid,
            outcome=outcome,
            detail=detail,
            synced=s.synced if s else 0,
            created=Sides(hubspot=s.created.hubspot, salesforce=s.created.salesforce) if s else Sides(),
            updated=Sides(hubspot=s.updated.hubspot, salesforce=s.updated.salesforce) if s else Sides(),
            deleted=Sides(hubspot=s.deleted.hubspot, salesforce=s.deleted.salesforce) if s else Sides(),
            errors=s.errors if s else 0,
            api_calls=Sides(hubspot=calls.get("hubspot", 0), salesforce=calls.get("salesforce", 0)),
        )
        with anyio.CancelScope(shield=True):  # a stopping run still records how it stopped
            try:
                await self._store.commit([EndRun(end)])
            except StateFileError as err:  # the failure being reported may be the store itself
                logger.error("run {} could not record its outcome: {}", end.id, err)


def outcome_of(
    exc: BaseException | None, mode: RunMode, summary: Summary | None, incomplete: str | None = None
) -> tuple[str, str | None]:
    """(outcome, detail) for a run that ended with ``exc`` (None: it returned)."""
    if exc is None:
        if summary is not None and summary.paused:
            return "paused", summary.paused
        if incomplete is not None:
            return "incomplete", f"{incomplete}; the next run retries what failed"
        return ("stopped", None) if mode == "forever" else ("idle", None)
    leaf = _leaf(exc)
    if isinstance(leaf, AllotmentExhausted):
        return "paused", f"{leaf.system} allotment"
    if isinstance(leaf, (KeyboardInterrupt, anyio.get_cancelled_exc_class())):
        return "stopped", None
    text = str(leaf) if isinstance(leaf, CrmsyncError) else f"{type(leaf).__name__}: {leaf}"
    text = " ".join(text.split())  # one line
    return "failed", text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


def _leaf(exc: BaseException) -> BaseException:
    """The exception that says why: in a task group's group, the first that is not a cancellation."""
    while isinstance(exc, BaseExceptionGroup):
        cancelled = anyio.get_cancelled_exc_class()
        reasons = [e for e in exc.exceptions if not isinstance(e, cancelled)]
        exc = (reasons or list(exc.exceptions))[0]
    return exc
