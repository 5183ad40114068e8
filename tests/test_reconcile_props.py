"""Hypothesis properties of the reconciler over random mappings, bases, values and wire formats:
idempotence, convergence, no echo, and no needless writes."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.canonical import (
    SalesforceValue,
    from_hubspot,
    from_salesforce,
    parse_timestamp_ms,
    to_hubspot,
    to_salesforce,
)
from engine.mapping import FieldKind, FieldMapping, SyncRule, ValueTable, us_state_values, validate_mappings
from engine.reconcile import (
    Action,
    Decision,
    HubSpotRecord,
    LinkState,
    ReconcileSettings,
    SalesforceRecord,
    reconcile,
)

K = FieldKind
SETTINGS = ReconcileSettings.of(["ann@example.com", "bob@example.com"])
LEAD_SOURCES = {"Web": "Web", "website": "Web", "Phone Inquiry": "Phone Inquiry", "phone": "Phone Inquiry"}
TABLES: dict[FieldKind, dict[str, str]] = {K.ENUMERATION: LEAD_SOURCES, K.STATE: us_state_values()}

# Few canonical values per kind, so that sides and bases often coincide.
POOLS: dict[FieldKind, list[str]] = {
    K.STRING: ["alpha", "Beta"],
    K.EMAIL: ["a@example.com", "b@example.org"],
    K.NUMBER: ["0", "1000", "2.5"],
    K.BOOLEAN: ["true", "false"],
    K.DATE: ["2024-01-05", "1999-12-31"],
    K.DATETIME: ["2024-01-05T10:00:00Z", "2024-01-05T23:59:59Z"],
    K.ENUMERATION: ["Web", "Phone Inquiry", "Other"],
    K.MULTI: ["a", "a;b", "b;c"],
    K.OWNER: ["ann@example.com", "bob@example.com", "zed@example.com"],  # zed has no SF user
    K.STATE: ["California", "Texas"],
    K.COUNTRY: ["United States", "Canada"],
}


def hubspot_forms(kind: FieldKind, value: str) -> list[str]:
    """Ways HubSpot may spell a canonical value."""
    table = ValueTable(TABLES[kind]) if kind in TABLES else None
    forms = [to_hubspot(kind, value, table), f" {value} "]
    match kind:
        case K.EMAIL | K.OWNER | K.BOOLEAN:
            forms.append(value.upper())
        case K.NUMBER:
            forms += [repr(float(value)), value + "e0"]
        case K.DATE:
            forms += [value, value + "T00:00:00.000Z"]
        case K.DATETIME:
            # HubSpot keeps milliseconds that Salesforce drops: the same second canonically.
            forms += [str(parse_timestamp_ms(value)), value[:-1] + ".456Z"]
        case K.MULTI:
            forms.append(";".join(reversed(value.split(";"))) + ";" + value.split(";")[0])
        case K.ENUMERATION | K.STATE:
            forms += [k.lower() for k, v in TABLES[kind].items() if v == value]
        case _:
            pass
    return forms


def salesforce_forms(kind: FieldKind, value: str) -> list[SalesforceValue]:
    """Ways Salesforce may return a canonical value."""
    forms: list[SalesforceValue] = [to_salesforce(kind, value)]
    match kind:
        case K.NUMBER:
            forms.append(float(value))
        case K.DATETIME:
            forms += [value, value[:-1] + "+00:00"]
        case K.MULTI:
            forms.append(";".join(reversed(value.split(";"))))
        case K.STRING:
            forms.append(value + " ")
        case K.EMAIL | K.OWNER:
            forms.append(value.upper())
        case _:
            pass
    return forms


@st.composite
def mappings(draw: st.DrawFn) -> list[FieldMapping]:
    out = []
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(list(FieldKind)))
        rule = draw(st.sampled_from(list(SyncRule)))
        formula = rule in (SyncRule.ALWAYS_SALESFORCE, SyncRule.DONT_SYNC) and draw(st.booleans())
        out.append(FieldMapping(f"p{i}", f"F{i}", rule, kind, formula, TABLES.get(kind, {})))
    return list(validate_mappings(out))


class World:
    """A random record pair for some mappings: bases, both sides' wire values and times."""

    def __init__(self, draw: st.DrawFn, fields: list[FieldMapping]) -> None:
        self.fields = fields
        create = draw(st.sampled_from(["none", "none", "none", "hubspot", "salesforce"]))
        bases: dict[str, str | None] = {}
        hs: dict[str, str | None] = {}
        sf: dict[str, SalesforceValue] = {}
        for m in fields:
            pool = POOLS[m.kind]
            base = draw(st.sampled_from(["absent", None, *pool]))
            if base != "absent" and create == "none":
                bases[m.key] = base
            h = draw(st.sampled_from([None, *pool]))
            hs[m.hubspot] = (
                draw(st.sampled_from(hubspot_forms(m.kind, h))) if h else draw(st.sampled_from([None, ""]))
            )
            s = draw(st.sampled_from([None, *pool]))
            if s is not None:
                sf[m.salesforce] = draw(st.sampled_from(salesforce_forms(m.kind, s)))
            elif draw(st.booleans()):
                sf[m.salesforce] = None
        self.link = LinkState(bases)
        self.hubspot = None if create == "hubspot" else HubSpotRecord(hs, draw(st.integers(0, 3)))
        self.salesforce = None if create == "salesforce" else SalesforceRecord(sf, draw(st.integers(0, 3)))

    def __repr__(self) -> str:
        return f"World({self.fields!r}, {self.link!r}, {self.hubspot!r}, {self.salesforce!r})"

    def decide(self) -> Decision:
        return reconcile(self.link, self.hubspot, self.salesforce, self.fields, SETTINGS)


def apply(
    world: World,
    decision: Decision,
    hs_form: Callable[[FieldMapping, str], str] | None = None,
    sf_form: Callable[[FieldMapping, SalesforceValue], SalesforceValue] | None = None,
    now: int = 10,
) -> tuple[HubSpotRecord, SalesforceRecord]:
    """The two records after the decision's writes, as the servers would report them: with
    ``*_form`` they spell the written values their own way, and they stamp the written side."""
    hs = dict(world.hubspot.values) if world.hubspot else {}
    sf = dict(world.salesforce.values) if world.salesforce else {}
    by_hs = {m.hubspot: m for m in world.fields}
    by_sf = {m.salesforce: m for m in world.fields}
    for name, value in decision.hubspot_writes.items():
        hs[name] = hs_form(by_hs[name], value) if hs_form else value
    for name, typed in decision.salesforce_writes.items():
        sf[name] = sf_form(by_sf[name], typed) if sf_form else typed
    hs_ms = now if decision.hubspot_writes or world.hubspot is None else world.hubspot.modified_ms
    sf_ms = now if decision.salesforce_writes or world.salesforce is None else world.salesforce.modified_ms
    return HubSpotRecord(hs, hs_ms), SalesforceRecord(sf, sf_ms)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    return World(draw, draw(mappings()))


PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(worlds(), st.integers(0, 20), st.integers(0, 20))
def test_idempotence(world: World, hs_ms: int, sf_ms: int) -> None:
    """Applying a decision and reconciling again, whatever the times, decides nothing more."""
    first = world.decide()
    hs, sf = apply(world, first)
    again = reconcile(
        LinkState(first.bases),
        HubSpotRecord(hs.values, hs_ms),
        SalesforceRecord(sf.values, sf_ms),
        world.fields,
        SETTINGS,
    )
    assert not again.has_writes, (first, again)
    assert again.bases == first.bases


@PROPS
@given(worlds())
def test_convergence(world: World) -> None:
    """After the writes both sides agree on every synced field, except where a rule keeps them
    apart on purpose: a blank authoritative side under always_*, or a held value."""
    first = world.decide()
    hs, sf = apply(world, first)
    held = {n.hubspot for n in first.notes if n.action in (Action.HELD, Action.ERROR)}
    for m in world.fields:
        rule = m.effective_rule
        h = from_hubspot(m.kind, hs.values.get(m.hubspot), m.table)
        s = from_salesforce(m.kind, sf.values.get(m.salesforce), m.table)
        if rule is SyncRule.DONT_SYNC or m.hubspot in held:
            continue
        if (rule is SyncRule.ALWAYS_SALESFORCE and s is None) or (
            rule is SyncRule.ALWAYS_HUBSPOT and h is None
        ):
            continue
        assert h == s, (m, h, s, first)
        assert first.bases.get(m.key, "absent") == h, (m, first.bases)


@PROPS
@given(worlds(), st.data())
def test_no_echo(world: World, data: st.DataObject) -> None:
    """Our own writes coming back, spelled the servers' way and stamped later, trigger nothing."""
    first = world.decide()

    def hs_form(m: FieldMapping, value: str) -> str:
        canonical = from_hubspot(m.kind, value, m.table)
        return data.draw(st.sampled_from(hubspot_forms(m.kind, canonical))) if canonical else ""

    def sf_form(m: FieldMapping, value: SalesforceValue) -> SalesforceValue:
        canonical = from_salesforce(m.kind, value, m.table)
        return data.draw(st.sampled_from(salesforce_forms(m.kind, canonical))) if canonical else None

    hs, sf = apply(world, first, hs_form, sf_form, now=data.draw(st.integers(0, 20)))
    echo = reconcile(LinkState(first.bases), hs, sf, world.fields, SETTINGS)
    assert not echo.has_writes, (first, echo)


@PROPS
@given(worlds())
def test_writes_only_what_differs(world: World) -> None:
    """No write sends a side the value it already holds (canonically), and every write is noted."""
    decision = world.decide()
    noted = {n.hubspot for n in decision.notes if n.action in (Action.TO_HUBSPOT, Action.TO_SALESFORCE)}
    for m in world.fields:
        if m.hubspot in decision.hubspot_writes:
            assert m.hubspot in noted or world.hubspot is None
            if world.hubspot is not None:
                before = from_hubspot(m.kind, world.hubspot.values.get(m.hubspot), m.table)
                assert from_hubspot(m.kind, decision.hubspot_writes[m.hubspot], m.table) != before
        if m.salesforce in decision.salesforce_writes:
            assert m.hubspot in noted or world.salesforce is None
            assert not m.formula and m.effective_rule is not SyncRule.DONT_SYNC
            if world.salesforce is not None:
                before = from_salesforce(m.kind, world.salesforce.values.get(m.salesforce), m.table)
                assert from_salesforce(m.kind, decision.salesforce_writes[m.salesforce], m.table) != before


@PROPS
@given(worlds())
def test_inputs_are_left_alone(world: World) -> None:
    """The reconciler is pure: it never changes the link or records it is given."""
    before = msgspec.json.encode([world.link, world.hubspot, world.salesforce])
    world.decide()
    assert msgspec.json.encode([world.link, world.hubspot, world.salesforce]) == before


@PROPS
@given(worlds())
def test_writes_go_only_where_the_rule_allows(world: World) -> None:
    """always_salesforce never writes Salesforce, always_hubspot never writes HubSpot, dont_sync and
    formula fields are never written, and an owner reaches Salesforce only with an active user."""
    decision = world.decide()
    for m in world.fields:
        rule = m.effective_rule
        if rule is SyncRule.DONT_SYNC:
            assert m.hubspot not in decision.hubspot_writes
        if rule in (SyncRule.DONT_SYNC, SyncRule.ALWAYS_SALESFORCE) or m.formula:
            assert m.salesforce not in decision.salesforce_writes
        if rule is SyncRule.ALWAYS_HUBSPOT:
            assert m.hubspot not in decision.hubspot_writes
        if m.kind is K.OWNER and m.salesforce in decision.salesforce_writes:
            assert decision.salesforce_writes[m.salesforce] in SETTINGS.active_owner_emails
