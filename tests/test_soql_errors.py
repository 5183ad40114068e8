"""Every rejected query raises SoqlError with Salesforce's error code and message style."""

from __future__ import annotations

import pytest

from mockcrm.salesforce.soql import MAX_QUERY_LENGTH, SoqlError, execute, parse_soql
from tests.test_soql_data import FIELDS, RECORDS

ERROR_CASES = [
    # syntax
    ("SELECT Id FORM Contact", "MALFORMED_QUERY", "unexpected token: 'FORM'"),
    ("", "MALFORMED_QUERY", "unexpected token: <EOF>"),
    ("SELECT", "MALFORMED_QUERY", "unexpected token: <EOF>"),
    ("SELECT FROM Contact", "MALFORMED_QUERY", "unexpected token: 'FROM'"),
    ("SELECT Id, FROM Contact", "MALFORMED_QUERY", "unexpected token: 'FROM'"),
    ("SELECT Id FROM", "MALFORMED_QUERY", "unexpected token: <EOF>"),
    ("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY", "unexpected token: <EOF>"),
    ("SELECT Id FROM Contact WHERE LastName", "MALFORMED_QUERY", "unexpected token: <EOF>"),
    ("SELECT Id FROM Contact WHERE LastName = ", "MALFORMED_QUERY", "unexpected token: <EOF>"),
    ("SELECT Id FROM Contact WHERE LastName == 'a'", "MALFORMED_QUERY", "unexpected token: '='"),
    ('SELECT Id FROM Contact WHERE LastName = "a"', "MALFORMED_QUERY", "unexpected token: '\"'"),
    ("SELECT Id FROM Contact WHERE LastName = 'a", "MALFORMED_QUERY", "unterminated"),
    ("SELECT Id FROM Contact WHERE LastName = 'a\\'", "MALFORMED_QUERY", "unterminated"),
    ("SELECT Id FROM Contact WHERE LastName = 'a\\x'", "MALFORMED_QUERY", "Illegal escape sequence '\\x'"),
    ("SELECT Id FROM Contact WHERE LastName = 'a\\u12'", "MALFORMED_QUERY", "Illegal escape sequence '\\u'"),
    ("SELECT Id FROM Contact WHERE (LastName = 'a'", "MALFORMED_QUERY", "unexpected token: <EOF>"),
    ("SELECT Id FROM Contact WHERE LastName = 'a')", "MALFORMED_QUERY", "unexpected token: ')'"),
    (
        "SELECT Id FROM Contact WHERE LastName = 'a' AND Amount = 1 OR Amount = 2",
        "MALFORMED_QUERY",
        "unexpected token: 'OR'",
    ),
    (
        "SELECT Id FROM Contact WHERE LastName = 'a' OR Amount = 1 AND Amount = 2",
        "MALFORMED_QUERY",
        "unexpected token: 'AND'",
    ),
    ("SELECT Id FROM Contact WHERE LastName IN ()", "MALFORMED_QUERY", "unexpected token: ')'"),
    ("SELECT Id FROM Contact WHERE LastName IN 'a'", "MALFORMED_QUERY", "unexpected token: ''a''"),
    ("SELECT Id FROM Contact WHERE LastName NOT LIKE 'a'", "MALFORMED_QUERY", "unexpected token: 'LIKE'"),
    ("SELECT Id FROM Contact WHERE LastName LIKE 5", "MALFORMED_QUERY", "LIKE"),
    (
        "SELECT Id FROM Contact WHERE LastName IN (SELECT Id FROM Account)",
        "MALFORMED_QUERY",
        "unexpected token: 'SELECT'",
    ),
    ("SELECT Id FROM Contact WHERE LastName = :name", "MALFORMED_QUERY", "unexpected token: ':'"),
    (
        "SELECT Id FROM Contact WHERE SystemModstamp > 2024-01-05T10:00:00",
        "MALFORMED_QUERY",
        "unexpected token: '2024-01-05T10:00:00'",
    ),
    (
        "SELECT Id FROM Contact WHERE SystemModstamp > 2024-13-05T10:00:00Z",
        "MALFORMED_QUERY",
        "invalid dateTime",
    ),
    ("SELECT Id FROM Contact WHERE Birthdate > 2024-02-30", "MALFORMED_QUERY", "invalid date"),
    (
        "SELECT Id FROM Contact WHERE SystemModstamp > LAST_N_DAYS",
        "MALFORMED_QUERY",
        "unexpected token: <EOF>",
    ),
    (
        "SELECT Id FROM Contact WHERE SystemModstamp > LAST_N_DAYS:x",
        "MALFORMED_QUERY",
        "unexpected token: 'x'",
    ),
    ("SELECT Id FROM Contact ORDER Id", "MALFORMED_QUERY", "unexpected token: 'Id'"),
    ("SELECT Id FROM Contact ORDER BY Id NULLS", "MALFORMED_QUERY", "unexpected token: <EOF>"),
    ("SELECT Id FROM Contact ORDER BY Id ASC DESC", "MALFORMED_QUERY", "unexpected token: 'DESC'"),
    ("SELECT Id FROM Contact LIMIT", "MALFORMED_QUERY", "unexpected token: <EOF>"),
    ("SELECT Id FROM Contact LIMIT -1", "MALFORMED_QUERY", "unexpected token: '-1'"),
    ("SELECT Id FROM Contact LIMIT 1.5", "MALFORMED_QUERY", "unexpected token: '1.5'"),
    ("SELECT Id FROM Contact LIMIT 5 LIMIT 5", "MALFORMED_QUERY", "unexpected token: 'LIMIT'"),
    ("SELECT Id FROM Contact OFFSET 5 LIMIT 5", "MALFORMED_QUERY", "unexpected token: 'LIMIT'"),
    ("SELECT Id FROM Contact;", "MALFORMED_QUERY", "unexpected token: ';'"),
    ("SELECT Id FROM Contact LIMIT 1\u0663", "MALFORMED_QUERY", "unexpected token: '\u0663'"),
    ("SELECT Id FROM Contact WHERE Birthdate = 2024-01-0\u0665", "MALFORMED_QUERY", "unexpected token"),
    ("SELECT Id FROM Contact WHERE LastName\u00a0= 'a'", "MALFORMED_QUERY", "unexpected token: '\xa0'"),
    ("SELECT Id FROM Contact WHERE Id = '1' GROUP BY Id", "MALFORMED_QUERY", "unexpected token: 'GROUP'"),
    ("SELECT COUNT(), Id FROM Contact", "MALFORMED_QUERY", "COUNT() must be the only element"),
    ("SELECT Id, COUNT() FROM Contact", "MALFORMED_QUERY", "COUNT() must be the only element"),
    ("SELECT Id, COUNT(Id) FROM Contact", "MALFORMED_QUERY", "Field must be grouped or aggregated: Id"),
    ("SELECT Id, id FROM Contact", "MALFORMED_QUERY", "duplicate field selected: Id"),
    ("SELECT Id FROM Contact WHERE " + "(" * 200 + "Id = null" + ")" * 200, "MALFORMED_QUERY", "too deep"),
    ("SELECT Id FROM Contact WHERE " + "NOT " * 200 + "Id = null", "MALFORMED_QUERY", "too deep"),
    ("SELECT Id FROM Contact LIMIT " + "9" * 5000, "NUMBER_OUTSIDE_VALID_RANGE", "invalid number"),
    (
        "SELECT Id FROM Contact OFFSET 2001",
        "NUMBER_OUTSIDE_VALID_RANGE",
        "Maximum SOQL offset allowed is 2000",
    ),
    ("SELECT FIELDS(ALL) FROM Contact", "MALFORMED_QUERY", "must have a LIMIT of at most 200"),
    ("SELECT FIELDS(CUSTOM) FROM Contact LIMIT 201", "MALFORMED_QUERY", "must have a LIMIT of at most 200"),
    ("SELECT FIELDS(SOME) FROM Contact", "MALFORMED_QUERY", "unexpected token: 'SOME'"),
    ("SELECT COUNT(Id), FIELDS(STANDARD) FROM Contact", "MALFORMED_QUERY", "must be grouped or aggregated"),
    ("SELECT Id FROM Contact WITH", "MALFORMED_QUERY", "unexpected token: <EOF>"),
    ("SELECT Id FROM Contact FOR SHARE", "MALFORMED_QUERY", "unexpected token: 'SHARE'"),
    ("SELECT Id FROM Contact USING Everything", "MALFORMED_QUERY", "unexpected token: 'Everything'"),
    (
        "SELECT Id FROM Contact WHERE LastName INCLUDES ('a')",
        "INVALID_QUERY_FILTER_OPERATOR",
        "only valid on multipicklist",
    ),
    ("SELECT Id FROM Contact WHERE LastName INCLUDES 'a'", "MALFORMED_QUERY", "unexpected token"),
    (
        "SELECT Id FROM Contact WHERE Interests__c LIKE 'a%'",
        "INVALID_QUERY_FILTER_OPERATOR",
        "invalid operator",
    ),
    ("SELECT Id FROM Contact WHERE Interests__c INCLUDES (5)", "INVALID_FIELD", "must be of type string"),
    ("SELECT Id FROM Contact WHERE Interests__c = 5", "INVALID_FIELD", "must be of type string"),
    # names
    (
        "SELECT Id, Foo FROM Contact",
        "INVALID_FIELD",
        "No such column 'Foo' on entity 'Contact'. If you are "
        "attempting to use a custom field, be sure to append the '__c' after the custom field name.",
    ),
    ("SELECT Id FROM Contact WHERE Foo__c = 'a'", "INVALID_FIELD", "No such column 'Foo__c'"),
    ("SELECT Id FROM Contact ORDER BY Foo", "INVALID_FIELD", "No such column 'Foo'"),
    ("SELECT COUNT(Foo) FROM Contact", "INVALID_FIELD", "No such column 'Foo'"),
    ("SELECT Account.Name FROM Contact", "INVALID_FIELD", "Didn't understand relationship 'Account'"),
    # literal types against field types
    (
        "SELECT Id FROM Contact WHERE LastName = 5",
        "INVALID_FIELD",
        "value of filter criterion for field 'LastName' must be of type string "
        "and should be enclosed in quotes",
    ),
    (
        "SELECT Id FROM Contact WHERE Amount = '5'",
        "INVALID_FIELD",
        "value of filter criterion for field 'Amount' must be of type double "
        "and should not be enclosed in quotes",
    ),
    ("SELECT Id FROM Contact WHERE NumberOfEmployees > '5'", "INVALID_FIELD", "must be of type integer"),
    ("SELECT Id FROM Contact WHERE IsDeleted = 'true'", "INVALID_FIELD", "must be of type boolean"),
    (
        "SELECT Id FROM Contact WHERE Birthdate > 2024-01-05T10:00:00Z",
        "INVALID_FIELD",
        "field 'Birthdate' must be of type date and should not be enclosed in quotes",
    ),
    (
        "SELECT Id FROM Contact WHERE SystemModstamp > 2024-01-05",
        "INVALID_FIELD",
        "field 'SystemModstamp' must be of type dateTime and should not be enclosed in quotes",
    ),
    (
        "SELECT Id FROM Contact WHERE SystemModstamp > '2024-01-05T10:00:00Z'",
        "INVALID_FIELD",
        "must be of type dateTime",
    ),
    ("SELECT Id FROM Contact WHERE LastName = TODAY", "INVALID_FIELD", "must be of type string"),
    ("SELECT Id FROM Contact WHERE Amount IN (1, 'a')", "INVALID_FIELD", "must be of type double"),
    (
        "SELECT Id FROM Contact WHERE SystemModstamp IN (TODAY)",
        "MALFORMED_QUERY",
        "unexpected token: 'TODAY'",
    ),
    ("SELECT Id FROM Contact WHERE Id = 'abc'", "INVALID_QUERY_FILTER_OPERATOR", "invalid ID field: abc"),
    (
        "SELECT Id FROM Contact WHERE AccountId IN ('0014S000007NxmlQA!')",
        "INVALID_QUERY_FILTER_OPERATOR",
        "invalid ID field",
    ),
    ("SELECT Id FROM Contact WHERE Id = 5", "INVALID_FIELD", "must be of type string"),
    ("SELECT Id FROM Contact WHERE Amount LIKE '5%'", "INVALID_QUERY_FILTER_OPERATOR", "invalid operator"),
    ("SELECT Id FROM Contact WHERE Id LIKE '003%'", "INVALID_QUERY_FILTER_OPERATOR", "invalid operator"),
    ("SELECT Id FROM Contact WHERE IsDeleted > false", "INVALID_QUERY_FILTER_OPERATOR", "invalid operator"),
]


@pytest.mark.parametrize(("query", "code", "detail"), ERROR_CASES)
def test_errors(query: str, code: str, detail: str) -> None:
    with pytest.raises(SoqlError) as info:
        execute(parse_soql(query), RECORDS, FIELDS)
    assert info.value.error_code == code
    assert detail in info.value.message


def test_message_points_at_the_error() -> None:
    with pytest.raises(SoqlError) as info:
        parse_soql("SELECT Id\nFROM Contact WHERE LastName = 'x' ORDR BY Id")
    # Salesforce's shape: the line, a caret under the column, then "ERROR at Row:r:Column:c" and the detail.
    lines = info.value.message.split("\n")
    assert lines[0] == ""
    assert lines[1] == "FROM Contact WHERE LastName = 'x' ORDR BY Id"
    assert lines[2] == " " * 34 + "^"
    assert lines[3] == "ERROR at Row:2:Column:35"
    assert lines[4] == "unexpected token: 'ORDR'"


def test_unknown_field_message_names_the_field_and_entity_as_written() -> None:
    with pytest.raises(SoqlError) as info:
        execute(parse_soql("SELECT Id, FullName FROM contact"), RECORDS, FIELDS)
    assert info.value.message.startswith(
        "\nSELECT Id, FullName FROM contact\n           ^\nERROR at Row:1:Column:12\n"
    )
    assert "No such column 'FullName' on entity 'contact'" in info.value.message


def test_overlong_query_is_rejected_without_tokenizing() -> None:
    with pytest.raises(SoqlError) as info:
        parse_soql("SELECT Id FROM Contact WHERE LastName = '" + "a" * MAX_QUERY_LENGTH + "'")
    assert info.value.error_code == "MALFORMED_QUERY"


def test_errors_are_exceptions_with_code_and_message() -> None:
    err = SoqlError("MALFORMED_QUERY", "unexpected token: 'x'")
    assert isinstance(err, Exception)
    assert (err.error_code, err.message) == ("MALFORMED_QUERY", "unexpected token: 'x'")
