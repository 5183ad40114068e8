"""The engine as a separate process, so that ``kill -9`` is real: start, kill, learn how it ended.

Each start is ``python -m engine.cli run --config FILE --until-idle`` with its own stdout/stderr
files (kept with a failing run for its post-mortem). It ends in one of three ways: by itself
(exit 0, or 3 when an allotment — or a Salesforce ``REQUEST_LIMIT_EXCEEDED`` storm — paused it),
by SIGKILL at an armed failpoint (``engine.failpoints``), or by SIGKILL from our timer.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import msgspec

from engine import failpoints
from mockcrm.config import MockEndpoints


class EngineExit(msgspec.Struct, kw_only=True):
    returncode: int
    """The process's exit code; -9 when SIGKILL ended it."""
    killed_by: str | None = None
    """``"timer"``, a failpoint's name, or None when it exited by itself."""
    timed_out: bool = False
    """Our timer fired although no kill was planned (a start that should have finished)."""
    seconds: float = 0.0
    summary: dict[str, Any] | None = None
    """The JSON summary ``--until-idle`` prints last (None when it died first)."""
    stderr_tail: str = ""


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return msgspec.json.encode(value).decode()  # a JSON string is a valid TOML basic string
    if isinstance(value, dict):
        pairs = ", ".join(f"{_toml_value(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{" + (f" {pairs} " if pairs else "") + "}"
    raise TypeError(f"no TOML for {value!r}")


def engine_config_toml(
    ep: MockEndpoints, state_path: Path, contacts: Mapping[str, Any], allotments: Mapping[str, int]
) -> str:
    """The config file of a chaos run's engine (tokens are the mocks' own throwaway ones)."""
    hubspot = {
        "base_url": ep.hubspot_url,
        "token": ep.hubspot_token,
        "daily_api_allotment": allotments["hubspot"],
    }
    salesforce: dict[str, object] = {
        "instance_url": ep.salesforce_url,
        "token": ep.salesforce_token,
        "daily_api_allotment": allotments["salesforce"],
    }
    if ep.ca_file:
        salesforce["ca_file"] = ep.ca_file
    lines: list[str] = []
    sections: dict[str, Mapping[str, Any]] = {
        "hubspot": hubspot,
        "salesforce": salesforce,
        "state": {"path": str(state_path)},
        "contacts": {k: v for k, v in contacts.items() if k != "fields" and v is not None},
    }
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
        lines.append("")
    for mapping in contacts.get("fields") or ():
        lines.append("[[contacts.fields]]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in mapping.items() if value is not None]
        lines.append("")
    return "\n".join(lines)


def engine_env(armed: Mapping[str, int] | None = None) -> dict[str, str]:
    """Our environment without any ``CRMSYNC_*`` of the caller's (they would override the config
    file — a real token among them), plus quick batching, quiet logs and the failpoints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMSYNC_")}
    # CRMSYNC_CHAOS_LOG_LEVEL=DEBUG: the engines' logs in a failing run's directory say more.
    level = os.environ.get("CRMSYNC_CHAOS_LOG_LEVEL", "WARNING")
    env.update(CRMSYNC_BATCH_LINGER_MS="5", CRMSYNC_LOG_LEVEL=level, PYTHONUNBUFFERED="1")
    if armed:
        env[failpoints.ENV] = failpoints.format_spec(dict(armed))
    return env


async def run_engine(
    config: Path,
    logs: Path,
    *,
    armed: Mapping[str, int] | None = None,
    kill_after_s: float | None = None,
    timeout_s: float = 180.0,
) -> EngineExit:
    """One ``run --until-idle``; SIGKILL it after ``kill_after_s`` (a planned kill) if it is still
    running, or after ``timeout_s`` (then ``timed_out``). ``logs`` is the path stem of its output."""
    out_path, err_path = logs.with_suffix(".out"), logs.with_suffix(".err")
    cmd = [sys.executable, "-m", "engine.cli", "run", "--config", str(config), "--until-idle"]
    started = anyio.current_time()
    timer_fired = False
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = await anyio.open_process(cmd, stdout=out, stderr=err, env=engine_env(armed))
        limit = timeout_s if kill_after_s is None else min(kill_after_s, timeout_s)
        with anyio.move_on_after(limit):
            await process.wait()
        if process.returncode is None:
            timer_fired = True
            process.send_signal(signal.SIGKILL)
            with anyio.CancelScope(shield=True):
                await process.wait()
    assert process.returncode is not None
    seconds = anyio.current_time() - started
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    killed_by = _failpoint_in(stderr) if process.returncode == -signal.SIGKILL else None
    if killed_by is None and timer_fired:
        killed_by = "timer"
    return EngineExit(
        returncode=process.returncode,
        killed_by=killed_by,
        timed_out=timer_fired and (kill_after_s is None or kill_after_s > timeout_s),
        seconds=round(seconds, 3),
        summary=_summary(out_path.read_text(encoding="utf-8", errors="replace")),
        stderr_tail=stderr[-2000:],
    )


def _failpoint_in(stderr: str) -> str | None:
    for line in reversed(stderr.splitlines()):
        if line.startswith(failpoints.MARK + " "):
            return line.split()[2]
    return None


def _summary(stdout: str) -> dict[str, Any] | None:
    lines = stdout.strip().splitlines()
    if not lines:
        return None
    try:
        found = msgspec.json.decode(lines[-1])
    except msgspec.DecodeError:
        return None
    return found if isinstance(found, dict) else None
