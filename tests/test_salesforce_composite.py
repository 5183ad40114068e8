"""sObject Collections and /composite through simple-salesforce's ``restful`` (raw where status matters)."""

from __future__ import annotations

from typing import Any

from simple_salesforce import Salesforce

from mockcrm.config import MockEndpoints
from tests.test_salesforce_support import control, fresh_sf, raw

__all__ = ["fresh_sf"]

SF = tuple[Salesforce, MockEndpoints]


def _post(sf: Salesforce, path: str, body: Any, method: str = "POST") -> Any:
    return sf.restful(path, method=method, json=body)


def test_collection_create_mixed_types_with_per_record_errors(fresh_sf: SF) -> None:
    sf, _ = fresh_sf
    results = _post(
        sf,
        "composite/sobjects",
        {
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Account"}, "Name": "Acme"},
                {"attributes": {"type": "Contact"}, "LastName": "Ok", "Email": "ok@example.com"},
                {"attributes": {"type": "Contact"}, "LastName": "Bad", "Email": "badone"},
                {"attributes": {"type": "Account"}},
            ],
        },
    )
    assert [r["success"] for r in results] == [True, True, False, False]
    assert results[0]["id"].startswith("001") and results[1]["id"].startswith("003")
    assert "id" not in results[2]
    assert results[2]["errors"] == [
        {
            "statusCode": "INVALID_EMAIL_ADDRESS",
            "message": "Email: invalid email address: badone",
            "fields": ["Email"],
        }
    ]
    assert results[3]["errors"][0] == {
        "statusCode": "REQUIRED_FIELD_MISSING",
        "message": "Required fields are missing: [Name]",
        "fields": ["Name"],
    }


def test_all_or_none_rolls_back_everything(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    results = _post(
        sf,
        "composite/sobjects",
        {
            "allOrNone": True,
            "records": [
                {"attributes": {"type": "Contact"}, "LastName": "Fine"},
                {"attributes": {"type": "Contact"}},
            ],
        },
    )
    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert control(ep, "GET", "/__mock/dump/Contact").json()["records"] == []


def test_collection_update_retrieve_delete(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    created = _post(
        sf,
        "composite/sobjects",
        {"records": [{"attributes": {"type": "Contact"}, "LastName": f"C{i}"} for i in range(3)]},
    )
    ids = [r["id"] for r in created]
    updated = _post(
        sf,
        "composite/sobjects",
        {
            "records": [
                {"attributes": {"type": "Contact"}, "id": ids[0], "Title": "One"},
                {"attributes": {"type": "Contact"}, "id": ids[1], "Email": "nope"},
                {"attributes": {"type": "Contact"}, "id": "0034S0000009999AAA"[:15], "Title": "ghost"},
            ]
        },
        method="PATCH",
    )
    assert updated[0] == {"id": ids[0], "success": True, "errors": []}
    assert updated[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert updated[2]["success"] is False
    got = sf.restful(
        "composite/sobjects/Contact", params={"ids": ",".join([*ids, ids[0][:15]]), "fields": "Id,Title"}
    )
    assert [g["Title"] for g in got] == ["One", None, None, "One"]
    deleted = sf.restful("composite/sobjects", params={"ids": f"{ids[0]},{ids[0]}"}, method="DELETE")
    assert deleted[0] == {"id": ids[0], "success": True, "errors": []}
    assert deleted[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert sf.restful("composite/sobjects/Contact", params={"ids": ids[0], "fields": "Id"}) == [None]
    too_many = raw(
        ep,
        "POST",
        "/services/data/v59.0/composite/sobjects",
        json={"records": [{"attributes": {"type": "Contact"}, "LastName": "x"}] * 201},
    )
    assert too_many.status_code == 400 and too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_collection_upsert_by_hubspot_id(fresh_sf: SF) -> None:
    sf, _ = fresh_sf
    sf.Contact.create({"LastName": "Existing", "HubSpot_Id__c": "hs-1"})
    results = _post(
        sf,
        "composite/sobjects/Contact/HubSpot_Id__c",
        {
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "hs-1", "Title": "Updated"},
                {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "hs-2", "LastName": "New"},
                {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "hs-3", "LastName": "Dup"},
                {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "hs-3", "LastName": "Dup"},
            ],
        },
        method="PATCH",
    )
    assert [(r["success"], r.get("created")) for r in results] == [
        (True, False),
        (True, True),
        (False, None),
        (False, None),
    ]
    assert results[2]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"
    rows = sf.query("SELECT HubSpot_Id__c, LastName, Title FROM Contact ORDER BY HubSpot_Id__c")["records"]
    assert [(r["HubSpot_Id__c"], r["LastName"], r["Title"]) for r in rows] == [
        ("hs-1", "Existing", "Updated"),
        ("hs-2", "New", None),
    ]


def test_composite_with_references(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    body = {
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account/",
                "referenceId": "acct",
                "body": {"Name": "Composite Co"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "ct",
                "body": {"LastName": "Ref", "AccountId": "@{acct.id}"},
            },
            {
                "method": "GET",
                "url": "/services/data/v59.0/sobjects/Contact/@{ct.id}?fields=AccountId",
                "referenceId": "read",
            },
            {
                "method": "GET",
                "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Account",
                "referenceId": "q",
            },
        ]
    }
    out = _post(sf, "composite", body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in out] == [201, 201, 200, 200]
    acct = out[0]["body"]["id"]
    assert out[0]["httpHeaders"] == {"Location": f"/services/data/v59.0/sobjects/Account/{acct}"}
    assert out[2]["body"]["AccountId"] == acct
    assert out[3]["body"]["records"][0]["Id"] == acct
    # One API call for the whole composite.
    stats = control(ep, "GET", "/__mock/stats").json()
    assert stats["api_calls"] == 1


def test_composite_all_or_none_rolls_back_and_halts(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    body: dict[str, Any] = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "a",
                "body": {"Name": "Rolled back"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "bad",
                "body": {"FirstName": "No last name"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "after",
                "body": {"LastName": "Never"},
            },
        ],
    }
    out = _post(sf, "composite", body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in out] == [400, 400, 400]
    assert out[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert out[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert out[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert control(ep, "GET", "/__mock/dump/Account").json()["records"] == []
    # Without allOrNone, a reference to a failed subrequest halts only its dependants.
    body["allOrNone"] = False
    body["compositeRequest"][2]["body"] = {"LastName": "Dependent", "ReportsToId": "@{bad.id}"}
    out = _post(sf, "composite", body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in out] == [201, 400, 400]
    assert out[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    too_many = raw(
        ep,
        "POST",
        "/services/data/v59.0/composite",
        json={
            "compositeRequest": [
                {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": f"r{i}"}
                for i in range(26)
            ]
        },
    )
    assert too_many.status_code == 400


def test_a_wrong_type_anywhere_fails_the_whole_collection(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    records = [{"attributes": {"type": "Contact"}, "LastName": f"W{i}"} for i in range(5)]
    records.append({"attributes": {"type": "Contact"}, "LastName": "Bad", "DoNotCall": {"yes": 1}})
    resp = raw(ep, "POST", "/services/data/v59.0/composite/sobjects", json={"records": records})
    assert resp.status_code == 400 and resp.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert control(ep, "GET", "/__mock/dump/Contact").json()["records"] == []
    # Two updates of one record in one call: the second is refused.
    cid = sf.Contact.create({"LastName": "Twice"})["id"]
    out = _post(
        sf,
        "composite/sobjects",
        {
            "records": [
                {"attributes": {"type": "Contact"}, "id": cid, "Title": "first"},
                {"attributes": {"type": "Contact"}, "id": cid, "Title": "second"},
            ]
        },
        method="PATCH",
    )
    assert [r["success"] for r in out] == [True, False]
    assert sf.Contact.get(cid)["Title"] == "first"


def test_composite_rollback_restores_updates_deletes_and_indexes(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    keep = sf.Contact.create({"LastName": "Keep", "HubSpot_Id__c": "k-1"})["id"]
    doomed = sf.Contact.create({"LastName": "Doomed", "HubSpot_Id__c": "d-1"})["id"]
    before = control(ep, "GET", "/__mock/dump/Contact").json()["records"]
    base = "/services/data/v59.0/sobjects/Contact"
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "PATCH",
                "url": f"{base}/{keep}",
                "referenceId": "upd",
                "body": {"LastName": "Changed", "HubSpot_Id__c": "k-2"},
            },
            {"method": "DELETE", "url": f"{base}/{doomed}", "referenceId": "del"},
            {
                "method": "PATCH",
                "url": f"{base}/HubSpot_Id__c/new-1",
                "referenceId": "ups",
                "body": {"LastName": "N"},
            },
            {
                "method": "POST",
                "url": base,
                "referenceId": "bad",
                "body": {"Email": "no-last-name@example.com"},
            },
        ],
    }
    out = _post(sf, "composite", body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in out] == [400, 400, 400, 400]
    assert control(ep, "GET", "/__mock/dump/Contact").json()["records"] == before
    # The indexes are back too: the old external ids resolve, the new ones do not.
    assert sf.Contact.get_by_custom_id("HubSpot_Id__c", "k-1")["Id"] == keep
    assert sf.Contact.get_by_custom_id("HubSpot_Id__c", "d-1")["Id"] == doomed
    assert sf.Contact.upsert("HubSpot_Id__c/k-2", {"LastName": "Fresh"}) == 201
    assert sf.Contact.upsert("HubSpot_Id__c/new-1", {"LastName": "Fresh"}) == 201
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 4
