"""Bearer authentication and the OAuth v1 token endpoint.

The configured private-app token always works. OAuth access tokens come from
``POST /oauth/v1/token`` (refresh or authorization-code grant), last 30 minutes of mock-clock time
and then answer 401 ``EXPIRED_AUTHENTICATION``, as HubSpot's do.
"""

from __future__ import annotations

import secrets

from aiohttp import web

from mockcrm.hubspot.context import HubSpotMock, OAuthToken, mock_of
from mockcrm.hubspot.errors import PORTAL_ID, correlation_id, json_response, unauthorized

ACCESS_TOKEN_TTL_S = 1800
SCOPES = [
    "oauth", "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.companies.read",
    "crm.objects.companies.write", "crm.objects.deals.read", "crm.objects.deals.write",
    "crm.objects.owners.read", "crm.schemas.custom.read", "tickets",
]  # fmt: skip


def authenticate(mock: HubSpotMock, request: web.Request) -> bool:
    """True for the private-app token, False for a live OAuth token; raises a 401 otherwise."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthorized()
    if secrets.compare_digest(token, mock.config.hubspot_token):
        return True
    issued = mock.tokens.get(token)
    if issued is None:
        raise unauthorized()
    now = mock.clock.now_ms()
    if now >= issued.expires_ms:
        raise unauthorized(expired_s=max(1, (now - issued.expires_ms) // 1000))
    return False


def _oauth_error(status: str, message: str) -> web.Response:
    # The OAuth endpoints use their own error shape: ``status`` carries the error code.
    cid = correlation_id()
    return json_response(
        {"status": status, "message": message, "correlationId": cid, "requestId": cid}, status=400, cid=cid
    )


async def token(request: web.Request) -> web.Response:
    mock = mock_of(request)
    try:
        form = await request.post()
    except ValueError:
        return _oauth_error("BAD_REQUEST", "the request body must be application/x-www-form-urlencoded")
    fields = {k: str(v) for k, v in form.items()}
    grant = fields.get("grant_type", "")
    if not fields.get("client_id") or not fields.get("client_secret"):
        return _oauth_error("BAD_CLIENT_ID", "missing or unknown client id / client secret")
    if grant == "refresh_token":
        refresh = fields.get("refresh_token", "")
        if not refresh or refresh in mock.revoked_refresh_tokens:
            return _oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
    elif grant == "authorization_code":
        if not fields.get("code") or not fields.get("redirect_uri"):
            return _oauth_error("BAD_AUTH_CODE", "missing or unknown auth code")
        refresh = (
            f"na1-{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}"
        )
    else:
        return _oauth_error("BAD_GRANT_TYPE", f"unsupported grant_type: {grant!r}")
    mock.token_counter += 1
    access = f"CJ{mock.token_counter:06d}{secrets.token_urlsafe(24)}"
    expires_ms = mock.clock.now_ms() + ACCESS_TOKEN_TTL_S * 1000
    mock.tokens[access] = OAuthToken(access, refresh, expires_ms)
    return json_response(
        {
            "token_type": "bearer",
            "refresh_token": refresh,
            "access_token": access,
            "expires_in": ACCESS_TOKEN_TTL_S,
            "token_use": "access_token",
            "hub_id": PORTAL_ID,
            "scopes": SCOPES,
        }
    )


async def access_token_info(request: web.Request) -> web.Response:
    mock = mock_of(request)
    issued = mock.tokens.get(request.match_info["token"])
    if issued is None or mock.clock.now_ms() >= issued.expires_ms:
        return json_response(
            {"status": "error", "message": "token not found or expired", "correlationId": correlation_id(),
             "category": "OBJECT_NOT_FOUND"},
            status=404,
        )  # fmt: skip
    return json_response(
        {
            "token": issued.access_token,
            "hub_id": PORTAL_ID,
            "scopes": SCOPES,
            "token_type": "access",
            "expires_in": (issued.expires_ms - mock.clock.now_ms()) // 1000,
        }
    )


async def revoke_refresh_token(request: web.Request) -> web.Response:
    """The app's uninstall: the refresh token stops working (HubSpot answers 204)."""
    mock = mock_of(request)
    mock.revoked_refresh_tokens.add(request.match_info["token"])
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/oauth/v1/token", token)
    app.router.add_get("/oauth/v1/access-tokens/{token}", access_token_info)
    app.router.add_delete("/oauth/v1/refresh-tokens/{token}", revoke_refresh_token)


UNAUTHENTICATED_PREFIX = "/oauth/"
"""Paths served without a bearer token (the token endpoints themselves)."""
