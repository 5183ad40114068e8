"""Table tests for the pure reconciler: every rule × {only HubSpot changed, only Salesforce changed,
both changed, cleared on either side, new link, create}, plus owners, formula fields, state/country
and canonical formatting."""

from __future__ import annotations

from typing import NamedTuple

import msgspec
import pytest

from engine.canonical import SalesforceValue
from engine.mapping import FieldKind, FieldMapping, SyncRule, us_state_values
from engine.reconcile import (
    Action,
    Decision,
    HubSpotRecord,
    LinkState,
    ReconcileSettings,
    SalesforceRecord,
    reconcile,
)

R = SyncRule
NO_BASE = object()  # a field that has never been synced (a new link)
SETTINGS = ReconcileSettings.of(["ann@example.com", "bob@example.com"])


class Case(NamedTuple):
    situation: str
    base: object  # NO_BASE, None (agreed blank) or a value
    hs: str | None
    sf: str | None
    hs_ms: int
    sf_ms: int
    hs_write: str | None  # expected HubSpot write ("" clears) or None for no write
    sf_write: object  # expected Salesforce write, NO_WRITE for none
    new_base: object  # expected base after the decision (NO_BASE: none stored)


NO_WRITE = object()

# The situations, with the same values for every rule: base "a", HubSpot's new value "h",
# Salesforce's new value "s"; times say which record changed later.
ONLY_HS = ("only HubSpot changed", "a", "h", "a", 2, 1)
ONLY_SF = ("only Salesforce changed", "a", "a", "s", 1, 2)
BOTH_HS_LATER = ("both changed, HubSpot later", "a", "h", "s", 2, 1)
BOTH_SF_LATER = ("both changed, Salesforce later", "a", "h", "s", 1, 2)
BOTH_TIE = ("both changed, same time", "a", "h", "s", 5, 5)
HS_CLEARED = ("cleared in HubSpot", "a", None, "a", 2, 1)
SF_CLEARED = ("cleared in Salesforce", "a", "a", None, 1, 2)
SF_CLEARED_HS_EDITED = ("cleared in Salesforce, edited in HubSpot", "a", "h", None, 2, 1)
HS_CLEARED_SF_EDITED = ("cleared in HubSpot, edited in Salesforce", "a", None, "s", 1, 2)
SF_NEVER_SET = ("Salesforce blank since agreed blank, HubSpot set", None, "h", None, 2, 1)
HS_NEVER_SET = ("HubSpot blank since agreed blank, Salesforce set", None, None, "s", 1, 2)
UNCHANGED = ("nothing changed", "a", "a", "a", 1, 2)
NEW_BOTH_HS_LATER = ("new link, both set, HubSpot later", NO_BASE, "h", "s", 2, 1)
NEW_BOTH_SF_LATER = ("new link, both set, Salesforce later", NO_BASE, "h", "s", 1, 2)
NEW_BOTH_TIE = ("new link, both set, same time", NO_BASE, "h", "s", 3, 3)
NEW_HS_ONLY = ("new link, only HubSpot set", NO_BASE, "h", None, 1, 2)
NEW_SF_ONLY = ("new link, only Salesforce set", NO_BASE, None, "s", 2, 1)
NEW_BOTH_BLANK = ("new link, both blank", NO_BASE, None, None, 1, 1)


def to_hs(value: str) -> tuple[str, object, str]:
    return (value, NO_WRITE, value)


def to_sf(value: str) -> tuple[None, object, str]:
    return (None, value, value)


CLEAR_HS = ("", NO_WRITE, None)
CLEAR_SF = (None, None, None)
STAYS_A = (None, NO_WRITE, "a")


def stays(base: object) -> tuple[None, object, object]:
    return (None, NO_WRITE, base)


TABLE: dict[
    SyncRule, list[tuple[tuple[str, object, str | None, str | None, int, int], tuple[object, ...]]]
] = {
    R.PREFER_SALESFORCE_UNLESS_BLANK: [
        (ONLY_HS, to_hs("a")),  # a HubSpot edit is reverted (R-MAP-1b)
        (ONLY_SF, to_hs("s")),
        (BOTH_HS_LATER, to_hs("s")),  # time does not matter: Salesforce has a value
        (BOTH_SF_LATER, to_hs("s")),
        (HS_CLEARED, to_hs("a")),  # clearing HubSpot never clears Salesforce (R-MAP-1d)
        (SF_CLEARED, CLEAR_HS),  # R-MAP-1c
        (SF_CLEARED_HS_EDITED, CLEAR_HS),
        (SF_NEVER_SET, to_sf("h")),  # R-MAP-1a: HubSpot fills a blank Salesforce
        (HS_NEVER_SET, to_hs("s")),
        (UNCHANGED, STAYS_A),
        (NEW_BOTH_HS_LATER, to_hs("s")),
        (NEW_HS_ONLY, to_sf("h")),
        (NEW_SF_ONLY, to_hs("s")),
        (NEW_BOTH_BLANK, (None, NO_WRITE, None)),
    ],
    R.ALWAYS_SALESFORCE: [
        (ONLY_HS, to_hs("a")),
        (ONLY_SF, to_hs("s")),
        (BOTH_HS_LATER, to_hs("s")),
        (HS_CLEARED, to_hs("a")),
        (SF_CLEARED, CLEAR_HS),
        (SF_CLEARED_HS_EDITED, CLEAR_HS),
        (SF_NEVER_SET, stays(None)),  # never HubSpot → Salesforce, even into a blank (R-MAP-2)
        (HS_NEVER_SET, to_hs("s")),
        (UNCHANGED, STAYS_A),
        (NEW_BOTH_HS_LATER, to_hs("s")),
        (NEW_HS_ONLY, stays(NO_BASE)),
        (NEW_SF_ONLY, to_hs("s")),
    ],
    R.TWO_WAY: [
        (ONLY_HS, to_sf("h")),
        (ONLY_SF, to_hs("s")),
        (BOTH_HS_LATER, to_sf("h")),
        (BOTH_SF_LATER, to_hs("s")),
        (BOTH_TIE, to_hs("s")),  # ties go to Salesforce
        (HS_CLEARED, CLEAR_SF),  # clears travel both ways (R-MAP-3)
        (SF_CLEARED, CLEAR_HS),
        (SF_CLEARED_HS_EDITED, to_sf("h")),  # both changed; HubSpot later
        (HS_CLEARED_SF_EDITED, to_hs("s")),
        (SF_NEVER_SET, to_sf("h")),
        (HS_NEVER_SET, to_hs("s")),
        (UNCHANGED, STAYS_A),
        (NEW_BOTH_HS_LATER, to_sf("h")),
        (NEW_BOTH_SF_LATER, to_hs("s")),
        (NEW_BOTH_TIE, to_hs("s")),
        (NEW_HS_ONLY, to_sf("h")),
        (NEW_SF_ONLY, to_hs("s")),
    ],
    R.DONT_SYNC: [
        (ONLY_HS, stays("a")),
        (ONLY_SF, stays("a")),
        (BOTH_SF_LATER, stays("a")),
        (HS_CLEARED, stays("a")),
        (SF_CLEARED, stays("a")),
        (SF_NEVER_SET, stays(None)),
        (NEW_BOTH_HS_LATER, stays(NO_BASE)),
        (NEW_HS_ONLY, stays(NO_BASE)),
        (NEW_SF_ONLY, stays(NO_BASE)),
    ],
    R.PREFER_HUBSPOT_UNLESS_BLANK: [
        (ONLY_HS, to_sf("h")),
        (ONLY_SF, to_sf("a")),  # a Salesforce edit is reverted
        (BOTH_SF_LATER, to_sf("h")),
        (HS_CLEARED, CLEAR_SF),
        (SF_CLEARED, to_sf("a")),
        (HS_CLEARED_SF_EDITED, CLEAR_SF),
        (SF_NEVER_SET, to_sf("h")),
        (HS_NEVER_SET, to_hs("s")),  # Salesforce fills a blank HubSpot
        (UNCHANGED, STAYS_A),
        (NEW_BOTH_SF_LATER, to_sf("h")),
        (NEW_HS_ONLY, to_sf("h")),
        (NEW_SF_ONLY, to_hs("s")),
    ],
    R.ALWAYS_HUBSPOT: [
        (ONLY_HS, to_sf("h")),
        (ONLY_SF, to_sf("a")),
        (BOTH_SF_LATER, to_sf("h")),
        (HS_CLEARED, CLEAR_SF),
        (SF_CLEARED, to_sf("a")),
        (HS_CLEARED_SF_EDITED, CLEAR_SF),
        (SF_NEVER_SET, to_sf("h")),
        (HS_NEVER_SET, stays(None)),  # never Salesforce → HubSpot
        (UNCHANGED, STAYS_A),
        (NEW_BOTH_SF_LATER, to_sf("h")),
        (NEW_HS_ONLY, to_sf("h")),
        (NEW_SF_ONLY, stays(NO_BASE)),
    ],
}

CASES = [
    pytest.param(rule, Case(*situation, *outcome), id=f"{rule.value}: {situation[0]}")  # type: ignore[arg-type]
    for rule, rows in TABLE.items()
    for situation, outcome in rows
]


def one_field(
    rule: SyncRule, base: object, hs: str | None, sf: SalesforceValue, hs_ms: int, sf_ms: int
) -> Decision:
    mapping = FieldMapping("jobtitle", "Title", rule)
    bases: dict[str, str | None] = {} if base is NO_BASE else {"jobtitle": base}  # type: ignore[dict-item]
    return reconcile(
        LinkState(bases),
        HubSpotRecord({"jobtitle": hs}, hs_ms),
        SalesforceRecord({"Title": sf}, sf_ms),
        [mapping],
        SETTINGS,
    )


@pytest.mark.parametrize(("rule", "case"), CASES)
def test_rule_table(rule: SyncRule, case: Case) -> None:
    decision = one_field(rule, case.base, case.hs, case.sf, case.hs_ms, case.sf_ms)
    expected_hs = {} if case.hs_write is None else {"jobtitle": case.hs_write}
    expected_sf = {} if case.sf_write is NO_WRITE else {"Title": case.sf_write}
    assert decision.hubspot_writes == expected_hs
    assert decision.salesforce_writes == expected_sf
    if case.new_base is NO_BASE:
        assert "jobtitle" not in decision.bases
    else:
        assert decision.bases["jobtitle"] == case.new_base
    # Every write is explained by a note naming the rule that decided it.
    for note in decision.notes:
        assert note.rule is rule
    assert len(decision.notes) == len(expected_hs) + len(expected_sf)


def test_every_rule_has_every_situation_family() -> None:
    # Guards the table itself: each rule covers HubSpot-only, Salesforce-only, both, clears, new link.
    for rule, rows in TABLE.items():
        names = " | ".join(situation[0] for situation, _ in rows)
        for family in ("only HubSpot", "only Salesforce", "both changed", "cleared in HubSpot",
                       "cleared in Salesforce", "new link"):  # fmt: skip
            assert family in names, (rule, family)


def test_two_way_conflict_is_noted_as_conflict() -> None:
    decision = one_field(R.TWO_WAY, "a", "h", "s", 1, 2)
    (note,) = decision.notes
    assert note.conflict and note.action is Action.TO_HUBSPOT
    assert (note.hubspot_value, note.salesforce_value) == ("h", "s")
    assert "Salesforce" in note.reason and "later" in note.reason


def test_reverted_hubspot_edit_is_noted_as_conflict() -> None:
    (note,) = one_field(R.PREFER_SALESFORCE_UNLESS_BLANK, "a", "h", "a", 2, 1).notes
    assert note.conflict and "prefer_salesforce_unless_blank" in note.reason
    (note,) = one_field(R.PREFER_SALESFORCE_UNLESS_BLANK, "a", "a", "s", 1, 2).notes
    assert not note.conflict


# --- creates -------------------------------------------------------------------------------------

ALL_RULES = [FieldMapping(f"p_{rule.value}", f"F_{rule.value}", rule) for rule in SyncRule]


def test_create_in_salesforce_leaves_out_always_salesforce_and_dont_sync() -> None:
    hs = HubSpotRecord({m.hubspot: "v" for m in ALL_RULES}, 1)
    decision = reconcile(LinkState(), hs, None, ALL_RULES, SETTINGS)
    assert decision.create_salesforce and not decision.create_hubspot
    assert decision.hubspot_writes == {}
    sent = {name.removeprefix("F_") for name in decision.salesforce_writes}
    assert sent == {
        "prefer_salesforce_unless_blank",
        "two_way",
        "prefer_hubspot_unless_blank",
        "always_hubspot",
    }
    assert set(decision.bases) == {f"p_{rule}" for rule in sent}
    not_sent = {n.rule for n in decision.notes if n.action is Action.NOT_SENT}
    assert not_sent == {R.ALWAYS_SALESFORCE}


def test_create_in_hubspot_leaves_out_always_hubspot_and_dont_sync() -> None:
    sf = SalesforceRecord({m.salesforce: "v" for m in ALL_RULES}, 1)
    decision = reconcile(LinkState(), None, sf, ALL_RULES, SETTINGS)
    assert decision.create_hubspot and not decision.create_salesforce
    assert decision.salesforce_writes == {}
    sent = {name.removeprefix("p_") for name in decision.hubspot_writes}
    assert sent == {
        "prefer_salesforce_unless_blank",
        "always_salesforce",
        "two_way",
        "prefer_hubspot_unless_blank",
    }


def test_create_sends_no_blanks_and_typed_values() -> None:
    mappings = [
        FieldMapping("firstname", "FirstName"),
        FieldMapping("numemployees", "NumberOfEmployees", kind=FieldKind.NUMBER),
        FieldMapping("optout", "HasOptedOutOfEmail", kind=FieldKind.BOOLEAN),
    ]
    hs = HubSpotRecord({"firstname": "", "numemployees": "250.0", "optout": "false"}, 1)
    decision = reconcile(LinkState(), hs, None, mappings, SETTINGS)
    assert decision.salesforce_writes == {"NumberOfEmployees": 250, "HasOptedOutOfEmail": False}


def test_reconcile_needs_a_record() -> None:
    with pytest.raises(ValueError, match="at least one"):
        reconcile(LinkState(), None, None, ALL_RULES, SETTINGS)


# --- owners (R-MAP-9, R-OWN-3…5) -----------------------------------------------------------------

OWNER = FieldMapping("hubspot_owner_id", "OwnerId", R.PREFER_SALESFORCE_UNLESS_BLANK, FieldKind.OWNER)


def owner(base: object, hs: str | None, sf: str | None, hs_ms: int = 1, sf_ms: int = 1) -> Decision:
    bases: dict[str, str | None] = {} if base is NO_BASE else {"hubspot_owner_id": base}  # type: ignore[dict-item]
    return reconcile(
        LinkState(bases),
        HubSpotRecord({"hubspot_owner_id": hs}, hs_ms),
        SalesforceRecord({"OwnerId": sf}, sf_ms),
        [OWNER],
        SETTINGS,
    )


def test_owner_is_two_way_whatever_the_mapping_says() -> None:
    # Under prefer_salesforce_unless_blank a HubSpot change would be reverted; the owner travels.
    decision = owner("ann@example.com", "Bob@Example.com", "ann@example.com", hs_ms=2)
    assert decision.salesforce_writes == {"OwnerId": "bob@example.com"}
    assert decision.notes[0].rule is R.TWO_WAY
    decision = owner("ann@example.com", "bob@example.com", "carl@example.com", hs_ms=1, sf_ms=2)
    assert decision.hubspot_writes == {"hubspot_owner_id": "carl@example.com"}  # any SF owner syncs


def test_owner_without_active_salesforce_user_snaps_back() -> None:
    decision = owner("ann@example.com", "zed@example.com", "ann@example.com", hs_ms=2)
    assert decision.salesforce_writes == {}
    assert decision.hubspot_writes == {"hubspot_owner_id": "ann@example.com"}
    assert decision.bases["hubspot_owner_id"] == "ann@example.com"
    assert "R-OWN-3" in decision.notes[0].reason


def test_owner_without_active_user_into_blank_salesforce_is_held() -> None:
    decision = owner(NO_BASE, "zed@example.com", None)
    assert not decision.has_writes
    assert decision.notes[0].action is Action.HELD


def test_owner_first_sync_keeps_salesforce_owner_even_if_hubspot_is_later() -> None:
    decision = owner(NO_BASE, "bob@example.com", "ann@example.com", hs_ms=9, sf_ms=1)
    assert decision.hubspot_writes == {"hubspot_owner_id": "ann@example.com"}
    assert decision.salesforce_writes == {}


def test_owner_cleared_in_hubspot_is_refilled_not_cleared_in_salesforce() -> None:
    decision = owner("ann@example.com", None, "ann@example.com", hs_ms=2)
    assert decision.salesforce_writes == {}
    assert decision.hubspot_writes == {"hubspot_owner_id": "ann@example.com"}


def test_owner_on_create_only_when_active() -> None:
    active = reconcile(
        LinkState(), HubSpotRecord({"hubspot_owner_id": "ann@example.com"}), None, [OWNER], SETTINGS
    )
    assert active.salesforce_writes == {"OwnerId": "ann@example.com"}
    inactive = reconcile(
        LinkState(), HubSpotRecord({"hubspot_owner_id": "zed@example.com"}), None, [OWNER], SETTINGS
    )
    assert inactive.salesforce_writes == {}
    assert inactive.notes[0].action is Action.HELD


# --- formula fields (R-TRG-5) --------------------------------------------------------------------

FORMULA = FieldMapping("weighted", "Weighted__c", R.ALWAYS_SALESFORCE, FieldKind.NUMBER, formula=True)
AMOUNT = FieldMapping("amount", "Amount__c", R.TWO_WAY, FieldKind.NUMBER)


def formula_pair(
    hs: dict[str, str | None], sf: dict[str, SalesforceValue], bases: dict[str, str | None]
) -> Decision:
    return reconcile(
        LinkState(bases), HubSpotRecord(hs, 1), SalesforceRecord(sf, 2), [AMOUNT, FORMULA], SETTINGS
    )


def test_formula_change_alone_writes_nothing() -> None:
    decision = formula_pair({"amount": "100", "weighted": "50"}, {"Amount__c": 100, "Weighted__c": 60.0},
                            {"amount": "100", "weighted": "50"})  # fmt: skip
    assert not decision.has_writes
    assert decision.bases["weighted"] == "50"
    assert decision.notes[0].action is Action.HELD


def test_formula_value_travels_with_another_change() -> None:
    decision = formula_pair({"amount": "100", "weighted": "50"}, {"Amount__c": 120, "Weighted__c": 60.0},
                            {"amount": "100", "weighted": "50"})  # fmt: skip
    assert decision.hubspot_writes == {"amount": "120", "weighted": "60"}
    assert decision.bases["weighted"] == "60"


def test_formula_field_is_never_written_even_under_two_way() -> None:
    two_way_formula = FieldMapping("weighted", "Weighted__c", R.TWO_WAY, FieldKind.NUMBER, formula=True)
    decision = reconcile(
        LinkState({"weighted": "50"}),
        HubSpotRecord({"weighted": "70"}, 9),
        SalesforceRecord({"Weighted__c": 50}, 1),
        [two_way_formula],
        SETTINGS,
    )
    assert decision.salesforce_writes == {}
    assert decision.hubspot_writes == {"weighted": "50"}
    created = reconcile(LinkState(), HubSpotRecord({"weighted": "70"}), None, [two_way_formula], SETTINGS)
    assert created.salesforce_writes == {}


# --- state and country (R-GEO-1…3) ---------------------------------------------------------------

STATE = FieldMapping("state", "MailingState", kind=FieldKind.STATE, values=us_state_values())
COUNTRY = FieldMapping("country", "MailingCountry", kind=FieldKind.COUNTRY)


def test_state_codes_convert_to_salesforce_names_and_are_no_change() -> None:
    decision = reconcile(
        LinkState({"state": "California", "country": "United States"}),
        HubSpotRecord({"state": "ca", "country": "United States"}, 2),
        SalesforceRecord({"MailingState": "California", "MailingCountry": "United States"}, 1),
        [STATE, COUNTRY],
        SETTINGS,
    )
    assert not decision.has_writes
    created = reconcile(
        LinkState(), HubSpotRecord({"state": "TX", "country": "US"}), None, [STATE, COUNTRY], SETTINGS
    )
    assert created.salesforce_writes == {"MailingState": "Texas", "MailingCountry": "US"}


def test_state_without_country_is_held_back_as_an_error() -> None:
    decision = reconcile(
        LinkState(), HubSpotRecord({"state": "TX"}, 2), SalesforceRecord({}, 1), [STATE, COUNTRY], SETTINGS
    )
    assert decision.salesforce_writes == {}
    (note,) = decision.notes
    assert note.action is Action.ERROR and "R-GEO-3" in note.reason
    assert decision.errors == (note,)
    assert "state" not in decision.bases
    created = reconcile(LinkState(), HubSpotRecord({"state": "TX"}), None, [STATE, COUNTRY], SETTINGS)
    assert created.salesforce_writes == {}
    with_country = reconcile(
        LinkState(),
        HubSpotRecord({"state": "TX"}, 2),
        SalesforceRecord({"MailingCountry": "United States"}, 1),
        [STATE, COUNTRY],
        SETTINGS,
    )
    assert with_country.salesforce_writes == {"MailingState": "Texas"}


# --- canonical comparison and errors -------------------------------------------------------------

FORMATS = [
    (FieldKind.NUMBER, "1000", 1000.0),
    (FieldKind.NUMBER, "0.10", 0.1),
    (FieldKind.BOOLEAN, "true", True),
    (FieldKind.BOOLEAN, "false", False),
    (FieldKind.DATE, "1704412800000", "2024-01-05"),
    (FieldKind.DATETIME, "2024-01-05T10:00:00.000Z", "2024-01-05T10:00:00.000+0000"),
    (FieldKind.MULTI, "b;a", "a;b"),
    (FieldKind.EMAIL, "ann@example.com", "Ann@Example.com"),
    (FieldKind.STRING, "Ann ", "Ann"),
]


@pytest.mark.parametrize(("kind", "hs", "sf"), FORMATS, ids=[f"{k.value}:{h}" for k, h, _ in FORMATS])
@pytest.mark.parametrize("rule", [r for r in SyncRule if r is not R.DONT_SYNC])
def test_formatting_is_never_a_change(rule: SyncRule, kind: FieldKind, hs: str, sf: SalesforceValue) -> None:
    mapping = FieldMapping("p", "F", rule, kind)
    cases: list[dict[str, str | None]] = [{}, {"p": "stale"}]  # new link; both moved to one value
    for bases in cases:
        decision = reconcile(
            LinkState(bases), HubSpotRecord({"p": hs}, 1), SalesforceRecord({"F": sf}, 2), [mapping], SETTINGS
        )
        assert not decision.has_writes, (bases, decision)
        assert decision.bases["p"] is not None


def test_zero_and_false_are_values_not_blanks() -> None:
    for kind, sf in ((FieldKind.NUMBER, 0), (FieldKind.BOOLEAN, False)):
        mapping = FieldMapping("p", "F", R.PREFER_SALESFORCE_UNLESS_BLANK, kind)
        decision = reconcile(
            LinkState({"p": "1" if kind is FieldKind.NUMBER else "true"}),
            HubSpotRecord({"p": None}, 1),
            SalesforceRecord({"F": sf}, 2),
            [mapping],
            SETTINGS,
        )
        assert decision.hubspot_writes == {"p": "0" if kind is FieldKind.NUMBER else "false"}


def test_missing_empty_and_null_are_all_blank() -> None:
    mapping = FieldMapping("p", "F", R.TWO_WAY)
    blanks: list[dict[str, str | None]] = [{}, {"p": None}, {"p": ""}, {"p": "  "}]
    for hs in blanks:
        decision = reconcile(
            LinkState({"p": "a"}), HubSpotRecord(hs, 2), SalesforceRecord({"F": "a"}, 1), [mapping], SETTINGS
        )
        assert decision.salesforce_writes == {"F": None}


def test_unreadable_value_is_an_error_on_that_field_only() -> None:
    mappings = [FieldMapping("n", "N__c", R.TWO_WAY, FieldKind.NUMBER), FieldMapping("t", "T__c", R.TWO_WAY)]
    decision = reconcile(
        LinkState({"n": "1", "t": "a"}),
        HubSpotRecord({"n": "lots", "t": "b"}, 2),
        SalesforceRecord({"N__c": 1, "T__c": "a"}, 1),
        mappings,
        SETTINGS,
    )
    assert decision.salesforce_writes == {"T__c": "b"}
    (error,) = decision.errors
    assert error.hubspot == "n" and "lots" in error.reason
    assert decision.bases["n"] == "1"  # unchanged, so a later fix is seen as a change


def test_dont_sync_keeps_its_base_untouched() -> None:
    mapping = FieldMapping("p", "F", R.DONT_SYNC)
    decision = reconcile(
        LinkState({"p": "old"}),
        HubSpotRecord({"p": "h"}, 1),
        SalesforceRecord({"F": "s"}, 2),
        [mapping],
        SETTINGS,
    )
    assert decision.bases == {"p": "old"} and not decision.notes


def test_decision_serialises_for_logs_and_the_demo() -> None:
    decision = one_field(R.TWO_WAY, "a", "h", "s", 1, 2)
    decoded = msgspec.json.decode(msgspec.json.encode(decision), type=Decision)
    assert decoded == decision
    assert decoded.notes[0].rule is R.TWO_WAY
