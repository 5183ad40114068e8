"""Salesforce record ids: 15 case-sensitive base-62 characters plus a 3-character checksum suffix.

The first three characters are the object's key prefix (``003`` Contact, ``00Q`` Lead, ...). The API
returns the 18-character form and accepts both, so lookups key on the first 15 characters.
"""

from __future__ import annotations

import re

# Digits before upper before lower case: the same order as ASCII, so ids made from an increasing
# counter also sort in creation order as strings (SOQL ``ORDER BY Id`` relies on it).
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_RE = re.compile(r"[0-9A-Za-z]{15}(?:[A-Z0-5]{3})?")
# The pod ("4S") and reserved character ("0") of a real production id.
_POD = "4S0"


# Upper-case letters to "1", every other character to "0": a chunk's flags become a binary number.
_FLAG_BITS = str.maketrans(
    {**dict.fromkeys(_BASE62, "0"), **dict.fromkeys("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "1")}
)


def checksum(id15: str) -> str:
    """The 3-character suffix that makes ``id15`` case-insensitively unique (reference B11).

    For each 5-character chunk, bit j is set when character j is upper case; the 5-bit number
    indexes ``A-Z0-5``. Computed with ``str.translate`` because every id from a client is checked.
    """
    bits = id15.translate(_FLAG_BITS)
    return _SUFFIX[int(bits[4::-1], 2)] + _SUFFIX[int(bits[9:4:-1], 2)] + _SUFFIX[int(bits[14:9:-1], 2)]


def to18(id15: str) -> str:
    return id15 + checksum(id15)


def key15(value: str) -> str | None:
    """The 15-character key of a well-formed 15- or 18-character id, else None (MALFORMED_ID).

    An 18-character id must carry the right checksum; case is only significant in the first 15.
    """
    if len(value) not in (15, 18) or _ID_RE.fullmatch(value) is None:
        return None
    id15 = value[:15]
    if len(value) == 18 and checksum(id15) != value[15:].upper():
        return None
    return id15


def _base62(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, 62)
        chars.append(_BASE62[r])
    return "".join(reversed(chars))


class IdFactory:
    """Makes 18-character ids per key prefix from one counter, so ids never repeat within an org.

    The 9 record characters are decimal digits (valid base-62, up to a billion records): they sort
    in creation order and carry no upper-case letters, so only the first 5-character chunk affects
    the checksum and its suffix letter is computed once per prefix. Writes make an id per record, so
    this matters for throughput.
    """

    def __init__(self, start: int = 1) -> None:
        self._next = start
        self._heads: dict[str, tuple[str, str]] = {}

    def new_id(self, prefix: str) -> str:
        n = self._next
        self._next += 1
        head = self._heads.get(prefix)
        if head is None:
            body = prefix + _POD
            head = self._heads[prefix] = (body, checksum(body + "0" * 9)[0])
        return f"{head[0]}{n:09d}{head[1]}AA"


def custom_prefix(index: int) -> str:
    """Key prefixes for custom objects: ``a00``, ``a01``, ... as a real org assigns them."""
    return "a" + _base62(index, 2)
