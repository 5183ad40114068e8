"""The ``crmsync`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import anyio
import msgspec

from mockcrm.config import DEFAULT_HUBSPOT_TOKEN, DEFAULT_SALESFORCE_TOKEN, MockConfig


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crmsync", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _mock_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "mock":
        anyio.run(_serve_mocks, _mock_config(args), backend="asyncio")
        return 0
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
