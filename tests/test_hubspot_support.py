"""Shared helpers for the HubSpot mock tests (no tests here).

The official client calls block without a timeout, so every test runs under a watchdog that dumps
the stacks and exits if it hangs, which keeps each test bounded in time.
"""

from __future__ import annotations

import faulthandler
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
import pytest
import urllib3
from hubspot import HubSpot

from mockcrm.config import MockEndpoints
from mockcrm.server import MocksInThread
from tests.conftest import mock_config

WATCHDOG_S = 120
_http = urllib3.PoolManager(timeout=urllib3.Timeout(total=30), retries=False)


@pytest.fixture(autouse=True)
def watchdog() -> Iterator[None]:
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@contextmanager
def hubspot_mocks(**overrides: object) -> Iterator[MockEndpoints]:
    """Both mocks on a thread; HubSpot's limits lifted unless a test sets them."""
    config: dict[str, object] = {"plain_http": True, "hubspot_burst_limit": 0, "hubspot_search_rate": 0}
    config.update(overrides)
    with MocksInThread(mock_config(**config)) as endpoints:
        yield endpoints


def client(endpoints: MockEndpoints, token: str | None = None) -> HubSpot:
    return HubSpot(access_token=token or endpoints.hubspot_token, host=endpoints.hubspot_url)


def call(
    endpoints: MockEndpoints,
    method: str,
    path: str,
    body: object = None,
    token: str | None = None,
    raw: bytes | None = None,
) -> tuple[int, Any, dict[str, str]]:
    """One raw HTTP call to the HubSpot mock: (status, decoded JSON or None, headers)."""
    headers = {
        "Authorization": f"Bearer {token or endpoints.hubspot_token}",
        "Content-Type": "application/json",
    }
    data = raw if raw is not None else (None if body is None else msgspec.json.encode(body))
    resp = _http.request(method, endpoints.hubspot_url + path, body=data, headers=headers)
    decoded = msgspec.json.decode(resp.data) if resp.data else None
    return resp.status, decoded, dict(resp.headers)


def reset(endpoints: MockEndpoints) -> None:
    status, _, _ = call(endpoints, "POST", "/__mock/reset")
    assert status == 200
