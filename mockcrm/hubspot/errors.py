"""HubSpot's error bodies: ``status``, ``message``, ``correlationId``, ``category`` (+ details).

Handlers raise :class:`HubSpotError`; the app's middleware renders it, so every failure path answers
in the one shape the official client and crmsync's connector parse.
"""

from __future__ import annotations

import uuid

import msgspec
from aiohttp import web

JSON_CONTENT_TYPE = "application/json;charset=utf-8"
CORRELATION_HEADER = "X-HubSpot-Correlation-Id"
PORTAL_ID = 62515

_encoder = msgspec.json.Encoder()


def correlation_id() -> str:
    return str(uuid.uuid4())


def json_response(
    body: object, status: int = 200, headers: dict[str, str] | None = None, cid: str | None = None
) -> web.Response:
    out = {"Content-Type": JSON_CONTENT_TYPE, CORRELATION_HEADER: cid or correlation_id()}
    if headers:
        out.update(headers)
    return web.Response(body=_encoder.encode(body), status=status, headers=out)


class HubSpotError(Exception):
    """An API failure with the fields HubSpot puts in its error body."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        errors: list[dict[str, object]] | None = None,
        context: dict[str, list[str]] | None = None,
        sub_category: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.errors = errors
        self.context = context
        self.sub_category = sub_category

    def body(self, cid: str) -> dict[str, object]:
        body: dict[str, object] = {"status": "error", "message": self.message, "correlationId": cid}
        if self.errors is not None:
            body["errors"] = self.errors
        if self.context is not None:
            body["context"] = self.context
        if self.sub_category is not None:
            body["subCategory"] = self.sub_category
        body["category"] = self.category
        return body

    def batch_item(self) -> dict[str, object]:
        """The ``StandardError`` entry used inside a 207 batch response."""
        return {
            "status": "error",
            "category": self.category,
            "message": self.message,
            "context": self.context or {},
            "errors": self.errors or [],
            "links": {},
        }

    def response(self, headers: dict[str, str] | None = None) -> web.Response:
        cid = correlation_id()
        return json_response(self.body(cid), status=self.status, headers=headers, cid=cid)


def validation(message: str, **kw: object) -> HubSpotError:
    return HubSpotError(400, "VALIDATION_ERROR", message, **kw)  # type: ignore[arg-type]


def bad_json(exc: Exception) -> HubSpotError:
    return validation(f"Invalid input JSON: {exc}")


def not_found(message: str = "resource not found") -> HubSpotError:
    return HubSpotError(404, "OBJECT_NOT_FOUND", message)


class PropertyProblem(msgspec.Struct, frozen=True):
    """One invalid property value, as HubSpot lists them inside its validation message."""

    name: str
    error: str
    message: str


def property_errors(problems: list[PropertyProblem]) -> HubSpotError:
    # The real message embeds a JSON list of per-property results; ``errors`` repeats them in the
    # structured form with a ``code``.
    listed = [
        {
            "isValid": False,
            "message": p.message,
            "error": p.error,
            "name": p.name,
            "localizedErrorMessage": p.message,
            "portalId": PORTAL_ID,
        }
        for p in problems
    ]
    return validation(
        "Property values were not valid: " + _encoder.encode(listed).decode(),
        errors=[
            {"message": p.message, "code": p.error, "context": {"propertyName": [p.name]}} for p in problems
        ],
    )


AUTH_MISSING = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


def unauthorized(expired_s: int | None = None) -> HubSpotError:
    if expired_s is not None:
        return HubSpotError(
            401,
            "EXPIRED_AUTHENTICATION",
            f"The OAuth token used to make this call expired {expired_s} second(s) ago.",
        )
    return HubSpotError(401, "INVALID_AUTHENTICATION", AUTH_MISSING)


def burst_limit_body(policy: str) -> dict[str, object]:
    """The real 429 body for the ten-secondly and daily limits (no ``category``, as captured)."""
    if policy == "DAILY":
        message, group = "You have reached your daily limit.", "daily"
    else:
        message, group = "You have reached your ten_secondly_rolling limit.", "ten-secondly"
    return {
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id(),
        "policyName": policy,
        "groupName": f"publicapi:private_app-api-calls-{group}:1512050:{PORTAL_ID}",
    }


def search_limit_body() -> dict[str, object]:
    return {
        "status": "error",
        "message": "You have reached your secondly limit.",
        "correlationId": correlation_id(),
        "category": "RATE_LIMITS",
    }


def server_error(status: int) -> web.Response:
    """What an injected 5xx looks like: HubSpot's shape with a transient category."""
    return HubSpotError(
        status, "INTERNAL_ERROR" if status == 500 else "SERVICE_UNAVAILABLE", "internal error"
    ).response()
