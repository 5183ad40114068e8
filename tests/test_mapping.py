"""The field-mapping model: effective rules, the start-up checks (R-MAP-7, R-MAP-8, formula fields)
and the default contact mapping."""

from __future__ import annotations

import msgspec
import pytest

from engine.mapping import (
    FieldKind,
    FieldMapping,
    MappingError,
    SyncRule,
    country_values,
    default_contact_mappings,
    kind_for_types,
    us_state_values,
    validate_mappings,
)


def test_effective_rule() -> None:
    assert FieldMapping("a", "A", SyncRule.ALWAYS_HUBSPOT).effective_rule is SyncRule.ALWAYS_HUBSPOT
    owner = FieldMapping("hubspot_owner_id", "OwnerId", SyncRule.ALWAYS_SALESFORCE, FieldKind.OWNER)
    assert owner.effective_rule is SyncRule.TWO_WAY  # R-MAP-9
    formula = FieldMapping("w", "W__c", SyncRule.TWO_WAY, formula=True)
    assert formula.effective_rule is SyncRule.ALWAYS_SALESFORCE
    off = FieldMapping("w", "W__c", SyncRule.DONT_SYNC, formula=True)
    assert off.effective_rule is SyncRule.DONT_SYNC


def test_decodes_from_config_with_defaults() -> None:
    raw = b'{"hubspot": "jobtitle", "salesforce": "Title", "rule": "two_way"}'
    mapping = msgspec.json.decode(raw, type=FieldMapping)
    assert mapping == FieldMapping("jobtitle", "Title", SyncRule.TWO_WAY, FieldKind.STRING)
    with pytest.raises(msgspec.ValidationError, match="rule"):
        msgspec.json.decode(b'{"hubspot": "a", "salesforce": "A", "rule": "sometimes"}', type=FieldMapping)


@pytest.mark.parametrize(
    ("mappings", "message"),
    [
        ([FieldMapping("a", "A"), FieldMapping("a", "B")], "'a' is already mapped"),
        ([FieldMapping("a", "A"), FieldMapping("b", "a")], "'a' is already mapped"),  # SF names: any case
        ([FieldMapping("w", "W__c", formula=True)], "formula field"),
        ([FieldMapping("", "A")], "both"),
        ([FieldMapping("s", "S", values={"CA": "California", "ca": "Calif"})], "twice"),
        ([FieldMapping("s", "S", values={"A": "B", "B": "C"})], "both a Salesforce value and a key"),
    ],
)
def test_bad_mappings_are_refused_by_name(mappings: list[FieldMapping], message: str) -> None:
    with pytest.raises(MappingError, match=message) as info:
        validate_mappings(mappings)
    assert "↔" in str(info.value)


def test_good_mappings_pass() -> None:
    ok = [
        FieldMapping("w", "W__c", SyncRule.ALWAYS_SALESFORCE, FieldKind.NUMBER, formula=True),
        FieldMapping("state", "MailingState", kind=FieldKind.STATE, values=us_state_values()),
        FieldMapping("x", "X__c", SyncRule.DONT_SYNC, formula=True),
    ]
    assert validate_mappings(ok) == tuple(ok)


@pytest.mark.parametrize("sobject", ["Contact", "Lead"])
def test_default_contact_mapping_is_valid(sobject: str) -> None:
    mappings = validate_mappings(default_contact_mappings(sobject))
    pairs = {(m.hubspot, m.salesforce) for m in mappings}
    assert ("email", "Email") in pairs
    assert ("hubspot_owner_id", "OwnerId") in pairs
    city = "City" if sobject == "Lead" else "MailingCity"
    assert ("city", city) in pairs
    assert (("company", "Company") in pairs) == (sobject == "Lead")


def test_compatible_types() -> None:
    assert kind_for_types("select", "picklist") is FieldKind.ENUMERATION
    assert kind_for_types("checkbox", "multipicklist") is FieldKind.MULTI
    assert kind_for_types("number", "currency") is FieldKind.NUMBER
    assert kind_for_types("date", "datetime") is FieldKind.DATETIME
    assert kind_for_types("date", "datetime", hubspot_type="datetime") is FieldKind.DATETIME
    # A HubSpot date-only picker can hold no time, so against a Salesforce datetime it is a date.
    assert kind_for_types("date", "datetime", hubspot_type="date") is FieldKind.DATE
    assert kind_for_types("date", "date", hubspot_type="datetime") is FieldKind.DATE
    with pytest.raises(MappingError, match="R-MAP-7"):
        kind_for_types("booleancheckbox", "string")
    with pytest.raises(MappingError):
        kind_for_types("textarea", "string")  # multi-line text only to textarea


def test_us_states_table() -> None:
    table = us_state_values()
    assert table["CA"] == "California" and table["California"] == "California"
    assert len(set(table.values())) == 51
    # Names come first, so a Salesforce name goes back to HubSpot as the name.
    assert next(iter(table)) == "Alabama"


def test_country_table() -> None:
    table = country_values()
    assert table["USA"] == table["US"] == table["United States"] == "United States"
    assert table["UK"] == "United Kingdom"
    assert next(iter(table)) == "United States"
    validate_mappings([FieldMapping("country", "MailingCountry", kind=FieldKind.COUNTRY, values=table)])
