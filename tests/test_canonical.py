"""Canonical values (SPEC §3.2): each side's formats reduce to one form, and every canonical value
survives the trip to each side's wire form and back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from random import Random

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from engine.canonical import (
    SELF_CANONICAL,
    CanonicalError,
    SalesforceValue,
    from_hubspot,
    from_salesforce,
    parse_timestamp_ms,
    to_hubspot,
    to_salesforce,
)
from engine.mapping import FieldKind, ValueTable, us_state_values

K = FieldKind
STATES = us_state_values()
LEAD_SOURCES = {"Web": "Web", "website": "Web", "Phone Inquiry": "Phone Inquiry", "phone": "Phone Inquiry"}
STATE_TABLE = ValueTable(STATES)
SOURCE_TABLE = ValueTable(LEAD_SOURCES)

SAME = [
    # kind, HubSpot wire value, Salesforce wire value, canonical
    (K.STRING, "  Ann Lee ", "Ann Lee", "Ann Lee"),
    (K.STRING, "line 1\r\nline 2", "line 1\nline 2", "line 1\nline 2"),
    (K.EMAIL, "ann@example.com", "Ann@Example.COM", "ann@example.com"),
    (K.OWNER, " Ann@Example.com", "ann@example.com", "ann@example.com"),
    (K.NUMBER, "1000", 1000.0, "1000"),
    (K.NUMBER, "1000.50", 1000.5, "1000.5"),
    (K.NUMBER, "1e3", 1000, "1000"),
    (K.NUMBER, "-0", 0, "0"),
    (K.NUMBER, "0.1", 0.1, "0.1"),
    (K.BOOLEAN, "true", True, "true"),
    (K.BOOLEAN, "FALSE", False, "false"),
    (K.DATE, "1704412800000", "2024-01-05", "2024-01-05"),
    (K.DATE, "2024-01-05", "2024-01-05", "2024-01-05"),
    (K.DATE, "2024-01-05T00:00:00.000Z", "2024-01-05T10:00:00.000+0000", "2024-01-05"),
    (K.DATETIME, "2024-01-05T10:00:00.000Z", "2024-01-05T10:00:00.000+0000", "2024-01-05T10:00:00Z"),
    (K.DATETIME, "1704448800000", "2024-01-05T11:00:00.000+0100", "2024-01-05T10:00:00Z"),
    (K.DATETIME, "2024-01-05T10:00:00.999Z", "2024-01-05T10:00:00+00:00", "2024-01-05T10:00:00Z"),
    (K.MULTI, "b;a;;a", "a;b", "a;b"),
    (K.MULTI, " c ; a", "a;c", "a;c"),
    (K.ENUMERATION, "Customer", "Customer", "Customer"),
]


@pytest.mark.parametrize(
    ("kind", "hs", "sf", "canonical"), SAME, ids=[f"{k.value}:{h}" for k, h, _, _ in SAME]
)
def test_both_sides_reduce_to_one_form(kind: FieldKind, hs: str, sf: SalesforceValue, canonical: str) -> None:
    assert from_hubspot(kind, hs) == canonical
    assert from_salesforce(kind, sf) == canonical


@pytest.mark.parametrize("kind", list(FieldKind))
def test_blank_is_none_but_zero_and_false_are_values(kind: FieldKind) -> None:
    for blank in (None, "", "   "):
        assert from_hubspot(kind, blank) is None
        assert from_salesforce(kind, blank) is None
    assert to_hubspot(kind, None) == ""
    assert to_salesforce(kind, None) is None
    assert from_salesforce(K.NUMBER, 0) == "0"
    assert from_salesforce(K.BOOLEAN, False) == "false"
    assert from_hubspot(K.NUMBER, "0") == "0"


def test_translation_tables_are_case_insensitive_and_go_back_as_first_key() -> None:
    assert from_hubspot(K.STATE, "ca", STATE_TABLE) == "California"
    assert from_hubspot(K.STATE, "California", STATE_TABLE) == "California"
    assert to_hubspot(K.STATE, "California", STATE_TABLE) == "California"
    assert from_hubspot(K.ENUMERATION, "WEBSITE", SOURCE_TABLE) == "Web"
    assert to_hubspot(K.ENUMERATION, "Phone Inquiry", SOURCE_TABLE) == "Phone Inquiry"
    assert from_hubspot(K.ENUMERATION, "Trade Show", SOURCE_TABLE) == "Trade Show"  # unknown: as is
    assert from_hubspot(K.MULTI, "phone;website;Web", SOURCE_TABLE) == "Phone Inquiry;Web"


def test_wire_forms() -> None:
    assert to_hubspot(K.DATE, "2024-01-05") == "1704412800000"  # HubSpot's midnight-UTC epoch ms
    assert to_salesforce(K.DATE, "2024-01-05") == "2024-01-05"
    assert to_hubspot(K.DATETIME, "2024-01-05T10:00:00Z") == "2024-01-05T10:00:00.000Z"
    assert to_salesforce(K.DATETIME, "2024-01-05T10:00:00Z") == "2024-01-05T10:00:00.000+0000"
    assert to_salesforce(K.NUMBER, "1000") == 1000
    assert isinstance(to_salesforce(K.NUMBER, "1000"), int)
    assert to_salesforce(K.NUMBER, "2.5") == 2.5
    assert to_salesforce(K.BOOLEAN, "false") is False
    assert to_hubspot(K.BOOLEAN, "true") == "true"


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (K.NUMBER, "lots"),
        (K.NUMBER, "nan"),
        (K.NUMBER, "1e999"),
        (K.BOOLEAN, "maybe"),
        (K.DATE, "2024-13-45"),
        (K.DATE, "tomorrow"),
        (K.DATETIME, "10 o'clock"),
        (K.DATETIME, "99999999999999999999"),
    ],
)
def test_unreadable_values_raise(kind: FieldKind, raw: str) -> None:
    with pytest.raises(CanonicalError):
        from_hubspot(kind, raw)


def test_typed_salesforce_values_must_fit_the_kind() -> None:
    with pytest.raises(CanonicalError):
        from_salesforce(K.DATE, True)
    with pytest.raises(CanonicalError):
        from_salesforce(K.EMAIL, 5)
    with pytest.raises(CanonicalError):
        from_salesforce(K.BOOLEAN, 1)
    with pytest.raises(CanonicalError):
        from_salesforce(K.NUMBER, float("inf"))
    with pytest.raises(CanonicalError):
        from_hubspot(K.STRING, 5)  # type: ignore[arg-type]


def test_string_mappings_take_typed_salesforce_values() -> None:
    # A mapping configured without a kind is a string mapping, whatever Salesforce's field type.
    assert from_salesforce(K.STRING, 250.0) == from_hubspot(K.STRING, "250") == "250"
    assert from_salesforce(K.STRING, False) == from_hubspot(K.STRING, "false") == "false"


def test_parse_timestamp_ms() -> None:
    assert parse_timestamp_ms("2024-01-05T10:00:00.123Z") == 1704448800123
    assert parse_timestamp_ms("2024-01-05T10:00:00.123+0000") == 1704448800123
    assert parse_timestamp_ms("1704448800123") == 1704448800123
    # Before 1970 the milliseconds floor too, so the moment never moves to the next second.
    assert parse_timestamp_ms("1969-12-31T23:59:59.999Z") == -1
    assert from_hubspot(K.DATETIME, "-1") == "1969-12-31T23:59:59Z"


# --- round trips, per kind -----------------------------------------------------------------------


def _epoch_ms(moment: datetime) -> int:
    # Floored, as the CRMs' clocks do; ``int(timestamp() * 1000)`` truncates toward zero before 1970.
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


moments = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))
text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
words = st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=8)

RAW: dict[FieldKind, st.SearchStrategy[str]] = {
    K.STRING: text,
    K.EMAIL: st.emails(),
    K.OWNER: st.emails(),
    K.NUMBER: st.one_of(
        st.integers(-(10**20), 10**20).map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
    ),
    K.BOOLEAN: st.sampled_from(["true", "false", "True", "FALSE", "1", "0", "yes", "no"]),
    K.DATE: st.one_of(
        st.dates(date(1900, 1, 1), date(2200, 1, 1)).map(date.isoformat),
        moments.map(lambda m: str(_epoch_ms(m))),
    ),
    K.DATETIME: st.one_of(
        moments.map(lambda m: m.isoformat(timespec="milliseconds").replace("+00:00", "Z")),
        moments.map(lambda m: str(_epoch_ms(m))),
    ),
    K.ENUMERATION: st.one_of(words, st.sampled_from(list(LEAD_SOURCES))),
    K.MULTI: st.lists(st.one_of(words, st.sampled_from(list(LEAD_SOURCES))), max_size=5).map(";".join),
    K.STATE: st.one_of(words, st.sampled_from(list(STATES))),
    K.COUNTRY: words,
}
TABLES = {K.ENUMERATION: SOURCE_TABLE, K.MULTI: SOURCE_TABLE, K.STATE: STATE_TABLE}


@pytest.mark.parametrize("kind", list(FieldKind))
def test_every_kind_has_a_strategy(kind: FieldKind) -> None:
    assert kind in RAW


@st.composite
def kind_and_raw(draw: st.DrawFn) -> tuple[FieldKind, str]:
    kind = draw(st.sampled_from(list(FieldKind)))
    return kind, draw(RAW[kind])


@given(kind_and_raw())
def test_round_trips_through_both_sides(case: tuple[FieldKind, str]) -> None:
    kind, raw = case
    values = TABLES.get(kind)
    canonical = from_hubspot(kind, raw, values)
    # Canonical is a fixed point...
    assert from_hubspot(kind, canonical, values) == canonical
    # ...and survives HubSpot's string form and Salesforce's typed form.
    assert from_hubspot(kind, to_hubspot(kind, canonical, values), values) == canonical
    assert from_salesforce(kind, to_salesforce(kind, canonical), values) == canonical
    # Through JSON too: Salesforce numbers come back as doubles.
    wire = to_salesforce(kind, canonical)
    if isinstance(wire, int) and not isinstance(wire, bool):
        assert from_salesforce(kind, float(wire), values) == canonical


@given(moments, st.integers(-14 * 60, 14 * 60))
@example(datetime(1969, 1, 1, 0, 0, 0, 999001, tzinfo=UTC), 0)  # a CI failure: truncation before 1970
def test_datetime_offsets_are_the_same_moment(moment: datetime, offset_min: int) -> None:
    local = moment.astimezone(timezone(timedelta(minutes=offset_min)))
    sf = local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")
    hs = str(_epoch_ms(moment))
    assert from_salesforce(K.DATETIME, sf) == from_hubspot(K.DATETIME, hs)


@given(st.lists(words, min_size=1, max_size=6), st.randoms())
def test_multi_select_order_and_duplicates_do_not_matter(items: list[str], rnd: Random) -> None:
    shuffled = list(items) + items[:1]
    rnd.shuffle(shuffled)
    assert from_hubspot(K.MULTI, ";".join(items)) == from_salesforce(K.MULTI, " ; ".join(shuffled))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_agree_between_string_and_double(number: float) -> None:
    assert from_hubspot(K.NUMBER, repr(number)) == from_salesforce(K.NUMBER, number)
    assert from_hubspot(K.NUMBER, f"{number:.17g}") == from_salesforce(K.NUMBER, number)


@given(st.sampled_from(sorted(SELF_CANONICAL, key=lambda k: k.value)), st.text(max_size=20))
@example(FieldKind.STRING, " a\r\nb ")
@example(FieldKind.EMAIL, " A@X.io")
def test_self_canonical_values_read_as_themselves(kind: FieldKind, raw: str) -> None:
    """What the echo checks rely on: once canonical, a value of these kinds (no table) converts
    to itself from either side."""
    canonical = from_hubspot(kind, raw)
    if canonical is None:
        return
    assert from_hubspot(kind, canonical) == canonical
    assert from_salesforce(kind, canonical) == canonical
