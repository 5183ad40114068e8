"""Start both mock CRMs: in the current event loop, or in a background thread for sync clients."""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web

from mockcrm import hubspot, salesforce
from mockcrm.config import MockConfig, MockEndpoints
from mockcrm.tls import make_server_context


async def _listen(app: web.Application, host: str, port: int, ssl_context: Any) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context, backlog=1024)
    await site.start()
    server = site._server
    assert server is not None
    sockets = getattr(server, "sockets", None) or []
    return runner, sockets[0].getsockname()[1]


@asynccontextmanager
async def running_mocks(
    config: MockConfig,
) -> AsyncIterator[tuple[MockEndpoints, web.Application, web.Application]]:
    """Serve both mocks until the block exits; yields their endpoints and aiohttp applications."""
    with tempfile.TemporaryDirectory(prefix="crmsync-mock-") as tmp:
        ssl_context = None
        ca_file: Path | None = None
        if not config.plain_http:
            ssl_context, ca_file = make_server_context(Path(config.cert_dir or tmp))
        hs_app = hubspot.create_app(config)
        sf_app = salesforce.create_app(config)
        hs_runner, hs_port = await _listen(hs_app, config.host, config.hubspot_port, None)
        try:
            sf_runner, sf_port = await _listen(sf_app, config.host, config.salesforce_port, ssl_context)
            try:
                scheme = "http" if config.plain_http else "https"
                yield (
                    MockEndpoints(
                        hubspot_url=f"http://{config.host}:{hs_port}",
                        hubspot_token=config.hubspot_token,
                        salesforce_url=f"{scheme}://{config.host}:{sf_port}",
                        salesforce_token=config.salesforce_token,
                        ca_file=str(ca_file) if ca_file else None,
                    ),
                    hs_app,
                    sf_app,
                )
            finally:
                await sf_runner.cleanup()
        finally:
            await hs_runner.cleanup()


class MocksInThread:
    """Both mocks on their own event loop in a daemon thread.

    The official clients (``hubspot-api-client``, ``simple-salesforce``) are synchronous; calling
    them from the loop that serves the mock would deadlock, so their tests serve from a thread.
    """

    def __init__(self, config: MockConfig) -> None:
        self._config = config
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.endpoints: MockEndpoints | None = None
        self._thread = threading.Thread(target=self._main, name="crmsync-mocks", daemon=True)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with running_mocks(self._config) as (endpoints, _, _):
            self.endpoints = endpoints
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> MockEndpoints:
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            raise RuntimeError("mock CRMs failed to start") from self._error
        if self.endpoints is None:
            raise RuntimeError("mock CRMs did not start within 30 s")
        return self.endpoints

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)
