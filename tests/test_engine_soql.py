"""Our SOQL literals agree with simple-salesforce's escaping, and names are never free text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from simple_salesforce.format import format_soql

from engine.soql import datetime_literal, identifier, quote, quote_like, quote_list


@given(st.text())
def test_quote_matches_the_official_client(value: str) -> None:
    assert quote(value) == format_soql("{}", value)


@given(st.text())
def test_quote_like_matches_the_official_client(value: str) -> None:
    # The client's ``:like`` spec escapes without quoting.
    assert quote_like(value) == "'" + format_soql("{:like}", value) + "'"


def test_hostile_values() -> None:
    assert quote("O'Brien \\ x") == "'O\\'Brien \\\\ x'"
    assert quote("a' OR Name != '") == "'a\\' OR Name != \\''"
    assert quote_like("50%_off") == "'50\\%\\_off'"
    assert quote_list(["a", "b'c"]) == "('a', 'b\\'c')"
    assert datetime_literal(1_704_448_800_123) == "2024-01-05T10:00:00.123Z"


@pytest.mark.parametrize("name", ["Email", "HubSpot_Id__c", "Owner.Email"])
def test_identifiers_pass(name: str) -> None:
    assert identifier(name) == name


@pytest.mark.parametrize("name", ["", "Email, Id", "Id FROM User --", "1abc", "Name'"])
def test_non_identifiers_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a Salesforce field"):
        identifier(name)
