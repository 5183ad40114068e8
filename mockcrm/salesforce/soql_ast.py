"""The SOQL syntax tree produced by soql_parser (names unresolved; positions kept for error messages)."""

from __future__ import annotations

import msgspec


class Literal(msgspec.Struct, frozen=True):
    # kind: "string", "number", "datetime", "date", "boolean", "null", "dateliteral"
    kind: str
    value: str  # decoded string / raw text of numbers and dates / "TRUE"/"FALSE" / date-literal name
    pos: int
    n: int = 0  # the n of LAST_N_DAYS:n
    wildcards: tuple[int, ...] = ()  # unescaped LIKE wildcards in a string literal


class FieldRef(msgspec.Struct, frozen=True):
    name: str  # as written, any ``Object.``/alias prefix removed
    pos: int


class Compare(msgspec.Struct, frozen=True):
    field: FieldRef
    op: str  # = != < <= > >= ("<>" is normalised to "!=")
    value: Literal


class InList(msgspec.Struct, frozen=True):
    field: FieldRef
    values: tuple[Literal, ...]
    negated: bool


class Like(msgspec.Struct, frozen=True):
    field: FieldRef
    pattern: Literal


class Includes(msgspec.Struct, frozen=True):
    """Multi-select picklists: ``INCLUDES ('a;b', 'c')`` = has both a and b, or has c; EXCLUDES negates."""

    field: FieldRef
    values: tuple[Literal, ...]
    negated: bool


class Not(msgspec.Struct, frozen=True):
    inner: Condition


class BoolOp(msgspec.Struct, frozen=True):
    op: str  # "AND" or "OR"
    items: tuple[Condition, ...]


Condition = Compare | InList | Like | Includes | Not | BoolOp


class CountAll(msgspec.Struct, frozen=True):
    """``COUNT()``: only the total, no rows."""

    pos: int


class CountField(msgspec.Struct, frozen=True):
    """``COUNT(field) [alias]``: one aggregate row."""

    field: FieldRef
    alias: str | None


class FieldsMacro(msgspec.Struct, frozen=True):
    """``FIELDS(ALL|STANDARD|CUSTOM)``: expands to the sObject's fields at execute time."""

    kind: str  # "ALL", "STANDARD" or "CUSTOM"
    pos: int


SelectItem = FieldRef | CountAll | CountField | FieldsMacro


class OrderItem(msgspec.Struct, frozen=True):
    field: FieldRef
    descending: bool
    nulls_first: bool


class SoqlQuery(msgspec.Struct, frozen=True):
    text: str
    select: tuple[SelectItem, ...]
    sobject: str  # as written
    sobject_pos: int
    where: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int = 0

    @property
    def is_count(self) -> bool:
        """``SELECT COUNT() …``: the response carries totalSize and no records."""
        return any(isinstance(item, CountAll) for item in self.select)

    @property
    def is_aggregate(self) -> bool:
        """``SELECT COUNT(field) …``: rows are AggregateResult records."""
        return any(isinstance(item, CountField) for item in self.select)
