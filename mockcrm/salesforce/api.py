"""The request model every REST handler works on, and the router that picks the handler.

Handlers are plain functions from a ``Call`` to a ``Reply`` rather than aiohttp handlers, so that
``/composite`` can run its subrequests through exactly the same code without another HTTP round
trip, and so that a whole API call is one synchronous step against the in-memory org.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote

import msgspec

from mockcrm.salesforce.errors import SalesforceError, json_parser_error


@dataclass
class Call:
    method: str
    version: str
    """API version from the URL, e.g. ``59.0``."""
    tail: str
    """The path after ``/services/data/vXX.X/``, raw (percent-encoded), without trailing slash."""
    query: Mapping[str, str]
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    """Path parameters of the matched route, percent-decoded."""

    @property
    def base(self) -> str:
        return f"/services/data/v{self.version}"


@dataclass
class Reply:
    status: int
    body: Any = None
    """JSON-ready value, or None for an empty 204 body."""
    headers: dict[str, str] | None = None


Handler = Callable[[Call], Reply]


class Route:
    def __init__(self, pattern: str, handlers: dict[str, Handler]) -> None:
        self.pattern = pattern
        """Shown in stats, e.g. ``/sobjects/{sobject}/{id}``."""
        # ``{name}`` matches one path segment, ``{name+}`` the rest of the path (external id values).
        regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", pattern.strip("/"))
        self.regex = re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex) + r"\Z")
        self.pattern = pattern.replace("+}", "}")
        self.handlers = handlers


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, pattern: str, **handlers: Handler) -> None:
        """Register handlers by HTTP method name (``GET=...``); the first matching pattern wins."""
        self.routes.append(Route(pattern, {m.upper(): h for m, h in handlers.items()}))

    def dispatch(self, call: Call) -> tuple[str, Reply]:
        """(route pattern for stats, reply); errors come back as the real error array."""
        for route in self.routes:
            m = route.regex.match(call.tail)
            if m is None:
                continue
            handler = route.handlers.get(call.method)
            if handler is None:
                allowed = ",".join(sorted(route.handlers))
                return route.pattern, error_reply(
                    SalesforceError.one(
                        405,
                        "METHOD_NOT_ALLOWED",
                        f"HTTP Method '{call.method}' not allowed. Allowed are {allowed}",
                    )
                )
            call.params = {k: unquote(v) for k, v in m.groupdict().items()}
            try:
                return route.pattern, handler(call)
            except SalesforceError as exc:
                return route.pattern, error_reply(exc)
        return "(unknown)", error_reply(
            SalesforceError.one(404, "NOT_FOUND", "The requested resource does not exist")
        )


def error_reply(exc: SalesforceError) -> Reply:
    return Reply(exc.status, exc.body())


_OBJECT = msgspec.json.Decoder(dict[str, Any])


def decode_object(body: bytes) -> dict[str, Any]:
    """A JSON object body, or 400 JSON_PARSER_ERROR (also for an empty body or a non-object)."""
    if not body.strip():
        raise json_parser_error("No content to map due to end-of-input at [line:1, column:0]")
    try:
        return _OBJECT.decode(body)
    except msgspec.ValidationError:
        raise json_parser_error(
            "Cannot deserialize instance of SObject from a value that is not a JSON object "
            "at [line:1, column:1]"
        ) from None
    except msgspec.DecodeError as exc:
        raise json_parser_error(
            f"Unexpected character or malformed JSON: {exc} at [line:1, column:1]"
        ) from None
    except RecursionError:  # msgspec gives up on very deep nesting with RecursionError
        raise json_parser_error("JSON nested too deeply at [line:1, column:1]") from None


T = TypeVar("T")


def decode_as(body: bytes, type_: type[T], what: str) -> T:
    if not body.strip():
        raise json_parser_error("No content to map due to end-of-input at [line:1, column:0]")
    try:
        return msgspec.json.decode(body, type=type_)
    except msgspec.ValidationError as exc:
        raise json_parser_error(f"Cannot deserialize {what}: {exc} at [line:1, column:1]") from None
    except msgspec.DecodeError as exc:
        raise json_parser_error(
            f"Unexpected character or malformed JSON: {exc} at [line:1, column:1]"
        ) from None
    except RecursionError:  # msgspec gives up on very deep nesting with RecursionError
        raise json_parser_error("JSON nested too deeply at [line:1, column:1]") from None
