"""Org customisations the control plane adds: validation rules, duplicate rules, formula fields.

Validation rules are kept to the simple conditions a test needs ("field is blank", "equals",
"matches a regex"); like a real rule's formula, the condition describes the *error*: when it holds,
the save fails with FIELD_CUSTOM_VALIDATION_EXCEPTION. Formulas support concatenation (``&``) and
addition (``+``) of fields and constants, e.g. ``FirstName & " " & LastName``.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from mockcrm.salesforce.errors import RecordError, SalesforceError


class ValidationRule(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    sobject: str
    field: str
    condition: Literal["blank", "not_blank", "equals", "not_equals", "matches"]
    value: str | None = None
    """The value for ``equals``/``not_equals``, the regular expression for ``matches``."""
    message: str = "Validation failed"
    error_field: str | None = None
    """Where the error shows (``fields`` in the error); None = a top-of-page error (``fields: []``)."""
    name: str = "Mock_Validation_Rule"


class DuplicateRule(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    sobject: str
    fields: list[str]
    """A record is a duplicate when all of these match another live record (trimmed, case-insensitive)."""
    name: str = ""
    message: str = "You're creating a duplicate record. We recommend you use an existing record instead."


class FormulaField(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    sobject: str
    name: str
    type: Literal["string", "double", "currency", "percent", "int"] = "string"
    expression: str


class RulesChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST /__mock/rules``; every part optional."""

    validation_rules: list[ValidationRule] = msgspec.field(default_factory=list)
    duplicate_rules: list[DuplicateRule] = msgspec.field(default_factory=list)
    formula_fields: list[FormulaField] = msgspec.field(default_factory=list)
    state_country_picklists: bool | None = None
    clear: bool = False
    """Drop every rule and formula field added so far (before adding the ones in this body)."""


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class CompiledRule:
    def __init__(self, rule: ValidationRule, field: str, error_field: str | None) -> None:
        self.rule = rule
        self.field = field
        self.error_field = error_field
        self.regex = re.compile(rule.value or "") if rule.condition == "matches" else None

    def violated(self, record: dict[str, object]) -> bool:
        value = record.get(self.field)
        cond = self.rule.condition
        if cond == "blank":
            return _blank(value)
        if cond == "not_blank":
            return not _blank(value)
        text = "" if value is None else str(value)
        if cond == "equals":
            return text == (self.rule.value or "")
        if cond == "not_equals":
            return text != (self.rule.value or "")
        assert self.regex is not None
        return self.regex.fullmatch(text) is not None

    def error(self) -> RecordError:
        return RecordError(
            "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            self.rule.message,
            [self.error_field] if self.error_field else [],
        )


def compile_rule(rule: ValidationRule, canonical: dict[str, str]) -> CompiledRule:
    """``canonical`` maps lower-case field names of the rule's object to their API names."""
    field = canonical.get(rule.field.lower())
    if field is None:
        raise ValueError(f"unknown field {rule.field} on {rule.sobject}")
    error_field = None
    if rule.error_field:
        error_field = canonical.get(rule.error_field.lower())
        if error_field is None:
            raise ValueError(f"unknown error field {rule.error_field} on {rule.sobject}")
    if rule.condition == "matches":
        try:
            re.compile(rule.value or "")
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
    return CompiledRule(rule, field, error_field)


def duplicate_key(record: dict[str, object], fields: list[str]) -> tuple[str, ...] | None:
    """Normalised matching values, or None when any is blank (blank never matches)."""
    key = []
    for f in fields:
        v = record.get(f)
        if _blank(v):
            return None
        key.append(str(v).strip().lower())
    return tuple(key)


# --- formulas -------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<num>\d+(?:\.\d+)?)'
    r"|(?P<field>[A-Za-z][A-Za-z0-9_]*)|(?P<op>[&+]))"
)


class Formula:
    """A parsed formula: operands (field names or constants) joined by ``&`` or ``+``."""

    def __init__(self, expression: str, canonical: dict[str, str]) -> None:
        self.operands: list[tuple[str, object]] = []  # ("field", name) | ("const", value)
        self.ops: list[str] = []
        pos = 0
        expect_operand = True
        text = expression.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise ValueError(f"cannot parse formula at {text[pos:]!r}")
            pos = m.end()
            if expect_operand:
                if m.group("str") is not None:
                    raw = m.group("str")[1:-1]
                    self.operands.append(("const", re.sub(r"\\(.)", r"\1", raw)))
                elif m.group("num") is not None:
                    self.operands.append(("const", float(m.group("num"))))
                elif m.group("field") is not None:
                    name = canonical.get(m.group("field").lower())
                    if name is None:
                        raise ValueError(f"unknown field {m.group('field')} in formula")
                    self.operands.append(("field", name))
                else:
                    raise ValueError("formula operator where an operand was expected")
            else:
                if m.group("op") is None:
                    raise ValueError("formula operand where an operator was expected")
                self.ops.append(m.group("op"))
            expect_operand = not expect_operand
        if expect_operand:
            raise ValueError("formula is empty or ends with an operator")

    def fields(self) -> list[str]:
        return [str(v) for kind, v in self.operands if kind == "field"]

    def evaluate(self, record: dict[str, object], result_type: str) -> object:
        values = [record.get(str(v)) if kind == "field" else v for kind, v in self.operands]
        if result_type == "string":
            return "".join("" if v is None else _text(v) for v in values) or None
        total = 0.0
        for v in values:
            if v is None:
                return None  # a blank number makes the formula blank ("treat blanks as blanks")
            try:
                total += float(v)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return None
        return int(total) if result_type == "int" else total


def _text(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def bad_rule(message: str) -> SalesforceError:
    return SalesforceError.one(400, "INVALID_INPUT", message)
