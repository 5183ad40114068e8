"""Access tokens: a fixed one, or one crmsync refreshes itself with OAuth refresh credentials.

One ``TokenProvider`` per system holds the current access token and a *generation* number that
grows with every refresh. A request remembers the generation it was sent with; on a 401 it asks
for a refresh *after* that generation, so many concurrent requests refused together cause one
call to the token endpoint (single-flight): the first one in refreshes, the others find the
generation moved on and retry with the new token. A refresh the token endpoint refuses (400/401:
bad client or refresh token) is fatal, ``AuthFailed`` naming the keys to fix; one that cannot reach
it (5xx, 429, network) is ``Transient``, back-pressure like any other.

Token-endpoint calls are not charged to the system's API budget: Salesforce does not count OAuth
token requests against ``DailyApiRequests``, and HubSpot's ``/oauth/v1/token`` is outside the CRM
API's daily and ten-second limits. They stay bounded without it: a refresh happens only when a
charged API call was refused (at most one per refusal, and single-flight) or shortly before the
token's known expiry (``expires_in``: HubSpot's 30 minutes; Salesforce tells none).

No secret (token, client secret, refresh token) ever goes into a log line or an exception.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import aiohttp
import anyio
import msgspec
from loguru import logger

from engine.errors import AuthFailed, CrmsyncError, Transient
from engine.settings import HubSpotSettings, SalesforceSettings

REFRESH_ATTEMPTS = 4
EARLY_REFRESH_S = 300.0
"""Refresh this long before a known expiry (or at 90 % of a shorter lifetime)."""


class RefreshGrant(msgspec.Struct, frozen=True, kw_only=True):
    """What a refresh-token grant sends; ``keys`` names the settings to fix when it is refused."""

    token_url: str
    client_id: str
    client_secret: str
    refresh_token: str
    keys: str
    follow_instance_url: bool = False
    """Take the API's base URL from the answer's ``instance_url`` (Salesforce only)."""

    def __repr__(self) -> str:
        return f"RefreshGrant(token_url={self.token_url!r}, client_secret=***, refresh_token=***)"


class _TokenAnswer(msgspec.Struct, frozen=True):
    access_token: str
    expires_in: float | None = None
    refresh_token: str | None = None
    instance_url: str | None = None
    """Salesforce: where the org's REST API lives (what login.salesforce.com answers with)."""


class _OAuthError(msgspec.Struct, frozen=True):
    # Salesforce: error / error_description; HubSpot: status / message.
    error: str = ""
    error_description: str = ""
    status: str = ""
    message: str = ""


_answer = msgspec.json.Decoder(_TokenAnswer)
_oauth_error = msgspec.json.Decoder(_OAuthError)


def hubspot_grant(s: HubSpotSettings) -> RefreshGrant | None:
    if not s.oauth:
        return None
    return RefreshGrant(
        token_url=s.oauth_token_url(),
        client_id=s.client_id,
        client_secret=s.client_secret,
        refresh_token=s.refresh_token,
        keys="hubspot.client_id, hubspot.client_secret and hubspot.refresh_token "
        "(env CRMSYNC_HUBSPOT_CLIENT_ID, CRMSYNC_HUBSPOT_CLIENT_SECRET, CRMSYNC_HUBSPOT_REFRESH_TOKEN)",
    )


def salesforce_grant(s: SalesforceSettings) -> RefreshGrant | None:
    if not s.oauth:
        return None
    return RefreshGrant(
        token_url=s.oauth_token_url(),
        client_id=s.client_id,
        client_secret=s.client_secret,
        refresh_token=s.refresh_token,
        follow_instance_url=True,
        keys="salesforce.client_id, salesforce.client_secret, salesforce.refresh_token and "
        "salesforce.token_url (env CRMSYNC_SALESFORCE_CLIENT_ID, CRMSYNC_SALESFORCE_CLIENT_SECRET, "
        "CRMSYNC_SALESFORCE_REFRESH_TOKEN, CRMSYNC_SALESFORCE_TOKEN_URL)",
    )


class TokenProvider:
    """The current access token of one system, refreshed on demand when a grant is configured."""

    def __init__(
        self,
        system: str,
        token: str,
        grant: RefreshGrant | None = None,
        session: aiohttp.ClientSession | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        backoff_s: float = 0.5,
    ) -> None:
        if grant is not None and session is None:
            raise ValueError("a refresh grant needs an HTTP session")
        self.system = system
        self._token = token
        self._grant = grant
        self._session = session
        self._clock = clock
        self._backoff_s = backoff_s
        self._refresh_at: float | None = None
        self._generation = 0
        self._failures = 0
        self._last_failure: CrmsyncError | None = None
        self._lock = anyio.Lock()
        self.refreshes = 0
        """Successful refreshes so far (for the log and for tests)."""
        self.instance_url: str | None = None
        """The API's base URL as the token endpoint last named it (Salesforce), else None."""

    @property
    def can_refresh(self) -> bool:
        return self._grant is not None

    def __repr__(self) -> str:
        return f"TokenProvider({self.system!r}, generation={self._generation}, refresh={self.can_refresh})"

    async def bearer(self) -> tuple[str, int]:
        """The token to send now and its generation; fetches the first one, or a fresh one when
        the current one is about to expire."""
        if self._grant is not None and not self._token:
            await self.refresh_after(self._generation)
        elif self._grant is not None and self._refresh_at is not None and self._clock() >= self._refresh_at:
            try:
                await self.refresh_after(self._generation)
            except Transient as exc:
                # The current token still has a few minutes: use it, and try again in a while.
                self._refresh_at = self._clock() + 30.0
                logger.bind(system=self.system).warning("early token refresh postponed: {}", exc)
        return self._token, self._generation

    async def refresh_after(self, stale: int) -> None:
        """Make sure the token is newer than generation ``stale`` (single-flight). Raises
        AuthFailed without a grant or when the token endpoint refuses it, Transient when it cannot
        be reached."""
        if self._grant is None:
            raise AuthFailed(
                self.system,
                f"the access token was refused and no OAuth refresh credentials are configured; "
                f"set {self.system}.token (env CRMSYNC_{self.system.upper()}_TOKEN) to a valid "
                f"token, or {self.system}.client_id/client_secret/refresh_token",
            )
        failures = self._failures
        async with self._lock:
            if self._generation != stale:
                return  # refreshed while we waited
            if self._failures != failures and self._last_failure is not None:
                raise self._last_failure  # the refresh we waited on failed: share its outcome
            try:
                await self._refresh(self._grant)
            except CrmsyncError as exc:
                self._failures += 1
                self._last_failure = exc
                raise

    async def _refresh(self, grant: RefreshGrant) -> None:
        assert self._session is not None
        form = {
            "grant_type": "refresh_token",
            "client_id": grant.client_id,
            "refresh_token": grant.refresh_token,
        }
        if grant.client_secret:
            form["client_secret"] = grant.client_secret
        problem = "no attempt made"
        for attempt in range(1, REFRESH_ATTEMPTS + 1):
            try:
                async with self._session.post(
                    grant.token_url, data=form, headers={"Accept": "application/json"}
                ) as resp:
                    status, body = resp.status, await resp.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = f"{type(exc).__name__}"
            else:
                if status == 200:
                    self._adopt(body, grant)
                    return
                if status in (400, 401, 403):
                    raise AuthFailed(
                        self.system,
                        f"the OAuth token endpoint refused the refresh (HTTP {status}"
                        f"{self._reason(body, grant)}); check {grant.keys}",
                    )
                problem = f"HTTP {status}"
            delay = random.uniform(0, self._backoff_s * 2 ** (attempt - 1))
            logger.bind(system=self.system).debug(
                "token refresh failed ({}), retrying in {:.2f}s", problem, delay
            )
            await anyio.sleep(delay)
        raise Transient(self.system, f"could not refresh the access token: {problem}")

    def _adopt(self, body: bytes, grant: RefreshGrant) -> None:
        try:
            answer = _answer.decode(body)
        except msgspec.DecodeError:
            raise AuthFailed(
                self.system, f"the OAuth token endpoint answered without an access token; check {grant.keys}"
            ) from None
        self._token = answer.access_token
        if (
            grant.follow_instance_url
            and answer.instance_url
            and answer.instance_url.startswith(("https://", "http://"))
        ):
            # Salesforce's answer is authoritative for where this org's API is (a refresh through
            # login.salesforce.com names the org's own My Domain), as its own clients take it.
            if answer.instance_url.rstrip("/") != self.instance_url:
                logger.bind(system=self.system).debug("{}: API at {}", self.system, answer.instance_url)
            self.instance_url = answer.instance_url.rstrip("/")
        if answer.refresh_token and answer.refresh_token != grant.refresh_token:
            # Refresh-token rotation: the old one may stop working. Kept in memory only (a state
            # file holding secrets would need protecting); a restart uses the configured one.
            self._grant = msgspec.structs.replace(grant, refresh_token=answer.refresh_token)
        lifetime = answer.expires_in
        self._refresh_at = None
        if lifetime:
            self._refresh_at = self._clock() + max(0.0, min(lifetime - EARLY_REFRESH_S, lifetime * 0.9))
        self._generation += 1
        self.refreshes += 1
        logger.bind(system=self.system).info(
            "{}: access token refreshed{}",
            self.system,
            f" (valid for {int(lifetime)} s)" if lifetime else "",
        )

    def _reason(self, body: bytes, grant: RefreshGrant) -> str:
        """The endpoint's error code and description, with any secret blanked out."""
        try:
            err = _oauth_error.decode(body)
        except msgspec.DecodeError:
            return ""
        code = err.error or err.status
        text = err.error_description or err.message
        reason = f": {code}" + (f" {text}" if text else "") if code or text else ""
        for secret in (grant.client_secret, grant.refresh_token, grant.client_id, self._token):
            if secret:
                reason = reason.replace(secret, "***")
        return reason[:200]
