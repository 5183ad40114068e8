"""``POST /services/oauth2/token``: password, client_credentials and refresh_token grants (B2), and
``GET /services/oauth2/userinfo``: who the access token acts as (OpenID Connect UserInfo).

Issued access tokens authenticate REST calls from then on. Answers are form-decoded requests with
Salesforce's own error shape (``{"error", "error_description"}``, 400).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import msgspec
from aiohttp import web

from mockcrm.salesforce.errors import error_response
from mockcrm.salesforce.service import SalesforceMock

ORG_ID = "00D4S000000CRMSAAA"
_SIGNING_KEY = b"crmsync-mock-signing-key"


def _oauth_error(error: str, description: str, status: int = 400) -> web.Response:
    return error_response(status, {"error": error, "error_description": description})


def _instance_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def token(mock: SalesforceMock, request: web.Request) -> web.Response:
    try:
        form = await request.post()
    except (ValueError, UnicodeDecodeError):
        return _oauth_error("invalid_request", "malformed form body")
    grant = str(form.get("grant_type") or "")
    refresh: str | None = None
    if grant == "password":
        if not form.get("username") or not form.get("password") or not form.get("client_id"):
            return _oauth_error("invalid_grant", "authentication failure")
        refresh = "5Aep" + secrets.token_urlsafe(48)
    elif grant == "client_credentials":
        if not form.get("client_id") or not form.get("client_secret"):
            return _oauth_error("invalid_client", "invalid client credentials")
    elif grant == "refresh_token":
        if str(form.get("refresh_token") or "") not in mock.refresh_tokens:
            return _oauth_error("invalid_grant", "expired access/refresh token")
    elif not grant:
        return _oauth_error("unsupported_grant_type", "grant type not supported")
    else:
        return _oauth_error("unsupported_grant_type", "grant type not supported")
    access = f"{ORG_ID[:15]}!" + secrets.token_urlsafe(72)
    mock.tokens.add(access)
    issued_at = str(mock.clock.now_ms())
    identity = f"{_instance_url(request)}/id/{ORG_ID}/{mock.org.user_id}"
    signature = base64.b64encode(
        hmac.new(_SIGNING_KEY, (identity + issued_at).encode(), hashlib.sha256).digest()
    ).decode()
    body: dict[str, str] = {
        "access_token": access,
        "instance_url": _instance_url(request),
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": signature,
        "scope": "api refresh_token",
    }
    if refresh is not None:
        mock.refresh_tokens.add(refresh)
        body["refresh_token"] = refresh
    return web.Response(body=msgspec.json.encode(body), content_type="application/json", charset="UTF-8")


async def userinfo(mock: SalesforceMock, request: web.Request) -> web.Response:
    """The API user the bearer token acts as: the owner Salesforce gives a record created without one.
    Real Salesforce answers a bad token here with 403 and a bare ``Bad_OAuth_Token`` (not the REST
    API's 401 array). Charged to the daily allotment like a REST call: nothing we know says it is
    free, and a client that counts it can never overrun the allotment by it."""
    header = request.headers.get("Authorization", "")
    scheme, _, bearer = header.partition(" ")
    if scheme.lower() not in ("bearer", "oauth") or bearer.strip() not in mock.tokens:
        return web.Response(status=403, text="Bad_OAuth_Token")
    if mock.daily.exhausted():
        mock.stats.refuse("daily")
        return error_response(
            403, [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        )
    mock.daily.record()
    user_id = mock.org.user_id
    user = mock.org.tables["User"].records.get(user_id[:15], {})
    base = _instance_url(request)
    body = {
        "sub": f"{base}/id/{ORG_ID}/{user_id}",
        "user_id": user_id,
        "organization_id": ORG_ID,
        "preferred_username": user.get("Username"),
        "nickname": user.get("Alias"),
        "name": user.get("Name"),
        "email": user.get("Email"),
        "email_verified": True,
        "given_name": user.get("FirstName"),
        "family_name": user.get("LastName"),
        "zoneinfo": "GMT",
        "profile": f"{base}/{user_id}",
        "is_salesforce_integration_user": False,
        "urls": {
            "rest": f"{base}/services/data/v{{version}}/",
            "sobjects": f"{base}/services/data/v{{version}}/sobjects/",
            "query": f"{base}/services/data/v{{version}}/query/",
        },
        "active": bool(user.get("IsActive", True)),
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "updated_at": user.get("LastModifiedDate"),
    }
    return web.Response(body=msgspec.json.encode(body), content_type="application/json", charset="UTF-8")
