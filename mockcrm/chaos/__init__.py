"""Seeded workload histories and an independent oracle for the engine (issue 4's harness).

    history = generate_history(seed, people=12, rounds=4)
    for i in range(len(history.rounds)):
        await apply_round(history, i, endpoints)     # control plane only: no API call counted
        ... the engine converges (a clean ``run --until-idle`` exits 0) ...
    result = await check(expect(history), endpoints)
    assert result.ok, result.describe()

What a runner must guarantee for the answer to be exact:

1. Round 0 is the pre-history: apply it to empty mocks **before the engine's first run** on a new
   state file, then run the engine once to idle (it syncs none of it: SPEC §4, existing records
   sync once they change). Rounds 1.. follow.
2. After each round r ≥ 1 the engine converges — a clean ``crmsync run --until-idle`` (or
   ``engine.runtime.sync_until_idle``) returns with no fault configured — **before round r+1's ops
   start**. Within a round anything goes: the engine may run concurrently with the ops, be killed
   (kill -9) and restarted at any instant, and see faults; the generator's rules (one op per person
   per round, see ``history``) make the outcome independent of what it saw mid-round.
3. The two mocks' clocks agree with each other (a skew between the engine and both mocks alike is
   fine): a two-way field on a new link goes to the record modified later, by each CRM's clock.
   ``apply_round`` waits for a new Salesforce second where that can happen (``Round.fresh_second``).
4. The engine runs with ``history.contacts`` as its ``[contacts]`` settings and mocks that hold
   nothing but the history (``/__mock/reset`` between histories).

Nothing here counts as an API call: writes go through ``POST /__mock/write`` and reads through
``/__mock/dump``, so ``/__mock/stats`` shows the engine's calls alone.
"""

from __future__ import annotations

from mockcrm.chaos.apply import ApplyError, Snapshot, apply_round
from mockcrm.chaos.check import CheckResult, Finding, check, compare
from mockcrm.chaos.history import (
    History,
    HsCreate,
    HsDelete,
    HsEdit,
    Op,
    Person,
    Round,
    SfConvert,
    SfCreate,
    SfDelete,
    SfEdit,
    generate_history,
)
from mockcrm.chaos.oracle import Expected, ExpectedPerson, ExpectedSalesforce, expect

__all__ = [
    "ApplyError",
    "CheckResult",
    "Expected",
    "ExpectedPerson",
    "ExpectedSalesforce",
    "Finding",
    "History",
    "HsCreate",
    "HsDelete",
    "HsEdit",
    "Op",
    "Person",
    "Round",
    "SfConvert",
    "SfCreate",
    "SfDelete",
    "SfEdit",
    "Snapshot",
    "apply_round",
    "check",
    "compare",
    "expect",
    "generate_history",
]
