"""The chaos runner (``crmsync chaos``): seeded runs of workload rounds, engine kills and faults,
each checked against the oracle (``mockcrm.chaos``) at the end.

One run, from its seed:

1. fresh mocks (in this process's event loop; the engine is a separate *process*, so its kills
   are a real ``kill -9``) and a fresh state file; the history's pre-history (round 0) is made,
   then one clean engine start — a new state file starts at "now", so the pre-history syncs only
   once it changes (the oracle's rule 1);
2. per round: ``kills`` engine starts under the round's injected faults, each killed at a
   failpoint or at a seeded instant (or finishing first). The round's ops are applied *while the
   first of them runs* (the oracle allows anything within a round). Then the faults are cleared
   and a clean ``run --until-idle`` must exit 0: every round ends converged, as the oracle
   requires (its rule 2), and that pass is the evidence that no crash left anything the engine
   cannot finish by itself. Faults are cleared for it because ``--until-idle`` gives up, by
   design, on a CRM that keeps failing, and leaves the rest for the next run.
3. after the last round: the oracle's check (lost, duplicated, mismatched, unexpected), and the
   allotment: the API calls the mocks counted (the workload uses their control plane, which is
   never counted) must stay within the engine's configured allotment, and never exceed what the
   engine's own ledger recorded — it charges each call before sending it, so a ``kill -9`` may
   only over-count.

What is seeded: the history, the faults' rates, every kill's failpoint and hit, or its delay. A
failpoint kill replays exactly; a timer kill lands at the same delay, which is the same instant
only as far as the machine's speed allows.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import msgspec

from engine.store import StateStore
from mockcrm.chaos.apply import apply_round
from mockcrm.chaos.check import CheckResult, check
from mockcrm.chaos.crash import EngineExit, engine_config_toml, run_engine
from mockcrm.chaos.history import History, generate_history
from mockcrm.chaos.nemesis import SYSTEMS, KillPlan, MockControl, plan_faults, plan_kill
from mockcrm.chaos.oracle import expect
from mockcrm.chaos.report import ChaosParams, ChaosReport, RunResult
from mockcrm.config import MockConfig, MockEndpoints
from mockcrm.server import running_mocks

CLEAN_PASS_TIMEOUT_S = 240.0

Tamper = Callable[[MockEndpoints], Awaitable[None]]


def allotments(params: ChaosParams) -> dict[str, int]:
    """A few times what a run needs (a start costs ~15 Salesforce calls, and batching makes the
    records cost few more): a failed convergence must not be the allotment's doing, yet it is a
    real bound, across every restart of the run, for the engine to stay under."""
    starts = 1 + params.rounds * (params.kills + 1)
    per_system = 30 * starts + 2 * params.people * params.rounds
    return dict.fromkeys(SYSTEMS, per_system)


async def _ledger(state: Path) -> dict[str, int]:
    async with await StateStore.open(state) as store:
        return {system: await store.api_calls_since(system, 0) for system in SYSTEMS}


class _Run:
    def __init__(self, seed: int, params: ChaosParams, work: Path) -> None:
        self.seed = seed
        self.params = params
        self.work = work
        self.rng = random.Random(seed)
        self.result = RunResult(seed=seed, replay=params.replay(seed))
        self.starts = 0
        self.config = work / "crmsync.toml"
        self.state = work / "state.db"

    async def start(self, plan: str, **kwargs: Any) -> EngineExit:
        self.starts += 1
        if self.starts > 1:
            self.result.restarts += 1
        end = await run_engine(self.config, self.work / f"engine-{self.starts:03d}", **kwargs)
        how = f"killed by {end.killed_by}" if end.killed_by else f"exited {end.returncode}"
        self.result.timeline.append(f"start {self.starts}: {plan}: {how} after {end.seconds:.2f} s")
        return end

    async def clean_pass(self, when: str) -> None:
        end = await self.start(f"clean pass {when}", timeout_s=CLEAN_PASS_TIMEOUT_S)
        if end.returncode != 0:
            how = "did not finish in time" if end.timed_out else f"exited {end.returncode}"
            raise _Failed(f"the clean pass {when} {how}: {end.stderr_tail[-600:].strip()}")

    async def killed_start(self, index: int, plan: KillPlan) -> None:
        what = f"armed {failpoints_text(plan)}" if plan.armed else f"kill after {plan.after_s} s"
        end = await self.start(
            f"round {index} {what}", armed=plan.armed, kill_after_s=plan.after_s, timeout_s=plan.after_s
        )
        if end.killed_by is not None:
            self.result.kills[end.killed_by] = self.result.kills.get(end.killed_by, 0) + 1
        else:
            self.result.unkilled += 1

    async def round(self, history: History, index: int, ep: MockEndpoints, control: MockControl) -> None:
        faults = plan_faults(self.rng, self.params.fault_rate, await control.now_s("hubspot"))
        plans = [plan_kill(self.rng, self.params) for _ in range(self.params.kills)]
        ops_delay = self.rng.uniform(0.0, 0.8)
        await control.set_faults(faults)
        if plans:
            async with anyio.create_task_group() as tg:

                async def ops() -> None:
                    await anyio.sleep(ops_delay)  # into the engine's start-up or its first pass
                    await apply_round(history, index, ep)

                tg.start_soon(ops)
                await self.killed_start(index, plans[0])
            for plan in plans[1:]:
                await self.killed_start(index, plan)
        else:
            await apply_round(history, index, ep)
        await control.clear_faults()
        await self.clean_pass(f"of round {index}")

    async def go(self, ep: MockEndpoints, control: MockControl, tamper: Tamper | None) -> CheckResult:
        history = generate_history(self.seed, self.params.people, self.params.rounds)
        allot = allotments(self.params)
        self.result.allotments = allot
        contacts = msgspec.to_builtins(history.contacts)
        self.config.write_text(engine_config_toml(ep, self.state, contacts, allot), encoding="utf-8")
        await apply_round(history, 0, ep)  # the pre-history, before the engine's first start
        await self.clean_pass("first start")
        for index in range(1, len(history.rounds)):
            await self.round(history, index, ep, control)
        r = self.result
        calls = await control.api_calls()
        r.engine_calls = {s: calls[s] for s in SYSTEMS}
        r.faults = dict(await control.faults_injected())
        r.ledger_calls = await _ledger(self.state)
        if tamper is not None:
            await tamper(ep)
        verdict = await check(expect(history), ep)
        r.records_checked = verdict.records_checked
        r.lost, r.duplicated = len(verdict.lost), len(verdict.duplicated)
        r.mismatched, r.unexpected = len(verdict.mismatched), len(verdict.unexpected)
        over = [
            f"{s}: {r.engine_calls[s]} calls, allotment {allot[s]}, ledger {r.ledger_calls[s]}"
            for s in SYSTEMS
            if r.engine_calls[s] > min(allot[s], r.ledger_calls[s])
        ]
        r.overruns = len(over)
        problems = ([] if verdict.ok else [verdict.describe()]) + over
        if problems:
            raise _Failed("\n".join(problems))
        return verdict


def failpoints_text(plan: KillPlan) -> str:
    return ",".join(f"{name}:{n}" for name, n in (plan.armed or {}).items())


class _Failed(Exception):
    pass


async def run_one(
    seed: int,
    params: ChaosParams,
    *,
    keep_dir: Path | None = None,
    tamper: Tamper | None = None,
) -> RunResult:
    """One seeded run; never raises for what it finds — that goes into the result. ``tamper``
    changes the CRMs behind the engine's back before the check (the runner's own test)."""
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=f"crmsync-chaos-{seed}-", dir=keep_dir))
    run = _Run(seed, params, work)
    config = MockConfig(hubspot_port=0, salesforce_port=0, seed=seed)
    try:
        async with running_mocks(config) as (ep, _, _), aiohttp.ClientSession() as session:
            await run.go(ep, MockControl(ep, session), tamper)
        run.result.ok = True
    except _Failed as exc:
        run.result.failure = str(exc)
    except Exception as exc:  # a runner or mock failure still names its seed
        run.result.failure = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}"
    run.result.seconds = round(time.monotonic() - started, 1)
    if run.result.ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        run.result.workdir = str(work)
    return run.result


async def run_chaos(
    params: ChaosParams,
    *,
    runs: int,
    seed: int,
    keep_dir: Path | None = None,
    on_result: Callable[[RunResult], None] | None = None,
) -> ChaosReport:
    """``runs`` runs with seeds ``seed``, ``seed + 1``, …; each failing one replays alone."""
    report = ChaosReport(params=params)
    for n in range(runs):
        result = await run_one(seed + n, params, keep_dir=keep_dir)
        report.results.append(result)
        if on_result is not None:
            on_result(result)
    return report
