"""The field mapping checked against the mocks' live schemas at start (R-MAP-7, R-MAP-8, R-TRG-5)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import msgspec
import pytest

from engine.budget import Budget
from engine.cli import main
from engine.http import HttpClient, make_session
from engine.hubspot import HubSpotClient, HubSpotPolicy, Property
from engine.mapping import FieldKind, FieldMapping, MappingError, SyncRule
from engine.runtime import contact_mappings, sync_until_idle
from engine.salesforce import (
    Describe,
    FieldDescribe,
    PicklistValue,
    SalesforceClient,
    SalesforcePolicy,
)
from engine.schema_check import check_contact_mappings, check_mappings
from engine.settings import Settings
from engine.store import StateStore
from mockcrm.config import MockEndpoints
from mockcrm.server import running_mocks
from tests.conftest import mock_config
from tests.crms import Crms, engine_settings

Mappings = dict[str, tuple[FieldMapping, ...]]


@pytest.fixture
async def crms() -> AsyncIterator[Crms]:
    async with running_mocks(mock_config()) as (ep, _, _), aiohttp.ClientSession() as session:
        yield Crms(ep, session)


@asynccontextmanager
async def clients(ep: MockEndpoints, state: Path) -> AsyncIterator[tuple[HubSpotClient, SalesforceClient]]:
    """The engine's own connectors, as open_engine builds them."""
    async with await StateStore.open(state) as store:
        hs_budget = Budget("hubspot", 1000, store)
        sf_budget = Budget("salesforce", 1000, store)
        async with make_session(4) as hs_session, make_session(4, ep.ca_file) as sf_session:
            hs_http = HttpClient(
                "hubspot", ep.hubspot_url, ep.hubspot_token, hs_budget, hs_session, HubSpotPolicy()
            )
            sf_http = HttpClient(
                "salesforce",
                ep.salesforce_url,
                ep.salesforce_token,
                sf_budget,
                sf_session,
                SalesforcePolicy(),
            )
            yield HubSpotClient(hs_http), SalesforceClient(sf_http, "59.0")


async def check(
    crms: Crms, tmp_path: Path, fields: list[dict[str, Any]] | None = None, **contacts: Any
) -> Mappings:
    """The mapping open_engine would run with, for ``fields`` as in ``[[contacts.fields]]``."""
    if fields is not None:
        contacts["fields"] = msgspec.convert(fields, list[FieldMapping])
    settings = engine_settings(crms.ep, tmp_path / "state.db", **contacts)
    with anyio.fail_after(30):
        async with clients(crms.ep, tmp_path / "check.db") as (hubspot, salesforce):
            return await check_contact_mappings(
                hubspot,
                salesforce,
                contact_mappings(settings),
                external_id_field=settings.contacts.external_id_field,
            )


def by_hubspot(mappings: tuple[FieldMapping, ...]) -> dict[str, FieldMapping]:
    return {m.hubspot: m for m in mappings}


async def add_property(crms: Crms, name: str, type_: str, field_type: str, **extra: Any) -> None:
    body = {
        "name": name,
        "label": name,
        "type": type_,
        "fieldType": field_type,
        "groupName": "contactinformation",
    }
    await crms._hs_call("POST", "/crm/v3/properties/contacts", {**body, **extra})


async def add_formula(crms: Crms, name: str, expression: str, type_: str = "string") -> None:
    """A formula field on both Contact and Lead (one configured list serves both)."""
    body = {
        "formula_fields": [
            {"sobject": t, "name": name, "type": type_, "expression": expression} for t in ("Contact", "Lead")
        ]
    }
    async with crms.s.post(crms.ep.salesforce_url + "/__mock/rules", json=body, ssl=crms._ssl) as r:
        assert r.status == 200, await r.text()


async def test_default_mapping_passes_with_kinds_from_the_schemas(crms: Crms, tmp_path: Path) -> None:
    checked = await check(crms, tmp_path)
    contact, lead = by_hubspot(checked["Contact"]), by_hubspot(checked["Lead"])
    assert {h: m.kind for h, m in contact.items()} == {
        "email": FieldKind.EMAIL,
        "firstname": FieldKind.STRING,
        "lastname": FieldKind.STRING,
        "phone": FieldKind.STRING,
        "mobilephone": FieldKind.STRING,
        "jobtitle": FieldKind.STRING,
        "address": FieldKind.STRING,
        "city": FieldKind.STRING,
        "state": FieldKind.STATE,
        "zip": FieldKind.STRING,
        "country": FieldKind.COUNTRY,
        "leadsource": FieldKind.ENUMERATION,  # a built-in pair outside R-MAP-7's table keeps its kind
        "hubspot_owner_id": FieldKind.OWNER,
    }
    assert (lead["company"].salesforce, lead["address"].salesforce) == ("Company", "Street")
    assert not any(m.formula for ms in checked.values() for m in ms)


async def test_configured_mappings_take_their_kind_and_spelling_from_the_schemas(
    crms: Crms, tmp_path: Path
) -> None:
    await add_property(crms, "do_not_call", "bool", "booleancheckbox", options=[
        {"label": "Yes", "value": "true"}, {"label": "No", "value": "false"}
    ])  # fmt: skip
    await add_property(crms, "birthday", "date", "date")
    fields = [
        {"hubspot": "do_not_call", "salesforce": "donotcall"},  # no kind given; Salesforce's case is loose
        {"hubspot": "birthday", "salesforce": "Birthdate", "kind": "datetime"},
        {"hubspot": "hubspot_owner_id", "salesforce": "OwnerId"},  # no kind given: still the owner mapping
        {"hubspot": "jobtitle", "salesforce": "Title", "kind": "number"},
    ]
    contact = by_hubspot((await check(crms, tmp_path, fields))["Contact"])
    assert contact["do_not_call"].kind is FieldKind.BOOLEAN
    assert contact["do_not_call"].salesforce == "DoNotCall"  # records come back keyed so
    assert contact["birthday"].kind is FieldKind.DATE
    assert contact["hubspot_owner_id"].kind is FieldKind.OWNER
    assert contact["jobtitle"].kind is FieldKind.STRING


async def test_a_field_only_one_object_has_maps_on_that_one_only(crms: Crms, tmp_path: Path) -> None:
    fields = [
        {"hubspot": "address", "salesforce": "MailingStreet"},
        {"hubspot": "company", "salesforce": "Company"},
    ]
    checked = await check(crms, tmp_path, fields)
    assert [m.hubspot for m in checked["Contact"]] == ["email", "address"]
    assert [m.hubspot for m in checked["Lead"]] == ["email", "company"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([{"hubspot": "jobtitle", "salesforce": "Titel"}], "no such Salesforce field 'Titel' on Contact"),
        (
            [{"hubspot": "job_title", "salesforce": "Title"}],
            "no such HubSpot property 'job_title' on contacts",
        ),
        (
            [{"hubspot": "message", "salesforce": "Title"}],  # multi-line text → single-line text field
            "a HubSpot 'textarea' property cannot be mapped to a Salesforce 'string' field",
        ),
        (
            [{"hubspot": "hubspot_owner_id", "salesforce": "Title", "rule": "two_way"}],
            "an owner mapping pairs HubSpot's 'hubspot_owner_id' with a Salesforce lookup to User",
        ),
        (
            [{"hubspot": "createdate", "salesforce": "Birthdate"}],  # prefer_salesforce writes HubSpot
            "HubSpot property 'createdate' is read-only",
        ),
        (
            [
                {"hubspot": "jobtitle", "salesforce": "title"},
                {"hubspot": "salutation", "salesforce": "Title"},
            ],
            "Salesforce field 'Title' is already mapped to 'jobtitle'",
        ),
        (
            [{"hubspot": "salutation", "salesforce": "HubSpot_Id__c", "rule": "always_hubspot"}],
            "'HubSpot_Id__c' is crmsync's external id field",
        ),
    ],
)
async def test_bad_mappings_are_refused_naming_them(
    crms: Crms, tmp_path: Path, fields: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(MappingError, match=rf"^mapping '[^']*'( \(\w+\))?: .*{re.escape(message)}"):
        await check(crms, tmp_path, fields)


async def test_an_incompatible_pair_names_both_types(crms: Crms, tmp_path: Path) -> None:
    await add_property(crms, "score", "number", "number")
    with pytest.raises(MappingError) as caught:
        await check(crms, tmp_path, [{"hubspot": "score", "salesforce": "DoNotCall"}])
    assert str(caught.value) == (
        "mapping 'score ↔ DoNotCall' (Contact): a HubSpot 'number' property cannot be mapped to a "
        "Salesforce 'boolean' field (R-MAP-7)"
    )


async def test_read_only_fields_are_fine_for_rules_that_never_write_them(crms: Crms, tmp_path: Path) -> None:
    await add_property(crms, "sf_created", "datetime", "date")
    fields = [
        {"hubspot": "createdate", "salesforce": "Birthdate", "rule": "always_hubspot"},
        {"hubspot": "sf_created", "salesforce": "CreatedDate", "rule": "always_salesforce"},
    ]
    contact = by_hubspot((await check(crms, tmp_path, fields))["Contact"])
    assert contact["createdate"].kind is FieldKind.DATE
    assert contact["sf_created"].kind is FieldKind.DATETIME
    with pytest.raises(MappingError, match="Salesforce field 'CreatedDate' is read-only"):
        await check(
            crms, tmp_path, [{"hubspot": "sf_created", "salesforce": "CreatedDate", "rule": "two_way"}]
        )


async def test_the_external_id_field_must_exist(crms: Crms, tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="external id field 'Hub_Id__c': no such field on Contact"):
        await check(crms, tmp_path, external_id_field="Hub_Id__c")
    with pytest.raises(MappingError, match="spell it 'HubSpot_Id__c', as Contact does"):
        await check(crms, tmp_path, external_id_field="hubspot_id__c")


async def test_formula_fields_are_detected_and_only_flow_to_hubspot(crms: Crms, tmp_path: Path) -> None:
    await add_formula(crms, "Greeting__c", '"Dear " & LastName')
    await add_property(crms, "greeting", "string", "text")
    fields = [{"hubspot": "greeting", "salesforce": "Greeting__c", "rule": "always_salesforce"}]
    checked = await check(crms, tmp_path, fields)
    assert all(by_hubspot(ms)["greeting"].formula for ms in checked.values())
    for rule in ("two_way", "prefer_salesforce_unless_blank", "always_hubspot"):
        with pytest.raises(MappingError, match="'Greeting__c' is a formula field"):
            await check(crms, tmp_path, [{**fields[0], "rule": rule}])


def test_a_translation_outside_a_restricted_picklist_is_refused() -> None:
    field = FieldDescribe(
        name="Rating",
        type="picklist",
        picklistValues=[PicklistValue("Hot"), PicklistValue("Cold")],
        restrictedPicklist=True,
    )
    describe = Describe(name="Lead", fields=[field])
    prop = Property(name="temperature", type="enumeration", fieldType="select")
    good = FieldMapping("temperature", "Rating", values={"warm": "Hot", "cool": "Cold"})
    checked = check_mappings(describe, [good], {"temperature": prop}, {}, object_label="contacts")
    assert checked[0].kind is FieldKind.ENUMERATION
    bad = FieldMapping("temperature", "Rating", values={"warm": "Warm"})
    with pytest.raises(MappingError, match="'Warm' not in the restricted picklist 'Rating'"):
        check_mappings(describe, [bad], {"temperature": prop}, {}, object_label="contacts")


FORMULA_FIELDS = [
    {"hubspot": "lastname", "salesforce": "LastName", "rule": "two_way"},
    {"hubspot": "greeting", "salesforce": "Greeting__c", "rule": "always_salesforce"},
]


async def formula_setup(crms: Crms, tmp_path: Path) -> Settings:
    await add_formula(crms, "Greeting__c", '"Dear " & LastName')
    await add_property(crms, "greeting", "string", "text")
    fields = msgspec.convert(FORMULA_FIELDS, list[FieldMapping])
    settings = engine_settings(crms.ep, tmp_path / "state.db", fields=fields)
    await sync(settings)
    return settings


def test_a_hubspot_calculation_property_maps_as_a_number_and_is_never_written() -> None:
    describe = Describe(name="Contact", fields=[FieldDescribe(name="Score__c", type="double")])
    prop = Property(name="score", type="number", fieldType="calculation_equation", calculated=True)
    mapping = FieldMapping("score", "Score__c", SyncRule.ALWAYS_HUBSPOT)
    (checked,) = check_mappings(describe, [mapping], {"score": prop}, {}, object_label="contacts")
    assert checked.kind is FieldKind.NUMBER
    for rule in (SyncRule.TWO_WAY, SyncRule.PREFER_SALESFORCE_UNLESS_BLANK):
        with pytest.raises(MappingError, match="HubSpot property 'score' is read-only"):
            check_mappings(
                describe, [FieldMapping("score", "Score__c", rule)], {"score": prop}, {}, object_label="x"
            )


async def test_formula_field_flows_to_hubspot_and_is_never_written(crms: Crms, tmp_path: Path) -> None:
    settings = await formula_setup(crms, tmp_path)
    sf_id = await crms.sf_create("Contact", LastName="Hopper", Email="grace@navy.mil")
    created = await sync(settings)
    (hs,) = await crms.hs_all()
    assert hs["properties"]["greeting"] == "Dear Hopper"
    assert created.created.hubspot == 1

    # A HubSpot edit to the formula's property is never pushed (the field cannot be written): the
    # Salesforce value is put back.
    await crms.hs_update(hs["id"], greeting="Hi there")
    await sync(settings)
    assert (await crms.hs_get(hs["id"], "greeting"))["greeting"] == "Dear Hopper"

    # R-TRG-5 (b): an edit to a field the formula reads syncs the record, recalculated value included.
    await crms.sf_update("Contact", sf_id, LastName="Murray")
    await sync(settings)
    got = await crms.hs_get(hs["id"], "greeting", "lastname")
    assert (got["greeting"], got["lastname"]) == ("Dear Murray", "Murray")

    # The mock refuses any write to a formula field (INVALID_FIELD_FOR_INSERT_UPDATE), which would
    # have left a sync error behind.
    assert await sync_errors(tmp_path / "state.db") == []


async def test_formula_recalculated_by_a_hubspot_edit_comes_back(crms: Crms, tmp_path: Path) -> None:
    settings = await formula_setup(crms, tmp_path)
    await crms.sf_create("Contact", LastName="Hopper", Email="grace@navy.mil")
    await sync(settings)
    (hs,) = await crms.hs_all()
    await crms.hs_update(hs["id"], lastname="Murray")
    await sync(settings)
    assert (await crms.hs_get(hs["id"], "greeting"))["greeting"] == "Dear Murray"


async def test_a_bad_mapping_stops_the_run_before_anything_syncs(crms: Crms, tmp_path: Path) -> None:
    fields = [{"hubspot": "jobtitle", "salesforce": "Titel"}]
    settings = engine_settings(
        crms.ep, tmp_path / "state.db", fields=msgspec.convert(fields, list[FieldMapping])
    )
    with pytest.raises(MappingError, match="no such Salesforce field 'Titel' on Contact"):
        await sync(settings)


def test_cli_exits_2_naming_the_bad_mapping(
    threaded_mocks: MockEndpoints, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ep = threaded_mocks
    config = tmp_path / "crmsync.toml"
    config.write_text(
        f"""
[hubspot]
base_url = "{ep.hubspot_url}"
token = "{ep.hubspot_token}"
[salesforce]
instance_url = "{ep.salesforce_url}"
token = "{ep.salesforce_token}"
ca_file = "{ep.ca_file}"
[state]
path = "{tmp_path / "state.db"}"
[[contacts.fields]]
hubspot = "jobtitle"
salesforce = "Titel"
"""
    )
    assert main(["run", "--until-idle", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert (
        "config error: mapping 'jobtitle ↔ Titel' (Contact): no such Salesforce field 'Titel' on Contact"
        in err
    )


async def sync(settings: Settings) -> Any:
    with anyio.fail_after(60):
        return await sync_until_idle(settings)


async def sync_errors(path: Path) -> list[str]:
    async with await StateStore.open(path) as store:
        return [f"{e.record_id}: {e.error_type}: {e.message}" for e in await store.sync_errors()]
