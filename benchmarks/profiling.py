"""``crmsync bench --profile DIR``: a py-spy profile of every measured engine run.

py-spy attaches to the engine's process by pid (the engine is started exactly as without
profiling, so its stdout, which the bench parses, stays clean) and samples it without pausing it
(``--nonblocking``) until it exits; then it writes the profile. It runs on the same cores as
everything else, so a profiled run's wall-clock figures are a little worse than an unprofiled one's.

Attaching needs ptrace rights over the engine: root, or ``kernel.yama.ptrace_scope = 0``, or the
``CAP_SYS_PTRACE`` capability. py-spy is in the ``bench`` extra; without it, or when it cannot
attach, the bench says so in its notes and measures on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.options import ProfileFormat

SUFFIX: dict[str, str] = {"speedscope": ".speedscope.json", "flamegraph": ".svg", "raw": ".txt"}
RATE_HZ = 100


def py_spy() -> str | None:
    """The py-spy executable: beside this Python (a virtual environment's bin) or on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("py-spy")


class Profiler:
    """Writes one profile per measured engine run into ``directory``, numbered in run order."""

    def __init__(self, directory: Path, fmt: ProfileFormat = "speedscope") -> None:
        self.directory = directory
        self.format: ProfileFormat = fmt
        self.files: list[Path] = []
        self.notes: list[str] = []
        self._spies: dict[int, tuple[subprocess.Popen[bytes], Path]] = {}
        self._exe = py_spy()
        if self._exe is None:
            self.notes.append("--profile: no py-spy (pip install 'crmsync[bench]'): no profiles")

    def attach(self, pid: int, label: str) -> None:
        """Start sampling process ``pid``; ``label`` names the profile file."""
        if self._exe is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        n = len(self.files) + len(self._spies) + 1
        path = self.directory / f"{n:02d}-{label}{SUFFIX[self.format]}"
        cmd = [
            self._exe, "record", "--pid", str(pid), "--rate", str(RATE_HZ), "--nonblocking",
            "--format", self.format, "--output", str(path),
        ]  # fmt: skip
        log = open(path.with_suffix(".log"), "wb")  # noqa: SIM115 - the child holds it
        try:
            spy = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        self._spies[pid] = (spy, path)

    def finish(self, pid: int, timeout_s: float = 120) -> None:
        """After process ``pid`` was reaped: wait for its profile to be written."""
        entry = self._spies.pop(pid, None)
        if entry is None:
            return
        spy, path = entry
        try:
            code = spy.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()
            code = -1
        log = path.with_suffix(".log")
        if code == 0 and path.exists():
            self.files.append(path)
            log.unlink(missing_ok=True)
            return
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
        self.notes.append(
            f"--profile: py-spy could not profile {path.name} (exit {code}"
            + (f": {tail[0][:200]}" if tail else "")
            + "); it needs ptrace rights (root, or kernel.yama.ptrace_scope=0)"
        )
