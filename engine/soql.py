"""SOQL literals, escaped: values are never spliced into a query as raw text.

Field and object names are not values: they come from the mapping, checked against describe at
start, and are additionally required to look like identifiers here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_ESCAPE_RE = re.compile("[\\\\'\"\n\r\t\b\f]")
_LIKE_RE = re.compile("[%_]")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")


def quote(value: str) -> str:
    """A SOQL string literal for ``value`` (Salesforce's quoted-string escape sequences)."""
    return "'" + _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], value) + "'"


def quote_like(value: str) -> str:
    """A LIKE pattern matching ``value`` literally (``%`` and ``_`` escaped as well)."""
    escaped = _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], value)
    return "'" + _LIKE_RE.sub(lambda m: "\\" + m.group(0), escaped) + "'"


def quote_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(quote(v) for v in values) + ")"


def datetime_literal(ms: int) -> str:
    """An unquoted SOQL datetime literal in UTC, with milliseconds."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def identifier(name: str) -> str:
    """A field or object name, refused unless it is one (names come from config, not records)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a Salesforce field or object name: {name!r}")
    return name
