"""Salesforce's error shapes.

Top-level REST errors are a JSON array of ``{"message", "errorCode", "fields"?}``; per-record results
inside sObject Collections use ``statusCode`` instead of ``errorCode`` (reference B4, B10).
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

JSON_CONTENT_TYPE = "application/json"


class RecordError(msgspec.Struct, omit_defaults=True):
    """One error on one record: becomes ``errorCode`` at top level and ``statusCode`` in collections."""

    code: str
    message: str
    fields: list[str] = msgspec.field(default_factory=list)
    duplicate_result: dict[str, Any] | None = None

    def as_rest(self, with_fields: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if with_fields:
            body["fields"] = self.fields
        if self.duplicate_result is not None:
            body["duplicateResult"] = self.duplicate_result
        return body

    def as_collection(self) -> dict[str, Any]:
        body: dict[str, Any] = {"statusCode": self.code, "message": self.message, "fields": self.fields}
        if self.duplicate_result is not None:
            body["duplicateResult"] = self.duplicate_result
        return body


class SalesforceError(Exception):
    """Raised anywhere in a request; the dispatcher turns it into the real error array."""

    def __init__(self, status: int, errors: list[RecordError]) -> None:
        super().__init__(errors[0].message if errors else str(status))
        self.status = status
        self.errors = errors

    @classmethod
    def one(cls, status: int, code: str, message: str, fields: list[str] | None = None) -> SalesforceError:
        return cls(status, [RecordError(code, message, fields if fields is not None else [])])

    def body(self) -> list[dict[str, Any]]:
        # Errors that are not about a field omit ``fields`` as the real ones do.
        return [e.as_rest(with_fields=bool(e.fields) or e.code in _FIELDS_ALWAYS) for e in self.errors]


# Codes whose real bodies carry ``fields`` even when it is empty (reference B3/B10 recordings).
_FIELDS_ALWAYS = frozenset({"ENTITY_IS_DELETED", "DUPLICATE_VALUE", "FIELD_CUSTOM_VALIDATION_EXCEPTION"})


def not_found() -> SalesforceError:
    return SalesforceError.one(404, "NOT_FOUND", "The requested resource does not exist")


def entity_deleted() -> SalesforceError:
    return SalesforceError.one(404, "ENTITY_IS_DELETED", "entity is deleted", [])


def malformed_id(sobject: str, value: str) -> SalesforceError:
    return SalesforceError.one(
        400, "MALFORMED_ID", f"{sobject} ID: id value of incorrect type: {value}", ["Id"]
    )


def json_parser_error(detail: str) -> SalesforceError:
    return SalesforceError.one(400, "JSON_PARSER_ERROR", detail)


def error_response(status: int, body: object, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(body),
        status=status,
        content_type=JSON_CONTENT_TYPE,
        charset="UTF-8",
        headers=headers,
    )


def fault_response(status: int) -> web.Response:
    """What the fault injector answers with: Salesforce's own 5xx shape."""
    code = "SERVER_UNAVAILABLE" if status == 503 else "UNKNOWN_EXCEPTION"
    message = (
        "Server temporarily unavailable"
        if status == 503
        else "An unexpected error occurred. Please try again."
    )
    return error_response(status, [{"message": message, "errorCode": code}])


def storm_response() -> web.Response:
    """Salesforce has no 429: being rate limited looks like the daily limit (reference B9)."""
    return error_response(
        403, [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    )
