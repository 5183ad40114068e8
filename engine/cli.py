"""The ``crmsync`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import anyio
import msgspec

from mockcrm.config import DEFAULT_HUBSPOT_TOKEN, DEFAULT_SALESFORCE_TOKEN, MockConfig

if TYPE_CHECKING:
    from rich.console import RenderableType

    from engine.settings import Settings


def _mock_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("mock", help="serve the mock HubSpot and Salesforce APIs until SIGINT/SIGTERM")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--hubspot-port", type=int, default=8101, help="0 = any free port (default 8101)")
    p.add_argument("--salesforce-port", type=int, default=8102, help="0 = any free port (default 8102)")
    p.add_argument("--hubspot-token", default=DEFAULT_HUBSPOT_TOKEN)
    p.add_argument("--salesforce-token", default=DEFAULT_SALESFORCE_TOKEN)
    p.add_argument("--hubspot-daily-limit", type=int, default=650_000, help="0 = unlimited")
    p.add_argument("--hubspot-burst-limit", type=int, default=190, help="calls per 10 s; 0 = unlimited")
    p.add_argument("--hubspot-search-rate", type=int, default=5, help="searches per second; 0 = unlimited")
    p.add_argument("--salesforce-daily-limit", type=int, default=100_000, help="0 = unlimited")
    p.add_argument("--lift-limits", action="store_true", help="remove every rate and daily limit")
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--error-rate", type=float, default=0.0)
    p.add_argument("--plain-http", action="store_true", help="serve Salesforce over HTTP as well")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--cert-dir", default=None, help="where to write the CA file (default: a temp dir)")


def _mock_config(args: argparse.Namespace) -> MockConfig:
    if not 0.0 <= args.error_rate <= 1.0:
        raise SystemExit("crmsync mock: --error-rate must be between 0 and 1")
    lifted = bool(args.lift_limits)
    return MockConfig(
        host=args.host,
        hubspot_port=args.hubspot_port,
        salesforce_port=args.salesforce_port,
        hubspot_token=args.hubspot_token,
        salesforce_token=args.salesforce_token,
        hubspot_daily_limit=0 if lifted else args.hubspot_daily_limit,
        hubspot_burst_limit=0 if lifted else args.hubspot_burst_limit,
        hubspot_search_rate=0 if lifted else args.hubspot_search_rate,
        salesforce_daily_limit=0 if lifted else args.salesforce_daily_limit,
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        plain_http=args.plain_http,
        seed=args.seed,
        cert_dir=args.cert_dir,
    )


async def _serve_mocks(config: MockConfig) -> None:
    import signal

    from mockcrm.server import running_mocks

    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with running_mocks(config) as (endpoints, _, _):
            sys.stdout.write(msgspec.json.encode(endpoints).decode() + "\n")
            sys.stdout.flush()
            async for _ in signals:
                break


def _run_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="sync HubSpot and Salesforce")
    p.add_argument("--config", default=None, help="TOML config file (CRMSYNC_* variables override it)")
    p.add_argument("--until-idle", action="store_true", help="drain every change, print a JSON summary, exit")
    p.add_argument(
        "--backfill",
        action="store_true",
        help="first sync every existing record once, then carry on as usual",
    )
    p.add_argument("--log-json", action="store_true", help="log JSON lines to stderr")


def _setup_logging(level: str, as_json: bool) -> None:
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level=level, serialize=as_json, backtrace=False, diagnose=False)


async def _run_until_idle(settings: Settings, backfill: bool) -> int:
    from engine.runtime import sync_until_idle

    watch = None
    if backfill and sys.stderr.isatty():
        from engine.progress import show_progress

        watch = show_progress
    summary = await sync_until_idle(settings, backfill=backfill, watch=watch)
    sys.stdout.write(msgspec.json.encode(summary.public()).decode() + "\n")
    return 3 if summary.paused else 0


async def _run_forever(settings: Settings, backfill: bool) -> int:
    """Until SIGINT/SIGTERM; shutdown is cancellation, and the store's last writes are shielded."""
    import signal

    from loguru import logger

    from engine.runtime import open_engine, run_forever

    async with (
        open_engine(settings, mode="forever", backfill=backfill) as engine,
        anyio.create_task_group() as tg,
    ):

        async def stop_on_signal() -> None:
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for signum in signals:
                    logger.info("stopping on signal {}", signum)
                    tg.cancel_scope.cancel()
                    return

        tg.start_soon(stop_on_signal)
        await run_forever(engine, backfill=backfill)
    return 0


def _settings(args: argparse.Namespace) -> Settings | None:
    """Settings, or None after a one-line config error on stderr (the caller exits 2)."""
    from engine.errors import ConfigError
    from engine.mapping import MappingError
    from engine.settings import load_settings

    try:
        return load_settings(args.config)
    except (ConfigError, MappingError) as exc:
        sys.stderr.write(f"crmsync: config error: {exc}\n")
        return None


def _tune_gc() -> None:
    """Collect cyclic garbage less often than CPython's default (every 700 net allocations).

    A sync allocates a few dicts and structs per record, and almost all of it dies young by
    reference counting; the default threshold still ran a young collection every few records, and
    each older collection walked the link cache and the records in flight. Measured on a lifted
    backfill (`crmsync bench --scenario initial --limits lifted`): 0.335 -> 0.241 engine CPU s per
    1,000 pairs at 100k, 0.27-0.31 -> 0.21-0.24 at 30k, peak RSS unchanged (what cycles there are
    still get collected, 50,000 allocations later). Only the sync process does this: it is the
    process's choice, not the library's (tests and embedders keep their own)."""
    import gc

    gc.set_threshold(50_000, 20, 100)


def _run(args: argparse.Namespace) -> int:
    from engine.errors import AuthFailed, StateFileError
    from engine.mapping import MappingError

    settings = _settings(args)
    if settings is None:
        return 2
    _setup_logging(settings.tuning.log_level, args.log_json)
    _tune_gc()
    main = _run_until_idle if args.until_idle else _run_forever
    try:
        return anyio.run(main, settings, args.backfill, backend="asyncio")
    except MappingError as exc:
        sys.stderr.write(f"crmsync: config error: {exc}\n")
        return 2
    except (StateFileError, AuthFailed) as exc:
        sys.stderr.write(f"crmsync: {exc}\n")
        return 1
    except BaseExceptionGroup as group:  # raised inside the engine's task group
        fatal = group.subgroup((StateFileError, AuthFailed))
        if fatal is None:
            raise
        sys.stderr.write(f"crmsync: {_first(fatal)}\n")
        return 1


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


def _health_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("health", help="API calls against the allotments, and sync errors by type")
    p.add_argument("--config", default=None, help="TOML config file (CRMSYNC_* variables override it)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p = sub.add_parser("errors", help="every sync error with its record, message and how to fix it")
    p.add_argument("--config", default=None, help="TOML config file (CRMSYNC_* variables override it)")
    p = sub.add_parser("runs", help="the last runs: when, how they ended, what they synced")
    p.add_argument("--config", default=None, help="TOML config file (CRMSYNC_* variables override it)")
    p.add_argument("--limit", type=_positive, default=20, help="how many runs, newest first (default 20)")
    p.add_argument("--json", action="store_true", help="print a JSON array instead of a table")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return int(text)


def _health(args: argparse.Namespace) -> int:
    from engine.errors import StateFileError
    from engine.health import console, errors_view, health_view, read_errors, read_health, read_runs
    from engine.runs_view import runs_table

    settings = _settings(args)
    if settings is None:
        return 2
    view: RenderableType
    try:
        if args.command == "runs":
            runs, notes = anyio.run(read_runs, settings, args.limit, backend="asyncio")
            for note in notes:
                sys.stderr.write(f"crmsync: {note}\n")
            if args.json:
                sys.stdout.write(msgspec.json.encode(runs).decode() + "\n")
                return 0
            view = runs_table(runs, f"Last {len(runs)} runs, newest first")
        elif args.command == "errors":
            view = errors_view(anyio.run(read_errors, settings, backend="asyncio"))
        else:
            health = anyio.run(read_health, settings, backend="asyncio")
            if args.json:
                sys.stdout.write(msgspec.json.encode(health.public()).decode() + "\n")
                return 0
            view = health_view(health)
    except StateFileError as exc:
        sys.stderr.write(f"crmsync: {exc}\n")
        return 1
    console().print(view)
    return 0


def _chaos_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "chaos",
        help="seeded runs of workload, engine kill -9s and injected faults, checked by the oracle",
    )
    p.add_argument("--runs", type=int, default=5, help="how many seeded runs (seeds SEED, SEED+1, ...)")
    p.add_argument("--seed", type=int, default=1, help="the first run's seed")
    p.add_argument("--people", type=int, default=12, help="people in each run's workload")
    p.add_argument("--rounds", type=int, default=2, help="workload rounds per run")
    p.add_argument(
        "--kills", type=int, default=3, help="engine starts killed per round before its clean pass"
    )
    p.add_argument("--fault-rate", type=float, default=0.1, help="scale of injected fault rates (0 = none)")
    p.add_argument("--kill-window", type=float, default=1.5, help="timer kills land within this many s")
    p.add_argument("--keep-dir", default=None, help="where failing runs' logs and state files stay")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")


def _chaos(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.health import console
    from mockcrm.chaos.report import ChaosParams, RunResult
    from mockcrm.chaos.runner import run_chaos

    if args.runs < 1 or args.people < 1 or args.rounds < 1 or args.kills < 0:
        raise SystemExit("crmsync chaos: --runs, --people and --rounds must be at least 1, --kills 0 or more")
    if not 0.0 <= args.fault_rate <= 1.0 or args.kill_window <= 0.2:
        raise SystemExit("crmsync chaos: --fault-rate must be within 0..1 and --kill-window above 0.2")
    params = ChaosParams(
        people=args.people,
        rounds=args.rounds,
        kills=args.kills,
        fault_rate=args.fault_rate,
        kill_window_s=args.kill_window,
    )

    def progress(r: RunResult) -> None:
        verdict = "ok" if r.ok else "FAILED"
        sys.stderr.write(f"chaos: seed {r.seed} {verdict} ({r.restarts} restarts, {r.seconds} s)\n")

    keep = Path(args.keep_dir) if args.keep_dir else None
    report = anyio.run(
        lambda: run_chaos(params, runs=args.runs, seed=args.seed, keep_dir=keep, on_result=progress),
        backend="asyncio",
    )
    if args.json:
        sys.stdout.write(msgspec.json.encode(report.public()).decode() + "\n")
    else:
        console().print(report.view())
    return report.exit_code


def _demo_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("demo", help="sync a small story between two in-process mock CRMs and explain it")


def _bench_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from benchmarks.options import add_arguments

    add_arguments(sub.add_parser("bench", help="measure sync throughput, latency and API calls on the mocks"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crmsync", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _mock_parser(sub)
    _run_parser(sub)
    _health_parsers(sub)
    _chaos_parser(sub)
    _demo_parser(sub)
    _bench_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "mock":
        _tune_gc()  # the mocks hold every record: the same cost, and they must keep up in a bench
        anyio.run(_serve_mocks, _mock_config(args), backend="asyncio")
        return 0
    if args.command == "run":
        return _run(args)
    if args.command in ("health", "errors", "runs"):
        return _health(args)
    if args.command == "chaos":
        return _chaos(args)
    if args.command == "demo":
        from engine.demo import main as demo_main

        return demo_main()
    if args.command == "bench":
        from benchmarks.bench import main as bench_main

        return bench_main(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
