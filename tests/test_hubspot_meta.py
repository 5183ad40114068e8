"""Properties, custom object schemas, owners, associations v4 and OAuth through the official client."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiArchive,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
)
from hubspot.crm.contacts import SimplePublicObjectInputForCreate
from hubspot.crm.owners import ApiException as OwnersApiException
from hubspot.crm.properties import PropertyCreate
from hubspot.oauth import ApiException as OAuthApiException

from mockcrm.config import MockEndpoints
from tests.test_hubspot_support import call, client, hubspot_mocks, reset, watchdog

__all__ = ["watchdog"]


@pytest.fixture(scope="module")
def hs() -> Iterator[MockEndpoints]:
    with hubspot_mocks() as endpoints:
        yield endpoints


@pytest.fixture(autouse=True)
def fresh(hs: MockEndpoints) -> None:
    reset(hs)


def test_properties_list_get_create_and_unique_id_property(hs: MockEndpoints) -> None:
    api = client(hs).crm.properties.core_api
    listed = {p.name: p for p in api.get_all("contacts").results}
    for name in ("email", "firstname", "salesforcecontactid", "salesforceleadid", "lastmodifieddate"):
        assert name in listed
    assert listed["salesforcecontactid"].has_unique_value is True
    assert listed["lastmodifieddate"].modification_metadata.read_only_value is True
    stage = api.get_by_name("contacts", "lifecyclestage")
    assert stage.type == "enumeration" and "customer" in {o.value for o in stage.options}
    made = api.create("companies", PropertyCreate(
        name="erp_code", label="ERP code", type="string", field_type="text", group_name="companyinformation",
        has_unique_value=True,
    ))  # fmt: skip
    assert made.name == "erp_code" and made.has_unique_value is True and made.hubspot_defined is False
    status, _, _ = call(
        hs, "POST", "/crm/v3/objects/companies", {"properties": {"name": "E", "erp_code": "E-1"}}
    )
    assert status == 201
    status, got, _ = call(hs, "GET", "/crm/v3/objects/companies/E-1?idProperty=erp_code&properties=erp_code")
    assert status == 200 and got["properties"]["erp_code"] == "E-1"
    status, err, _ = call(
        hs, "POST", "/crm/v3/objects/companies", {"properties": {"name": "F", "erp_code": "E-1"}}
    )
    assert status == 409 and err["category"] == "CONFLICT"
    status, err, _ = call(
        hs,
        "POST",
        "/crm/v3/properties/companies",
        {
            "name": "erp_code",
            "label": "x",
            "type": "string",
            "fieldType": "text",
            "groupName": "companyinformation",
        },
    )
    assert status == 409
    status, err, _ = call(hs, "GET", "/crm/v3/properties/companies/nope")
    assert status == 404 and err["category"] == "OBJECT_NOT_FOUND"


def test_enumeration_property_validates_options(hs: MockEndpoints) -> None:
    body = {
        "name": "tier",
        "label": "Tier",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "g",
        "options": [{"label": "Gold", "value": "gold"}, {"label": "Silver", "value": "silver"}],
    }
    assert call(hs, "POST", "/crm/v3/properties/deals", body)[0] == 201
    assert (
        call(hs, "POST", "/crm/v3/objects/deals", {"properties": {"dealname": "d", "tier": "gold"}})[0] == 201
    )
    status, err, _ = call(
        hs, "POST", "/crm/v3/objects/deals", {"properties": {"dealname": "d", "tier": "bronze"}}
    )
    assert status == 400 and err["errors"][0]["code"] == "INVALID_OPTION"


def test_custom_object_schema_and_records(hs: MockEndpoints) -> None:
    schema = {
        "name": "cars",
        "labels": {"singular": "Car", "plural": "Cars"},
        "primaryDisplayProperty": "model",
        "requiredProperties": ["model"],
        "properties": [
            {"name": "model", "label": "Model", "type": "string", "fieldType": "text", "groupName": "cars"}
        ],
    }
    status, made, _ = call(hs, "POST", "/crm/v3/schemas", schema)
    assert status == 201 and made["objectTypeId"].startswith("2-")
    for spelling in ("cars", made["objectTypeId"], made["fullyQualifiedName"]):
        status, rec, _ = call(hs, "POST", f"/crm/v3/objects/{spelling}", {"properties": {"model": "T"}})
        assert status == 201 and rec["properties"]["hs_lastmodifieddate"] == rec["updatedAt"]
    status, err, _ = call(hs, "POST", "/crm/v3/objects/cars", {"properties": {}})
    assert status == 400 and err["errors"][0]["code"] == "REQUIRED_PROPERTY"
    status, seeded, _ = call(hs, "POST", "/__mock/seed", {"object_type": "cars", "count": 3, "seed": 1})
    assert status == 200 and seeded["created"] == 3
    status, stats, _ = call(hs, "GET", "/__mock/stats")
    assert stats["records"]["cars"] == 6


def test_owners(hs: MockEndpoints) -> None:
    api = client(hs).crm.owners
    owners = api.get_all()
    assert len(owners) >= 3 and all(o.email and o.user_id and o.archived is False for o in owners)
    first = owners[0]
    assert api.owners_api.get_by_id(int(first.id)).email == first.email
    assert [o.id for o in api.owners_api.get_page(email=first.email).results] == [first.id]
    with pytest.raises(OwnersApiException) as err:
        api.owners_api.get_by_id(1)
    assert err.value.status == 404
    status, added, _ = call(
        hs, "POST", "/__mock/owners", {"email": "new.rep@example.com", "firstName": "New"}
    )
    assert status == 201
    made = client(hs).crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"email": "o@example.com", "hubspot_owner_id": added["id"]}
        )
    )
    assert made.properties["hubspot_owner_id"] == added["id"]
    options = client(hs).crm.properties.core_api.get_by_name("contacts", "hubspot_owner_id").options
    assert added["id"] in {o.value for o in options} and first.id in {o.value for o in options}
    status, err, _ = call(hs, "POST", "/crm/v3/objects/contacts", {"properties": {"hubspot_owner_id": "123"}})
    assert status == 400 and err["errors"][0]["code"] == "INVALID_OPTION"


def _make(hs: MockEndpoints, otype: str, props: dict[str, str]) -> str:
    status, rec, _ = call(hs, "POST", f"/crm/v3/objects/{otype}", {"properties": props})
    assert status == 201
    return str(rec["id"])


def test_associations_v4(hs: MockEndpoints) -> None:
    api = client(hs).crm.associations.v4
    contact = _make(hs, "contacts", {"email": "a@example.com"})
    company = _make(hs, "companies", {"name": "Co"})
    deals = [_make(hs, "deals", {"dealname": f"D{i}"}) for i in range(3)]
    made = api.basic_api.create_default("contacts", contact, "companies", company)
    assert made.results[0].association_spec.association_type_id == 279
    labelled = api.basic_api.create(
        "contacts", contact, "companies", company,
        [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)],
    )  # fmt: skip
    assert labelled.labels == ["Primary"]
    page = api.basic_api.get_page("companies", company, "contacts")
    assert [r.to_object_id for r in page.results] == [contact]
    assert sorted(t.type_id for t in page.results[0].association_types) == [2, 280]
    batch = api.batch_api.create("deals", "contacts", BatchInputPublicAssociationMultiPost(inputs=[
        {"from": {"id": d}, "to": {"id": contact},
         "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}]} for d in deals
    ]))  # fmt: skip
    assert len(batch.results) == 3
    read = api.batch_api.get_page("contacts", "deals", BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[{"id": contact}]))  # fmt: skip
    assert sorted(t.to_object_id for t in read.results[0].to) == sorted(deals)
    api.batch_api.archive("contacts", "deals", BatchInputPublicAssociationMultiArchive(
        inputs=[{"from": {"id": contact}, "to": [{"id": deals[0]}]}]))  # fmt: skip
    api.basic_api.archive("deals", deals[1], "contacts", contact)
    left = api.basic_api.get_page("contacts", contact, "deals")
    assert [r.to_object_id for r in left.results] == [deals[2]]
    status, got, _ = call(hs, "GET", f"/crm/v3/objects/contacts/{contact}?associations=deals,companies")
    assert got["associations"]["deals"]["results"] == [{"id": deals[2], "type": "contact_to_deal_unlabeled"}]
    bad = [
        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}
    ]  # deal->contact, not contact->deal
    status, err, _ = call(hs, "PUT", f"/crm/v4/objects/contacts/{contact}/associations/deals/{deals[2]}", bad)
    assert status == 400 and err["category"] == "VALIDATION_ERROR"


def test_create_with_associations(hs: MockEndpoints) -> None:
    company = _make(hs, "companies", {"name": "Co"})
    body = {
        "properties": {"dealname": "With co"},
        "associations": [
            {
                "to": {"id": company},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 341}],
            }
        ],
    }
    status, deal, _ = call(hs, "POST", "/crm/v3/objects/deals", body)
    assert status == 201
    status, out, _ = call(hs, "GET", f"/crm/v4/objects/companies/{company}/associations/deals")
    assert [r["toObjectId"] for r in out["results"]] == [int(deal["id"])]
    body["associations"][0]["to"] = {"id": "424242"}  # type: ignore[index]
    assert call(hs, "POST", "/crm/v3/objects/deals", body)[0] == 400


def test_oauth_refresh_then_bearer_then_expiry(hs: MockEndpoints) -> None:
    tokens = client(hs).oauth.tokens_api.create(
        grant_type="refresh_token", client_id="cid", client_secret="secret", refresh_token="na1-refresh"
    )
    assert (
        tokens.expires_in == 1800 and tokens.refresh_token == "na1-refresh" and tokens.token_type == "bearer"
    )
    page = client(hs, token=tokens.access_token).crm.contacts.basic_api.get_page()
    assert page.results == []
    status, _, headers = call(hs, "GET", "/crm/v3/objects/contacts", token=tokens.access_token)
    assert status == 200 and "X-HubSpot-RateLimit-Daily" not in headers  # OAuth calls omit the Daily pair
    assert call(hs, "POST", "/__mock/clock", {"advance_s": 1801})[0] == 200
    status, err, _ = call(hs, "GET", "/crm/v3/objects/contacts", token=tokens.access_token)
    assert status == 401 and err["category"] == "EXPIRED_AUTHENTICATION"
    status, _, _ = call(hs, "POST", "/oauth/v1/token", raw=b"grant_type=password")
    assert status == 400


def test_oauth_bad_grant_shape(hs: MockEndpoints) -> None:
    with pytest.raises(OAuthApiException) as err:
        client(hs).oauth.tokens_api.create(grant_type="refresh_token", client_id="cid", client_secret="s")
    body = json.loads(err.value.body)
    assert err.value.status == 400 and body["status"] == "BAD_REFRESH_TOKEN"


def test_property_update_and_archive(hs: MockEndpoints) -> None:
    body = {"name": "tier", "label": "Tier", "type": "enumeration", "fieldType": "select", "groupName": "g",
            "options": [{"label": "Gold", "value": "gold"}]}  # fmt: skip
    assert call(hs, "POST", "/crm/v3/properties/companies", body)[0] == 201
    patch = {
        "label": "Customer tier",
        "options": [{"label": "Gold", "value": "gold"}, {"label": "Tin", "value": "tin"}],
    }
    status, prop, _ = call(hs, "PATCH", "/crm/v3/properties/companies/tier", patch)
    assert (
        status == 200
        and prop["label"] == "Customer tier"
        and [o["value"] for o in prop["options"]] == ["gold", "tin"]
    )
    assert call(hs, "POST", "/crm/v3/objects/companies", {"properties": {"tier": "tin"}})[0] == 201
    assert (
        call(hs, "PATCH", "/crm/v3/properties/companies/name", {"options": []})[0] == 400
    )  # HubSpot-defined
    assert call(hs, "DELETE", "/crm/v3/properties/companies/tier")[0] == 204
    assert call(hs, "GET", "/crm/v3/properties/companies/tier")[0] == 404
    status, err, _ = call(hs, "POST", "/crm/v3/objects/companies", {"properties": {"tier": "tin"}})
    assert status == 400 and err["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    status, schemas, _ = call(hs, "GET", "/crm/v3/schemas")
    assert status == 200 and schemas["results"] == []  # no custom objects in a fresh portal


def test_search_by_association(hs: MockEndpoints) -> None:
    contact = _make(hs, "contacts", {"email": "assoc@example.com"})
    deals = [_make(hs, "deals", {"dealname": f"D{i}"}) for i in range(3)]
    for deal in deals[:2]:
        assert (
            call(hs, "PUT", f"/crm/v4/objects/deals/{deal}/associations/default/contacts/{contact}")[0] == 200
        )
    flt = {"propertyName": "associations.contact", "operator": "EQ", "value": contact}
    status, out, _ = call(hs, "POST", "/crm/v3/objects/deals/search", {"filterGroups": [{"filters": [flt]}]})
    assert status == 200 and [r["id"] for r in out["results"]] == deals[:2]


def test_datetime_filters_accept_epoch_ms_and_iso(hs: MockEndpoints) -> None:
    made = _make(hs, "deals", {"dealname": "Dated", "closedate": "1704067200000"})  # 2024-01-01T00:00Z
    status, got, _ = call(hs, "GET", f"/crm/v3/objects/deals/{made}?properties=closedate")
    assert got["properties"]["closedate"] == "2024-01-01T00:00:00.000Z"
    for value in ("1704067200000", "2024-01-01T00:00:00.000Z", "2024-01-01"):
        flt = {"propertyName": "closedate", "operator": "EQ", "value": value}
        status, out, _ = call(
            hs, "POST", "/crm/v3/objects/deals/search", {"filterGroups": [{"filters": [flt]}]}
        )
        assert status == 200 and [r["id"] for r in out["results"]] == [made], value
    status, err, _ = call(hs, "POST", "/crm/v3/objects/deals", {"properties": {"closedate": "next tuesday"}})
    assert status == 400 and err["errors"][0]["code"] == "INVALID_DATETIME"


def test_pipelines_match_the_stage_properties(hs: MockEndpoints) -> None:
    api = client(hs).crm.pipelines.pipelines_api
    for otype, prop in (("deals", "dealstage"), ("tickets", "hs_pipeline_stage")):
        pipelines = api.get_all(otype).results
        assert len(pipelines) == 1
        options = client(hs).crm.properties.core_api.get_by_name(otype, prop).options
        assert [s.id for s in pipelines[0].stages] == [o.value for o in options]
        assert api.get_by_id(otype, pipelines[0].id).label == pipelines[0].label
    assert call(hs, "GET", "/crm/v3/pipelines/deals/nope")[0] == 404
    assert call(hs, "GET", "/crm/v3/pipelines/contacts")[0] == 400
