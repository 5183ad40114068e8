"""What a chaos run found: one ``RunResult`` per seeded run, summed into a ``ChaosReport``.

Every failing run carries its seed and the exact command that replays it; the report's exit code is
non-zero as soon as one run failed.
"""

from __future__ import annotations

from collections import Counter

import msgspec
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text


class ChaosParams(msgspec.Struct, kw_only=True, frozen=True):
    """One run's shape; with its seed, everything the run does follows from these."""

    people: int = 12
    rounds: int = 2
    kills: int = 3
    """Engine starts killed per round (at a failpoint or a seeded instant) before the clean pass."""
    fault_rate: float = 0.1
    """Scale of the injected 5xx, hang, lost-reply and spike rates (each drawn from the seed)."""
    kill_window_s: float = 1.5
    """Timer kills land uniformly in (0.2 s, this] after an engine start."""

    def replay(self, seed: int) -> str:
        return (
            f"crmsync chaos --runs 1 --seed {seed} --people {self.people} --rounds {self.rounds} "
            f"--kills {self.kills} --fault-rate {self.fault_rate} --kill-window {self.kill_window_s}"
        )


class RunResult(msgspec.Struct, kw_only=True):
    seed: int
    ok: bool = False
    restarts: int = 0
    """Engine starts after the first one (each follows a kill or an exit)."""
    kills: dict[str, int] = msgspec.field(default_factory=dict)
    """SIGKILLs that landed, per failpoint name or ``timer``."""
    unkilled: int = 0
    """Starts planned to be killed that finished first (nothing left to do, or a failpoint unreached)."""
    faults: dict[str, int] = msgspec.field(default_factory=dict)
    """Faults the mocks injected, by kind (their own ``/__mock/stats``)."""
    records_checked: int = 0
    lost: int = 0
    duplicated: int = 0
    mismatched: int = 0
    unexpected: int = 0
    engine_calls: dict[str, int] = msgspec.field(default_factory=dict)
    """API calls the mocks counted from the engine (the workload's own calls left out)."""
    ledger_calls: dict[str, int] = msgspec.field(default_factory=dict)
    """API calls the engine's own ledger recorded (it charges before sending: never fewer)."""
    allotments: dict[str, int] = msgspec.field(default_factory=dict)
    overruns: int = 0
    """Systems whose engine calls exceeded the allotment, or went uncounted by the ledger."""
    seconds: float = 0.0
    failure: str | None = None
    """What went wrong, in a few lines; None when ``ok``."""
    replay: str = ""
    timeline: list[str] = msgspec.field(default_factory=list)
    """Each engine start: its plan and how it ended (for a failure's post-mortem)."""
    workdir: str | None = None
    """The failing run's config, state file and engine logs (kept only when it failed)."""


class ChaosReport(msgspec.Struct, kw_only=True):
    params: ChaosParams
    results: list[RunResult] = msgspec.field(default_factory=list)

    @property
    def failed(self) -> list[RunResult]:
        return [r for r in self.results if not r.ok]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or not self.results else 0

    def totals(self) -> dict[str, object]:
        kills: Counter[str] = Counter()
        faults: Counter[str] = Counter()
        for r in self.results:
            kills.update(r.kills)
            faults.update(r.faults)
        return {
            "runs": len(self.results),
            "failed": len(self.failed),
            "restarts": sum(r.restarts for r in self.results),
            "kills": dict(sorted(kills.items())),
            "unkilled": sum(r.unkilled for r in self.results),
            "faults_injected": dict(sorted(faults.items())),
            "records_checked": sum(r.records_checked for r in self.results),
            "lost": sum(r.lost for r in self.results),
            "duplicated": sum(r.duplicated for r in self.results),
            "mismatched": sum(r.mismatched for r in self.results),
            "unexpected": sum(r.unexpected for r in self.results),
            "overruns": sum(r.overruns for r in self.results),
            "seconds": round(sum(r.seconds for r in self.results), 1),
        }

    def public(self) -> dict[str, object]:
        """``--json``: the totals, the parameters, and every run."""
        return {
            **self.totals(),
            "params": msgspec.to_builtins(self.params),
            "failures": [{"seed": r.seed, "replay": r.replay, "failure": r.failure} for r in self.failed],
            "results": msgspec.to_builtins(self.results),
        }

    def view(self) -> RenderableType:
        totals = self.totals()
        table = Table(title="crmsync chaos", show_header=False, title_justify="left")
        table.add_column("what", style="bold")
        table.add_column("value")
        for key, value in totals.items():
            shown = ", ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else value
            table.add_row(key.replace("_", " "), str(shown or "0"))
        parts: list[RenderableType] = [table]
        for r in self.failed:
            parts.append(Text(f"FAILED seed {r.seed}: {r.failure}", style="bold red"))
            parts.append(Text(f"  replay: {r.replay}"))
            if r.workdir:
                parts.append(Text(f"  logs: {r.workdir}"))
        if not self.failed and self.results:
            parts.append(Text(f"all {len(self.results)} runs ok", style="bold green"))
        return Group(*parts)
