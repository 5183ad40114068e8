"""SOQL tokenizer and the SOQL error type.

Hand-written around a few anchored, quantifier-light regexes so that any input tokenizes in linear
time (the mock must answer garbage with MALFORMED_QUERY, never hang).
"""

from __future__ import annotations

import re

import msgspec

# Salesforce rejects statements above this length; it also bounds the work a single query can cause.
MAX_QUERY_LENGTH = 100_000


class SoqlError(Exception):
    """A query Salesforce would reject; ``error_code``/``message`` go straight into the 400 body."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code = error_code
        self.message = message


def positioned(text: str, pos: int, detail: str) -> str:
    """Salesforce's parse-error text: the offending line, a caret, ``ERROR at Row:r:Column:c``, detail."""
    pos = max(0, min(pos, len(text)))
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    if line_end < 0:
        line_end = len(text)
    row = text.count("\n", 0, pos) + 1
    column = pos - line_start + 1
    line = text[line_start:line_end]
    return f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{detail}"


def malformed(text: str, pos: int, detail: str) -> SoqlError:
    return SoqlError("MALFORMED_QUERY", positioned(text, pos, detail))


# Token kinds.
IDENT = "ident"
STRING = "string"
NUMBER = "number"
DATETIME = "datetime"
DATE = "date"
PUNCT = "punct"
EOF = "eof"


class Token(msgspec.Struct, frozen=True):
    kind: str
    text: str  # as written (for error messages)
    pos: int  # offset into the query text
    # Decoded value: str for strings/idents/punct, the raw text for numbers/dates.
    value: str = ""
    # For strings only: offsets (into ``value``) of unescaped ``%`` and ``_`` (LIKE wildcards).
    wildcards: tuple[int, ...] = ()

    def upper(self) -> str:
        return self.value.upper() if self.kind == IDENT else ""


_WS = re.compile(r"[ \t\r\n\f]+")
# Datetimes: 2024-01-05T10:00:00Z, …+01:00, …-0800, optional fraction. The zone is mandatory.
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
# A datetime-looking prefix that is not a valid datetime literal (e.g. missing zone): reject it
# as one token rather than as a date followed by junk.
_DATETIME_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}T[0-9:.]*", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_PUNCT = ("!=", "<>", "<=", ">=", "=", "<", ">", "(", ")", ",", ":")

_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
_HEX = frozenset("0123456789abcdefABCDEF")


def _string(text: str, start: int) -> tuple[Token, int]:
    """Decode the single-quoted literal starting at ``start``; returns the token and the next offset."""
    out: list[str] = []
    wildcards: list[int] = []
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            token = Token(STRING, text[start : i + 1], start, "".join(out), tuple(wildcards))
            return token, i + 1
        if ch == "\\":
            if i + 1 >= n:
                break
            esc = text[i + 1]
            if esc in _ESCAPES:
                out.append(_ESCAPES[esc])
                i += 2
            elif esc in "%_":
                # Escaped LIKE wildcards stand for themselves (not recorded as wildcards).
                out.append(esc)
                i += 2
            elif esc == "u" and i + 6 <= n and all(c in _HEX for c in text[i + 2 : i + 6]):
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
            else:
                raise malformed(
                    text,
                    i,
                    f"Invalid string literal {text[start : i + 2]}... Illegal escape sequence "
                    f"'{text[i : i + 2]}'. Valid escape sequences are \\b \\t \\n \\f \\r "
                    "\\\" \\' \\\\ \\uXXXX \\_ \\%",
                )
            continue
        if ch in "%_":
            wildcards.append(len(out))
        out.append(ch)
        i += 1
    raise malformed(text, start, f"unterminated string literal: {text[start : start + 20]}")


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an EOF token. Raises SoqlError on anything unlexable."""
    if len(text) > MAX_QUERY_LENGTH:
        raise SoqlError(
            "MALFORMED_QUERY", f"SOQL statements cannot be longer than {MAX_QUERY_LENGTH} characters."
        )
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        m = _WS.match(text, i)
        if m:
            i = m.end()
            continue
        ch = text[i]
        if ch == "'":
            token, i = _string(text, i)
            tokens.append(token)
            continue
        if ch.isascii() and (ch.isdigit() or ch in "+-."):
            m = _DATETIME.match(text, i)
            if m:
                tokens.append(Token(DATETIME, m.group(), i, m.group()))
                i = m.end()
                continue
            m = _DATETIME_PREFIX.match(text, i)
            if m:
                raise malformed(text, i, f"unexpected token: '{m.group()}'")
            m = _DATE.match(text, i)
            if m:
                tokens.append(Token(DATE, m.group(), i, m.group()))
                i = m.end()
                continue
            m = _NUMBER.match(text, i)
            if m:
                tokens.append(Token(NUMBER, m.group(), i, m.group()))
                i = m.end()
                continue
        if ch.isascii() and (ch.isalpha() or ch == "_"):
            m = _IDENT.match(text, i)
            if m:
                tokens.append(Token(IDENT, m.group(), i, m.group()))
                i = m.end()
                continue
        for p in _PUNCT:
            if text.startswith(p, i):
                tokens.append(Token(PUNCT, p, i, p))
                i += len(p)
                break
        else:
            raise malformed(text, i, f"unexpected token: '{ch}'")
    tokens.append(Token(EOF, "<EOF>", n, ""))
    return tokens
