"""The official simple-salesforce through sObject CRUD, upsert, describe, limits, updated/deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from mockcrm.config import MockEndpoints
from mockcrm.salesforce.ids import checksum
from mockcrm.server import MocksInThread
from tests.conftest import mock_config
from tests.test_salesforce_support import client, control, fresh_sf, raw

__all__ = ["fresh_sf"]

SF = tuple[Salesforce, MockEndpoints]


def _valid_id(value: str, prefix: str) -> bool:
    return len(value) == 18 and value.startswith(prefix) and checksum(value[:15]) == value[15:]


def test_create_get_update_delete_contact(fresh_sf: SF) -> None:
    sf, _ = fresh_sf
    created = sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"})
    assert created["success"] is True and created["errors"] == []
    cid = created["id"]
    assert _valid_id(cid, "003")

    rec = sf.Contact.get(cid)
    assert rec["attributes"] == {"type": "Contact", "url": f"/services/data/v59.0/sobjects/Contact/{cid}"}
    assert rec["Name"] == "Ada Lovelace" and rec["IsDeleted"] is False and rec["Phone"] is None
    assert rec["CreatedDate"].endswith(".000+0000") and rec["SystemModstamp"] == rec["CreatedDate"]
    assert _valid_id(rec["OwnerId"], "005")
    # The 15-character form finds the same record.
    assert sf.Contact.get(cid[:15])["Id"] == cid

    assert sf.Contact.update(cid, {"Title": "Countess", "LastName": "King"}) == 204
    rec = sf.Contact.get(cid)
    assert (rec["Title"], rec["Name"]) == ("Countess", "Ada King")

    assert sf.Contact.delete(cid) == 204
    with pytest.raises(SalesforceResourceNotFound) as err:
        sf.Contact.get(cid)
    assert err.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.delete(cid)


def test_get_with_fields_parameter(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    cid = sf.Contact.create({"LastName": "Hopper", "Title": "RADM"})["id"]
    resp = raw(ep, "GET", f"/services/data/v60.0/sobjects/Contact/{cid}?fields=Title,lastname")
    assert resp.status_code == 200
    assert resp.json() == {
        "attributes": {"type": "Contact", "url": f"/services/data/v60.0/sobjects/Contact/{cid}"},
        "Title": "RADM",
        "LastName": "Hopper",
    }
    bad = raw(ep, "GET", f"/services/data/v60.0/sobjects/Contact/{cid}?fields=Nope")
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"


def test_upsert_by_hubspot_id_creates_then_updates(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    assert sf.Contact.upsert("HubSpot_Id__c/hs-101", {"LastName": "Turing"}) == 201
    assert sf.Contact.upsert("HubSpot_Id__c/hs-101", {"Title": "Mathematician"}) == 200
    rec = sf.Contact.get_by_custom_id("HubSpot_Id__c", "hs-101")
    assert (rec["LastName"], rec["Title"], rec["HubSpot_Id__c"]) == ("Turing", "Mathematician", "hs-101")
    # The created flag and the pre-46.0 status code, seen raw.
    resp = raw(
        ep, "PATCH", "/services/data/v59.0/sobjects/Contact/HubSpot_Id__c/hs-102", json={"LastName": "X"}
    )
    assert resp.status_code == 201 and resp.json()["created"] is True and _valid_id(resp.json()["id"], "003")
    old = raw(
        ep, "PATCH", "/services/data/v45.0/sobjects/Contact/HubSpot_Id__c/hs-102", json={"LastName": "Y"}
    )
    assert old.status_code == 204 and old.content == b""
    for sobject in ("Lead", "Account", "Opportunity", "Case"):
        field = next(f for f in getattr(sf, sobject).describe()["fields"] if f["name"] == "HubSpot_Id__c")
        assert (field["externalId"], field["unique"], field["type"], field["length"]) == (
            True,
            True,
            "string",
            255,
        )


def test_unique_external_id_is_enforced(fresh_sf: SF) -> None:
    sf, _ = fresh_sf
    first = sf.Account.create({"Name": "Acme", "HubSpot_Id__c": "c-1"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Account.create({"Name": "Acme 2", "HubSpot_Id__c": "C-1"})
    assert err.value.content[0]["errorCode"] == "DUPLICATE_VALUE"
    assert first in err.value.content[0]["message"]


def test_describe_and_global_describe(fresh_sf: SF) -> None:
    sf, _ = fresh_sf
    desc = sf.Lead.describe()
    assert (desc["name"], desc["keyPrefix"]) == ("Lead", "00Q")
    fields = {f["name"]: f for f in desc["fields"]}
    assert fields["LastName"]["nillable"] is False and fields["LastName"]["length"] == 80
    assert fields["Status"]["restrictedPicklist"] is True
    assert "Open - Not Contacted" in [p["value"] for p in fields["Status"]["picklistValues"]]
    assert fields["IsConverted"]["createable"] is False and fields["IsConverted"]["updateable"] is False
    opp = {f["name"]: f for f in sf.Opportunity.describe()["fields"]}
    assert opp["ExpectedRevenue"]["calculated"] is True and opp["ExpectedRevenue"]["createable"] is False
    names = {o["name"]: o["keyPrefix"] for o in sf.describe()["sobjects"]}
    assert names == {
        "Contact": "003",
        "Lead": "00Q",
        "Account": "001",
        "Opportunity": "006",
        "OpportunityContactRole": "00K",
        "Case": "500",
        "Task": "00T",
        "Event": "00U",
        "User": "005",
        "Campaign": "701",
        "CampaignMember": "00v",
    }


def test_limits_and_api_usage_header(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    sf.Contact.create({"LastName": "Usage"})
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 100_000
    used = 100_000 - limits["DailyApiRequests"]["Remaining"]
    assert used == 2
    assert sf.api_usage["api-usage"].used == 2 and sf.api_usage["api-usage"].total == 100_000
    versions = raw(ep, "GET", "/services/data/")
    assert versions.status_code == 200 and "Sforce-Limit-Info" not in versions.headers
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions.json()
    stats = control(ep, "GET", "/__mock/stats").json()
    assert stats["api_calls"] == 3
    assert stats["by_endpoint"]["POST /services/data/v{version}/sobjects/{sobject}"] == 1
    assert stats["records"]["Contact"] == 1


def test_updated_and_deleted(fresh_sf: SF) -> None:
    sf, _ = fresh_sf
    start = datetime.now(UTC) - timedelta(minutes=5)
    keep = sf.Task.create({"Subject": "Call"})["id"]
    gone = sf.Task.create({"Subject": "Email"})["id"]
    sf.Task.delete(gone)
    end = datetime.now(UTC) + timedelta(minutes=5)
    updated = sf.Task.updated(start, end)
    assert updated["ids"] == [keep]
    deleted = sf.Task.deleted(start, end)
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]
    assert deleted["deletedRecords"][0]["deletedDate"].endswith("+0000")
    assert deleted["earliestDateAvailable"] <= deleted["latestDateCovered"]
    # Outside the window nothing is reported.
    assert sf.Task.updated(start - timedelta(days=1), start)["ids"] == []


def test_not_found_and_malformed_ids(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    with pytest.raises(SalesforceResourceNotFound) as err:
        sf.Contact.get("003000000000404AAA"[:15] + checksum("003000000000404"))
    assert err.value.content == [
        {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}
    ]
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.Contact.get("0034S000000000XAAZ")  # wrong checksum
    assert bad.value.content[0]["errorCode"] == "MALFORMED_ID"
    with pytest.raises(SalesforceResourceNotFound):
        sf.Nonexistent__c.get("a004S0000000001AAA")
    assert raw(ep, "PUT", "/services/data/v59.0/sobjects/Contact").status_code == 405


@pytest.mark.parametrize(
    ("sobject", "values", "code", "fields"),
    [
        ("Contact", {"FirstName": "No last name"}, "REQUIRED_FIELD_MISSING", ["LastName"]),
        ("Contact", {"LastName": "X", "Email": "not-an-email"}, "INVALID_EMAIL_ADDRESS", ["Email"]),
        ("Contact", {"LastName": "X" * 81}, "STRING_TOO_LONG", ["LastName"]),
        (
            "Lead",
            {"LastName": "X", "Company": "Y", "Status": "Bogus"},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            ["Status"],
        ),
        ("Contact", {"LastName": "X", "Name": "Formula"}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["Name"]),
        (
            "Opportunity",
            {"Name": "X", "StageName": "Prospecting", "CloseDate": "2024-01-01", "IsWon": True},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            ["IsWon"],
        ),
        (
            "Contact",
            {"LastName": "X", "AccountId": "0014S0000000999"},
            "INVALID_CROSS_REFERENCE_KEY",
            ["AccountId"],
        ),
    ],
)
def test_validation_errors(
    fresh_sf: SF, sobject: str, values: dict[str, object], code: str, fields: list[str]
) -> None:
    sf, _ = fresh_sf
    with pytest.raises(SalesforceMalformedRequest) as err:
        getattr(sf, sobject).create(values)
    assert err.value.content[0]["errorCode"] == code
    assert err.value.content[0]["fields"] == fields


def test_unknown_field_and_wrong_type(fresh_sf: SF) -> None:
    sf, _ = fresh_sf
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"LastName": "X", "Favourite_Colour__c": "blue"})
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"LastName": "X", "DoNotCall": "maybe"})
    assert err.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_bad_session_is_401(threaded_mocks: MockEndpoints) -> None:
    sf = client(threaded_mocks, token="00Dxx!not-a-session")
    with pytest.raises(SalesforceExpiredSession) as err:
        sf.Contact.describe()
    assert err.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_daily_limit_is_403_until_the_day_rolls() -> None:
    with MocksInThread(mock_config(salesforce_daily_limit=3)) as ep:
        contacts = client(ep).Contact
        for _ in range(3):
            contacts.create({"LastName": "Budget"})
        assert contacts.api_usage["api-usage"].used == 3 and contacts.api_usage["api-usage"].total == 3
        with pytest.raises(SalesforceRefusedRequest) as err:
            contacts.create({"LastName": "Over"})
        assert err.value.content == [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ]
        # The stats tell refusals apart from calls that never arrived.
        assert control(ep, "GET", "/__mock/stats").json()["refused"] == {"daily": 1}
        # Control calls are never limited; a day later the allotment is free again.
        assert control(ep, "POST", "/__mock/clock", {"advance_s": 86_400}).status_code == 200
        assert contacts.create({"LastName": "Tomorrow"})["success"] is True


def test_deleting_an_account_cascades_to_its_contacts_and_opportunities(fresh_sf: SF) -> None:
    sf, _ = fresh_sf
    acct = sf.Account.create({"Name": "Parent"})["id"]
    other = sf.Account.create({"Name": "Other"})["id"]
    child = sf.Contact.create({"LastName": "Child", "AccountId": acct})["id"]
    stays = sf.Contact.create({"LastName": "Stays", "AccountId": other})["id"]
    opp = sf.Opportunity.create(
        {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2030-01-01", "AccountId": acct}
    )["id"]
    role = sf.OpportunityContactRole.create({"OpportunityId": opp, "ContactId": stays})["id"]
    sf.Account.delete(acct)
    gone = sf.query_all("SELECT Id FROM Contact WHERE IsDeleted = true", include_deleted=True)["records"]
    assert [r["Id"] for r in gone] == [child]
    assert sf.Contact.get(stays)["IsDeleted"] is False
    with pytest.raises(SalesforceResourceNotFound):
        sf.Opportunity.get(opp)
    with pytest.raises(SalesforceResourceNotFound):
        sf.OpportunityContactRole.get(role)


def test_replication_windows_are_checked(fresh_sf: SF) -> None:
    _, ep = fresh_sf
    now = datetime.now(UTC)
    old = (now - timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    end = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    for kind, days in (("updated", 31), ("deleted", 16)):
        start = (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        resp = raw(ep, "GET", f"/services/data/v59.0/sobjects/Account/{kind}/?start={start}&end={end}")
        assert resp.status_code == 400 and resp.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"
    backwards = raw(ep, "GET", f"/services/data/v59.0/sobjects/Account/updated/?start={end}&end={old}")
    assert backwards.status_code == 400
    fine = raw(ep, "GET", f"/services/data/v59.0/sobjects/Account/deleted/?start={end}&end={end}")
    assert fine.status_code == 200 and fine.json()["deletedRecords"] == []


def test_owners_must_be_active_users(fresh_sf: SF) -> None:
    sf, _ = fresh_sf
    users = sf.query("SELECT Id FROM User WHERE IsActive = true ORDER BY Id")["records"]
    cid = sf.Contact.create({"LastName": "Owned", "OwnerId": users[2]["Id"]})["id"]
    assert sf.Contact.get(cid)["OwnerId"] == users[2]["Id"]
    new = sf.User.create({"Username": "new@example.com", "Email": "new@example.com", "LastName": "New"})["id"]
    assert sf.User.get(new)["IsActive"] is True
    left = {
        "Username": "left@example.com",
        "Email": "left@example.com",
        "LastName": "Left",
        "IsActive": False,
    }
    gone = sf.User.create(left)["id"]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.update(cid, {"OwnerId": gone})
    assert err.value.content[0]["errorCode"] == "INACTIVE_OWNER_OR_USER"
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.Contact.update(cid, {"OwnerId": cid})  # not a user at all
    assert bad.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
