"""One place where crmsync speaks HTTP: budget, retries and back-pressure for both CRMs.

Every attempt is charged to the system's budget *before* it is sent. Rate limits, 5xx answers,
timeouts and dropped connections are retried with backoff (they are back-pressure, never record
errors); only idempotent operations go through here (reads, updates and upserts on external ids —
crmsync never issues a plain create), so a retry after a lost reply can never duplicate a record.
What a CRM says about a request (2xx and the remaining 4xx) goes back to the caller to interpret.
A 401 asks the system's ``TokenProvider`` for a fresh token once, then repeats the request.
"""

from __future__ import annotations

import random
import ssl
from collections.abc import Mapping
from enum import Enum, auto
from typing import Protocol

import aiohttp
import anyio
import msgspec
from loguru import logger

from engine.auth import TokenProvider
from engine.budget import AllotmentExhausted, Budget
from engine.errors import AuthFailed, Transient
from engine.pacing import WindowLimiter


class Verdict(Enum):
    RETURN = auto()
    """Give the response to the caller (success, or a 4xx only the caller can interpret)."""
    RETRY = auto()
    """Back-pressure or a passing fault: wait and try again."""
    EXHAUSTED = auto()
    """The server's own daily limit is used up: pause this direction."""
    AUTH = auto()


class Response(msgspec.Struct, frozen=True):
    status: int
    headers: Mapping[str, str]
    body: bytes


class Policy(Protocol):
    """What differs between the CRMs: how they report usage, limits and auth failures."""

    def observe(self, budget: Budget, headers: Mapping[str, str]) -> None: ...

    def judge(self, response: Response) -> tuple[Verdict, float | None]:
        """The verdict and, for RETRY, how long to wait (None = use the backoff)."""
        ...


def ssl_context(ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(ca_file)
    return ctx


def make_session(connections: int, ca_file: str | None = None) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=connections, ssl=ssl_context(ca_file), ttl_dns_cache=300)
    # A CRM that stops answering must not hold a batch (and every record in it) for long: with six
    # attempts, one request gives up after at most ~6 minutes. Our largest calls (2,000-row SOQL
    # pages, 200-record collections) answer in well under a second.
    timeout = aiohttp.ClientTimeout(total=60, sock_connect=10, sock_read=45)
    session = aiohttp.ClientSession(connector=connector, timeout=timeout, raise_for_status=False)
    # aiohttp resends a GET/PUT/DELETE once, unseen, when the server drops the connection: a call
    # the CRM counts and our budget never charged (the allotment could be overrun). Every attempt
    # goes through ``HttpClient.request``'s own loop instead, which charges it first. There is no
    # public switch; this is the attribute aiohttp's own test client clears.
    session._retry_connection = False
    return session


class HttpClient:
    """Authenticated, budgeted, retrying requests against one CRM."""

    def __init__(
        self,
        system: str,
        base_url: str,
        token: str | TokenProvider,
        budget: Budget,
        session: aiohttp.ClientSession,
        policy: Policy,
        *,
        max_attempts: int = 6,
        backoff_s: float = 0.5,
    ) -> None:
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.auth = token if isinstance(token, TokenProvider) else TokenProvider(system, token)
        self.budget = budget
        self._session = session
        self._policy = policy
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._log = logger.bind(system=system)
        self._fix = (
            f"check the OAuth app behind {system}.client_id (its scopes, and that it belongs to this account)"
            if self.auth.can_refresh
            else f"check {system}.token (env CRMSYNC_{system.upper()}_TOKEN), or configure OAuth refresh"
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        lane: WindowLimiter | None = None,
    ) -> Response:
        """``lane``: a limit of this kind of call's own (HubSpot search), taken for every attempt."""
        extra = dict(headers or {})
        if body is not None:
            extra.setdefault("Content-Type", "application/json")
        problem = "no attempt made"
        refreshed = False
        attempt = 0
        while attempt < self._max_attempts:
            attempt += 1
            # The token first: a call whose token cannot be had is never sent, so it is not charged.
            token, generation = await self.auth.bearer()
            await self.budget.acquire(lane=lane)
            # An OAuth answer may name the API's base (Salesforce's instance_url): it wins.
            url = path if path.startswith("http") else (self.auth.instance_url or self.base_url) + path
            sent_headers = {"Authorization": f"Bearer {token}", **extra}
            wait: float | None = None
            try:
                async with self._session.request(
                    method, url, params=params, data=body, headers=sent_headers
                ) as resp:
                    response = Response(resp.status, dict(resp.headers), await resp.read())
            except (aiohttp.ClientError, TimeoutError) as exc:
                # Includes a write whose reply was lost: safe to repeat, as every write is idempotent.
                problem = f"{method} {path}: {type(exc).__name__} {exc}".strip()
            else:
                self._policy.observe(self.budget, response.headers)
                verdict, wait = self._policy.judge(response)
                if verdict is Verdict.RETURN:
                    return response
                if verdict is Verdict.AUTH:
                    refused = f"HTTP {response.status} on {method} {path}"
                    if not self.auth.can_refresh:
                        raise AuthFailed(self.system, f"{refused}; {self._fix}")
                    if refreshed:  # a token fresh from the token endpoint was refused too: no loop
                        raise AuthFailed(self.system, f"{refused} with a just-refreshed token; {self._fix}")
                    await self.auth.refresh_after(generation)  # AuthFailed when it cannot
                    refreshed = True
                    self._log.debug("retrying {} {} with a refreshed access token", method, path)
                    attempt -= 1  # the refusal was not the CRM failing: it costs no attempt
                    continue
                if verdict is Verdict.EXHAUSTED:
                    raise AllotmentExhausted(self.system, self.budget.server_exhausted())
                problem = f"{method} {path}: HTTP {response.status} {response.body[:200]!r}"
            finally:
                # After observe: the server figure discounts the others in flight.
                self.budget.settle(lane=lane)
            delay = wait if wait is not None else self._backoff(attempt)
            self._log.debug("retrying in {:.2f}s (attempt {}): {}", delay, attempt, problem)
            await anyio.sleep(delay)
        raise Transient(self.system, f"gave up after {self._max_attempts} attempts: {problem}")

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter, capped at 30 s."""
        return random.uniform(0, min(30.0, self._backoff_s * 2 ** (attempt - 1)))
