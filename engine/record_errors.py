"""Turn a CRM's per-record error codes into sync error types with a message and how to fix it
(SPEC §9: grouped by type in ``crmsync health`` and listed by ``crmsync errors``)."""

from __future__ import annotations

from collections.abc import Sequence

from engine.errors import RecordError

_SALESFORCE_TYPES = {
    "REQUIRED_FIELD_MISSING": "validation",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": "validation",
    "STRING_TOO_LONG": "validation",
    "INVALID_EMAIL_ADDRESS": "validation",
    "FIELD_INTEGRITY_EXCEPTION": "validation",
    "CANNOT_UPDATE_CONVERTED_LEAD": "validation",
    "DUPLICATES_DETECTED": "duplicate",
    "DUPLICATE_VALUE": "duplicate",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "invalid_value",
    "INVALID_TYPE_ON_FIELD_IN_RECORD": "invalid_value",
    "JSON_PARSER_ERROR": "invalid_value",
    "NUMBER_OUTSIDE_VALID_RANGE": "invalid_value",
    "INVALID_FIELD_FOR_INSERT_UPDATE": "permission",
    "INSUFFICIENT_ACCESS_OR_READONLY": "permission",
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": "permission",
    "ENTITY_IS_DELETED": "deleted",
    "NOT_FOUND": "deleted",
}

_HUBSPOT_TYPES = {"VALIDATION_ERROR": "invalid_value", "CONFLICT": "duplicate", "OBJECT_NOT_FOUND": "deleted"}

FIXES = {
    "validation": "Correct the record so it passes the Salesforce validation named in the message, "
    "or relax that rule; it syncs again on its next change or retry.",
    "duplicate": "Merge or remove the duplicate the message names, or adjust the duplicate rule.",
    "invalid_value": "Change the value to one the other system accepts (check picklist options and "
    "field types in the mapping).",
    "permission": "Give the integration user access to the field or record, or stop mapping that field.",
    "deleted": "The record was deleted on the other side; restore it or let crmsync re-create it.",
    "other": "Check the message; the record is retried automatically.",
}


def salesforce_error(errors: Sequence[tuple[str, str, Sequence[str]]]) -> RecordError:
    """From a failed SaveResult's ``(statusCode, message, fields)`` list."""
    if not errors:
        return RecordError("other", "Salesforce refused the record without saying why", FIXES["other"])
    code, message, fields = errors[0]
    kind = _SALESFORCE_TYPES.get(code, "other")
    where = f" (fields: {', '.join(fields)})" if fields else ""
    return RecordError(kind, f"{code}: {message}{where}", FIXES[kind])


def hubspot_error(category: str, message: str) -> RecordError:
    kind = _HUBSPOT_TYPES.get(category, "other")
    return RecordError(kind, f"{category or 'ERROR'}: {message}", FIXES[kind])
