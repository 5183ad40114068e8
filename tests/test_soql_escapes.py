"""String literals: every value round-trips exactly through simple-salesforce's escaping."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simple_salesforce.format import format_soql

from mockcrm.salesforce.soql import SoqlError, execute, parse_soql
from mockcrm.salesforce.soql_ast import Compare, Like
from tests.test_soql_data import FIELDS, rec

TRICKY = [
    "O'Brien",
    "back\\slash",
    "trailing\\",
    "\\'",
    "line1\nline2\r\n",
    "tab\there",
    "bell\b and feed\f",
    'double "quotes"',
    "100% sure",
    "under_score",
    "%_%",
    "ünïcødé — 日本語 🎉",
    "'; DELETE FROM Contact --",
    " leading and trailing ",
]


def _literal(query: str) -> str:
    where = parse_soql(query).where
    assert isinstance(where, (Compare, Like))
    return where.value.value if isinstance(where, Compare) else where.pattern.value


@pytest.mark.parametrize("value", TRICKY)
def test_escaped_values_decode_exactly(value: str) -> None:
    query = format_soql("SELECT Id FROM Contact WHERE LastName = {}", value)
    assert _literal(query) == value
    like = format_soql("SELECT Id FROM Contact WHERE LastName LIKE '{:like}'", value)
    assert _literal(like) == value


def _only_matches(query: str, value: str) -> None:
    records = [
        rec("0034S000001AbcDQAS", value),
        rec("0034S000001AbcEQAS", value + "x"),
        rec("0034S000001AbcFQAS", "z"),
    ]
    rows = execute(parse_soql(query), records, FIELDS).rows
    assert [row["Id"] for row in rows] == ["0034S000001AbcDQAS"]


@pytest.mark.parametrize("value", TRICKY)
def test_escaped_values_match_only_themselves(value: str) -> None:
    _only_matches(format_soql("SELECT Id FROM Contact WHERE LastName = {}", value), value)
    # {:like} escapes % and _ so they match themselves, not any text.
    _only_matches(format_soql("SELECT Id FROM Contact WHERE LastName LIKE '{:like}'", value), value)
    _only_matches(format_soql("SELECT Id FROM Contact WHERE LastName IN {}", [value, "nope"]), value)


ESCAPE_CASES = [
    ("'a\\'b'", "a'b"),
    ("'a\\\"b'", 'a"b'),
    ("'a\\\\b'", "a\\b"),
    ("'a\\nb'", "a\nb"),
    ("'a\\rb'", "a\rb"),
    ("'a\\tb'", "a\tb"),
    ("'a\\bb'", "a\bb"),
    ("'a\\fb'", "a\fb"),
    ("'\\u00e9\\u00C9'", "éÉ"),
    ("'\\u0027'", "'"),
    ("''", ""),
    ("'a\"b'", 'a"b'),  # an unescaped double quote is just a character
]


@pytest.mark.parametrize(("literal", "decoded"), ESCAPE_CASES)
def test_escape_sequences(literal: str, decoded: str) -> None:
    assert _literal(f"SELECT Id FROM Contact WHERE LastName = {literal}") == decoded


@pytest.mark.parametrize("bad", ["'\\x'", "'\\a'", "'\\u00'", "'\\u00g0'", "'\\U0041'", "'\\ '", "'\\'"])
def test_bad_escapes_are_malformed(bad: str) -> None:
    with pytest.raises(SoqlError) as info:
        parse_soql(f"SELECT Id FROM Contact WHERE LastName = {bad}")
    assert info.value.error_code == "MALFORMED_QUERY"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=1, max_size=40))
def test_any_text_round_trips(value: str) -> None:
    query = format_soql("SELECT Id FROM Contact WHERE LastName = {}", value)
    assert _literal(query) == value
    like = format_soql("SELECT Id FROM Contact WHERE LastName LIKE '{:like}'", value)
    assert _literal(like) == value
    records = [rec("0034S000001AbcDQAS", value)]
    assert execute(parse_soql(query), records, FIELDS).total_size == 1
    assert execute(parse_soql(like), records, FIELDS).total_size == 1
