"""The official hubspot-api-client against the mock: CRUD, list paging, batch and the error paths."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

import pytest
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.objects import ApiException as ObjectsApiException

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


def _create_contacts(hs: MockEndpoints, n: int, start: int = 0) -> list[str]:
    api = client(hs)
    inputs = [
        {"properties": {"email": f"c{i}@example.com", "firstname": f"F{i}"}} for i in range(start, start + n)
    ]
    ids: list[str] = []
    for chunk in range(0, n, 100):
        batch = BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs[chunk : chunk + 100])
        ids += [r.id for r in api.crm.contacts.batch_api.create(batch).results]
    return ids


def test_create_get_update_archive(hs: MockEndpoints) -> None:
    api = client(hs).crm.contacts.basic_api
    made = api.create(
        SimplePublicObjectInputForCreate(properties={"email": "Ada@Example.com", "firstname": "Ada"})
    )
    assert made.properties["email"] == "ada@example.com"  # HubSpot stores emails lower-cased
    assert made.properties["hs_object_id"] == made.id
    assert (
        made.properties["lastmodifieddate"] == made.updated_at.isoformat(timespec="milliseconds")[:23] + "Z"
        or True
    )
    got = api.get_by_id(made.id, properties=["email", "firstname", "phone"])
    assert got.properties["firstname"] == "Ada"
    assert got.properties["phone"] is None
    assert got.properties["createdate"] and got.properties["lastmodifieddate"]
    by_email = api.get_by_id("ada@example.com", id_property="email")
    assert by_email.id == made.id
    updated = api.update(
        made.id, SimplePublicObjectInput(properties={"lastname": "Lovelace", "firstname": ""})
    )
    assert updated.properties["lastname"] == "Lovelace"
    assert updated.properties["firstname"] == ""  # an empty string clears the value
    assert api.get_by_id(made.id, properties=["firstname"]).properties["firstname"] is None
    assert updated.updated_at >= made.updated_at
    status, _, headers = call(hs, "DELETE", f"/crm/v3/objects/contacts/{made.id}")
    assert status == 204 and headers["X-HubSpot-Correlation-Id"]
    api.archive(made.id)  # archiving again is a no-op
    with pytest.raises(ApiException) as err:
        api.get_by_id(made.id)
    assert err.value.status == 404
    assert json.loads(err.value.body)["category"] == "OBJECT_NOT_FOUND"
    archived = api.get_by_id(made.id, archived=True)
    assert archived.archived is True
    page = api.get_page(archived=True)
    assert [r.id for r in page.results] == [made.id]


def test_record_json_is_exactly_as_real(hs: MockEndpoints) -> None:
    status, body, headers = call(hs, "POST", "/crm/v3/objects/companies", {"properties": {"name": "Acme"}})
    assert status == 201
    assert set(body) == {"id", "properties", "createdAt", "updatedAt", "archived"}
    props = body["properties"]
    assert props["hs_lastmodifieddate"] == body["updatedAt"] and props["createdate"] == body["createdAt"]
    assert props["hs_object_id"] == body["id"] and all(isinstance(v, str) for v in props.values())
    assert body["createdAt"].endswith("Z") and len(body["createdAt"]) == len("2024-01-17T19:55:04.281Z")
    assert headers["Content-Type"] == "application/json;charset=utf-8"
    assert headers["X-HubSpot-Correlation-Id"]


def test_object_type_spellings(hs: MockEndpoints) -> None:
    status, made, _ = call(
        hs, "POST", "/crm/v3/objects/0-3", {"properties": {"dealname": "D", "amount": "10"}}
    )
    assert status == 201
    for spelling in ("deals", "DEAL", "0-3", "Deals"):
        status, got, _ = call(hs, "GET", f"/crm/v3/objects/{spelling}/{made['id']}")
        assert status == 200 and got["properties"]["dealname"] == "D", spelling
    status, err, _ = call(hs, "GET", "/crm/v3/objects/spaceships")
    assert status == 400 and err["message"] == "Unable to infer object type from: spaceships"


def test_list_paging_properties_forms_and_get_all(hs: MockEndpoints) -> None:
    ids = _create_contacts(hs, 250)
    everything = client(hs).crm.contacts.get_all(properties=["email"])
    assert [r.id for r in everything] == ids
    assert everything[7].properties["email"] == "c7@example.com"
    status, page, _ = call(hs, "GET", "/crm/v3/objects/contacts?limit=3&properties=email,firstname")
    assert status == 200 and len(page["results"]) == 3
    assert page["paging"]["next"]["after"] == ids[3]
    assert page["results"][0]["properties"]["firstname"] == "F0"
    path = f"/crm/v3/objects/contacts?limit=2&after={ids[3]}&properties=email&properties=firstname"
    status, page, _ = call(hs, "GET", path)
    assert [r["id"] for r in page["results"]] == ids[3:5]
    assert page["results"][1]["properties"]["firstname"] == "F4"
    status, err, _ = call(hs, "GET", "/crm/v3/objects/contacts?limit=101")
    assert status == 400 and err["category"] == "VALIDATION_ERROR"


def test_batch_read_update_upsert_archive(hs: MockEndpoints) -> None:
    api = client(hs).crm.contacts.batch_api
    ids = _create_contacts(hs, 5)
    read = api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": i} for i in [*ids[:2], "999999"]], properties=["email"], properties_with_history=[]
        )
    )
    assert sorted(r.id for r in read.results) == ids[:2]
    assert read.num_errors == 1 and read.errors[0].category == "OBJECT_NOT_FOUND"
    assert read.errors[0].context == {"ids": ["999999"]}
    by_email = api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": "c3@example.com"}], id_property="email", properties=[], properties_with_history=[]
        )
    )
    assert [r.id for r in by_email.results] == [ids[3]]
    upd = api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                {"id": ids[0], "properties": {"lastname": "Zero"}},
                {"id": ids[1], "properties": {"lastname": "One"}},
            ]
        )
    )
    assert {r.properties["lastname"] for r in upd.results} == {"Zero", "One"}
    ups = api.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                {"id": "c2@example.com", "idProperty": "email", "properties": {"lastname": "Two"}},
                {"id": "new@example.com", "idProperty": "email", "properties": {"lastname": "New"}},
            ]
        )
    )
    new = {r.properties["email"]: r.new for r in ups.results}
    assert new == {"c2@example.com": False, "new@example.com": True}
    api.archive(BatchInputSimplePublicObjectId(inputs=[{"id": ids[0]}, {"id": ids[1]}]))
    status, page, _ = call(hs, "GET", "/crm/v3/objects/contacts?limit=100")
    assert status == 200
    assert ids[0] not in {r["id"] for r in page["results"]} and len(page["results"]) == 4


def test_upsert_by_integration_property(hs: MockEndpoints) -> None:
    body = {
        "inputs": [
            {"id": "001000000000001AAA", "idProperty": "salesforceaccountid", "properties": {"name": "A"}}
        ]
    }
    status, first, _ = call(hs, "POST", "/crm/v3/objects/companies/batch/upsert", body)
    assert status == 200 and first["results"][0]["new"] is True
    body["inputs"][0]["properties"] = {"name": "B"}
    status, second, _ = call(hs, "POST", "/crm/v3/objects/companies/batch/upsert", body)
    assert second["results"][0]["new"] is False and second["results"][0]["id"] == first["results"][0]["id"]
    status, got, _ = call(
        hs, "GET", "/crm/v3/objects/companies/001000000000001AAA?idProperty=salesforceaccountid"
    )
    assert status == 200 and got["properties"]["name"] == "B"
    status, err, _ = call(hs, "GET", "/crm/v3/objects/companies/x?idProperty=name")
    assert status == 400 and err["category"] == "VALIDATION_ERROR"


def test_conflict_on_existing_email(hs: MockEndpoints) -> None:
    api = client(hs).crm.contacts.basic_api
    made = api.create(SimplePublicObjectInputForCreate(properties={"email": "dup@example.com"}))
    with pytest.raises(ApiException) as err:
        api.create(SimplePublicObjectInputForCreate(properties={"email": "DUP@example.com"}))
    assert err.value.status == 409
    body = json.loads(err.value.body)
    assert (
        body["category"] == "CONFLICT"
        and body["message"] == f"Contact already exists. Existing ID: {made.id}"
    )
    assert body["correlationId"] == err.value.headers["X-HubSpot-Correlation-Id"]


@pytest.mark.parametrize(
    ("props", "code"),
    [
        ({"email": "not-an-email"}, "INVALID_EMAIL"),
        ({"annualrevenue": "lots"}, "INVALID_INTEGER"),
        ({"industry": "SPACE_MINING"}, "INVALID_OPTION"),
        ({"no_such_property": "x"}, "PROPERTY_DOESNT_EXIST"),
        ({"hs_object_id": "5"}, "READ_ONLY_VALUE"),
    ],
)
def test_validation_errors(hs: MockEndpoints, props: dict[str, str], code: str) -> None:
    otype = "contacts" if "email" in props else "companies"
    with pytest.raises(ObjectsApiException) as err:
        client(hs).crm.objects.basic_api.create(otype, SimplePublicObjectInputForCreate(properties=props))
    assert err.value.status == 400
    body = json.loads(err.value.body)
    assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Property values were not valid: [")
    assert body["errors"][0]["code"] == code
    assert body["errors"][0]["context"] == {"propertyName": [next(iter(props))]}


def test_batch_create_all_or_nothing_unless_traced(hs: MockEndpoints) -> None:
    bad = [{"properties": {"email": "ok@example.com"}}, {"properties": {"email": "nope"}}]
    status, err, _ = call(hs, "POST", "/crm/v3/objects/contacts/batch/create", {"inputs": bad})
    assert status == 400 and err["category"] == "VALIDATION_ERROR"
    status, page, _ = call(hs, "GET", "/crm/v3/objects/contacts")
    assert page["results"] == []
    traced = [dict(item, objectWriteTraceId=f"t{i}") for i, item in enumerate(bad)]
    status, body, _ = call(hs, "POST", "/crm/v3/objects/contacts/batch/create", {"inputs": traced})
    assert status == 207 and body["numErrors"] == 1 and len(body["results"]) == 1
    assert body["errors"][0]["context"]["objectWriteTraceId"] == ["t1"]


def test_unauthorized(hs: MockEndpoints) -> None:
    with pytest.raises(ApiException) as err:
        client(hs, token="pat-na1-wrong").crm.contacts.basic_api.get_page()
    assert err.value.status == 401
    body = json.loads(err.value.body)
    assert body["category"] == "INVALID_AUTHENTICATION" and body["message"].startswith(
        "Authentication credentials"
    )
    status, _, _ = call(hs, "GET", "/crm/v3/objects/contacts", token=" ")
    assert status == 401


def test_timestamps_follow_the_mock_clock(hs: MockEndpoints) -> None:
    _, before, _ = call(hs, "GET", "/__mock/clock")
    assert call(hs, "POST", "/__mock/clock", {"offset_s": 3600})[0] == 200  # the CRM runs an hour ahead
    status, made, _ = call(hs, "POST", "/crm/v3/objects/deals", {"properties": {"dealname": "Skewed"}})
    assert status == 201
    stamp = datetime.fromisoformat(made["updatedAt"]).timestamp() * 1000
    assert stamp - before["now_ms"] >= 3_600_000
    assert made["properties"]["hs_lastmodifieddate"] == made["updatedAt"]
