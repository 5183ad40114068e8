"""Shared helpers for the Salesforce mock tests (no tests here).

Clients follow reference B15: simple-salesforce in direct session mode over the HTTPS mock, with a
``requests.Session`` that trusts the mock's CA and ignores the environment's CA settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce

from mockcrm.config import MockEndpoints

TIMEOUT = 30


class _BoundedSession(requests.Session):
    """A session whose every request has a timeout (simple-salesforce sets none), so a hung mock
    fails the test instead of stalling the suite."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        return super().request(method, url, *args, **kwargs)


def session(endpoints: MockEndpoints) -> requests.Session:
    s = _BoundedSession()
    assert endpoints.ca_file is not None
    s.verify = endpoints.ca_file
    s.trust_env = False
    return s


def client(endpoints: MockEndpoints, token: str | None = None, version: str = "59.0") -> Salesforce:
    return Salesforce(
        instance_url=endpoints.salesforce_url,
        session_id=token or endpoints.salesforce_token,
        version=version,
        session=session(endpoints),
    )


def control(endpoints: MockEndpoints, method: str, path: str, body: Any = None) -> requests.Response:
    with session(endpoints) as s:
        return s.request(method, endpoints.salesforce_url + path, json=body, timeout=TIMEOUT)


def raw(
    endpoints: MockEndpoints,
    method: str,
    path: str,
    *,
    data: bytes | str | None = None,
    json: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """An API call without simple-salesforce, for shapes the client hides (status codes, headers)."""
    all_headers = {"Authorization": f"Bearer {token or endpoints.salesforce_token}"}
    all_headers.update(headers or {})
    if data is not None and json is None:
        all_headers.setdefault("Content-Type", "application/json")
    with session(endpoints) as s:
        return s.request(
            method,
            endpoints.salesforce_url + path,
            data=data,
            json=json,
            headers=all_headers,
            timeout=TIMEOUT,
        )


@pytest.fixture
def fresh_sf(threaded_mocks: MockEndpoints) -> Iterator[tuple[Salesforce, MockEndpoints]]:
    """simple-salesforce against a freshly reset org (the mocks themselves are shared per module)."""
    assert control(threaded_mocks, "POST", "/__mock/reset").status_code == 200
    yield client(threaded_mocks), threaded_mocks
