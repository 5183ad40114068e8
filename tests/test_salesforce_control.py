"""The Salesforce control plane: seed, dump, rules, formulas, state/country, conversion, custom
objects, reset, faults and the workload generator, observed through simple-salesforce."""

from __future__ import annotations

import time

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from mockcrm.config import MockEndpoints
from tests.test_salesforce_support import control, fresh_sf, raw

__all__ = ["fresh_sf"]

SF = tuple[Salesforce, MockEndpoints]


def test_seed_email_tags_and_a_dump_of_some_fields(fresh_sf: SF) -> None:
    """Seeding in several calls (the bench's chunks) never repeats an email across tags; a dump may
    carry only some fields (and Id), which a million records need."""
    _, ep = fresh_sf
    for tag in ("", "c1"):
        body = {"sobject": "Contact", "count": 20, "seed": 7, "email_tag": tag}
        assert control(ep, "POST", "/__mock/seed", body).json()["created"] == 20
    bad = control(ep, "POST", "/__mock/seed", {"sobject": "Contact", "count": 1, "email_tag": "Not OK"})
    assert bad.status_code == 400
    rows = control(ep, "GET", "/__mock/dump/Contact?fields=Email,LastName").json()["records"]
    assert len(rows) == 40 and all(set(r) == {"Id", "Email", "LastName"} for r in rows)
    assert len({r["Email"].lower() for r in rows}) == 40


def test_seed_is_reproducible_and_dump_shows_everything(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    first = control(ep, "POST", "/__mock/seed", {"sobject": "Contact", "count": 25, "seed": 7}).json()
    assert first["created"] == 25
    names = [r["Name"] for r in control(ep, "GET", "/__mock/dump/Contact").json()["records"]]
    control(ep, "POST", "/__mock/reset")
    control(ep, "POST", "/__mock/seed", {"sobject": "contact", "count": 25, "seed": 7})
    dump = control(ep, "GET", "/__mock/dump/Contact").json()["records"]
    assert [r["Name"] for r in dump] == names
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 25
    sf.Contact.delete(dump[0]["Id"])
    dump = control(ep, "GET", "/__mock/dump/Contact").json()["records"]
    assert len(dump) == 25 and dump[0]["IsDeleted"] is True
    for sobject in (
        "Lead",
        "Account",
        "Opportunity",
        "OpportunityContactRole",
        "Case",
        "Task",
        "Event",
        "Campaign",
        "CampaignMember",
        "User",
    ):
        resp = control(ep, "POST", "/__mock/seed", {"sobject": sobject, "count": 3, "seed": 1})
        assert resp.status_code == 200, resp.text
    assert control(ep, "POST", "/__mock/seed", {"sobject": "Nope", "count": 1}).status_code == 400
    # Seeded records come from another user than the API user, so echoes can be told apart.
    api_user = sf.Contact.get(sf.Contact.create({"LastName": "Mine"})["id"])["LastModifiedById"]
    seeded = control(ep, "GET", "/__mock/dump/Contact").json()["records"][1]
    assert seeded["LastModifiedById"] == seeded["CreatedById"] == seeded["OwnerId"] != api_user
    stats = control(ep, "GET", "/__mock/stats").json()
    assert stats["records"]["OpportunityContactRole"] == 3 and stats["records"]["User"] == 6


def test_reset_returns_a_fresh_org_with_users(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    sf.Account.create({"Name": "Gone after reset"})
    control(ep, "POST", "/__mock/reset")
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    users = sf.query("SELECT Id, Username, IsActive FROM User")["records"]
    assert len(users) == 3 and all(u["IsActive"] for u in users)
    assert control(ep, "GET", "/__mock/stats").json()["api_calls"] == 2


def test_validation_rule_and_duplicate_rule(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    rules = {
        "validation_rules": [
            {
                "sobject": "Contact",
                "field": "Title",
                "condition": "equals",
                "value": "Intern",
                "message": "No interns in the CRM",
                "error_field": "Title",
            }
        ],
        "duplicate_rules": [{"sobject": "Contact", "fields": ["email"]}],
    }
    assert control(ep, "POST", "/__mock/rules", rules).status_code == 200
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"LastName": "X", "Title": "Intern"})
    assert err.value.content == [
        {
            "message": "No interns in the CRM",
            "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "fields": ["Title"],
        }
    ]
    first = sf.Contact.create({"LastName": "A", "Email": "Same@Example.com"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as dup:
        sf.Contact.create({"LastName": "B", "Email": "SAME@example.com"})
    error = dup.value.content[0]
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    matches = error["duplicateResult"]["matchResults"][0]["matchRecords"]
    assert [m["record"]["Id"] for m in matches] == [first]
    # Updating the record itself is not a duplicate of itself.
    assert sf.Contact.update(first, {"LastName": "A2"}) == 204
    bad = control(
        ep,
        "POST",
        "/__mock/rules",
        {"validation_rules": [{"sobject": "Contact", "field": "Nope", "condition": "blank"}]},
    )
    assert bad.status_code == 400


def test_formula_field(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    cid = sf.Contact.create({"FirstName": "Grace", "LastName": "Hopper"})["id"]
    resp = control(
        ep,
        "POST",
        "/__mock/rules",
        {
            "formula_fields": [
                {
                    "sobject": "Contact",
                    "name": "Display__c",
                    "expression": 'LastName & ", " & FirstName & " (" & "x" & ")"',
                }
            ]
        },
    )
    assert resp.status_code == 200, resp.text
    assert sf.Contact.get(cid)["Display__c"] == "Hopper, Grace (x)"
    sf.Contact.update(cid, {"FirstName": "G."})
    assert (
        sf.query(f"SELECT Display__c FROM Contact WHERE Id = '{cid}'")["records"][0]["Display__c"]
        == "Hopper, G. (x)"
    )
    field = next(f for f in sf.Contact.describe()["fields"] if f["name"] == "Display__c")
    assert (field["calculated"], field["createable"], field["updateable"]) == (True, False, False)
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.update(cid, {"Display__c": "no"})
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_state_country_picklists(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    control(ep, "POST", "/__mock/rules", {"state_country_picklists": True})
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"LastName": "X", "MailingState": "California"})
    assert err.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert err.value.content[0]["fields"] == ["MailingState"]
    cid = sf.Contact.create({"LastName": "X", "MailingState": "ca", "MailingCountry": "United States"})["id"]
    rec = sf.Contact.get(cid)
    assert (rec["MailingState"], rec["MailingStateCode"], rec["MailingCountryCode"]) == (
        "California",
        "CA",
        "US",
    )
    with pytest.raises(SalesforceMalformedRequest):
        sf.Contact.update(cid, {"MailingCountry": "Atlantis"})
    with pytest.raises(SalesforceMalformedRequest):  # Texas is not in Canada: nothing saved
        sf.Contact.update(cid, {"MailingStateCode": "TX", "MailingCountryCode": "CA", "Title": "x"})
    assert sf.Contact.get(cid)["Title"] is None
    sf.Contact.update(cid, {"MailingCountryCode": None})  # removing the country removes the state
    rec = sf.Contact.get(cid)
    assert (rec["MailingState"], rec["MailingStateCode"], rec["MailingCountry"]) == (None, None, None)
    control(ep, "POST", "/__mock/rules", {"state_country_picklists": False})
    assert sf.Contact.create({"LastName": "Y", "MailingState": "Anywhere"})["success"] is True


def test_convert_lead(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    lid = sf.Lead.create({"LastName": "Convert", "Company": "Lead Co", "Email": "lead@example.com"})["id"]
    out = control(ep, "POST", "/__mock/convert-lead", {"lead_id": lid}).json()
    lead = sf.Lead.get(lid)
    assert lead["IsConverted"] is True and lead["ConvertedContactId"] == out["contact_id"]
    assert lead["ConvertedAccountId"] == out["account_id"] and lead["ConvertedDate"] is not None
    assert sf.Account.get(out["account_id"])["Name"] == "Lead Co"
    contact = sf.Contact.get(out["contact_id"])
    assert (contact["Email"], contact["AccountId"]) == ("lead@example.com", out["account_id"])
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Lead.update(lid, {"Title": "x"})
    assert err.value.content[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"
    assert control(ep, "POST", "/__mock/convert-lead", {"lead_id": lid}).status_code == 400


def test_custom_object(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    resp = control(
        ep,
        "POST",
        "/__mock/sobjects",
        {
            "name": "Invoice__c",
            "fields": [
                {"name": "Amount__c", "type": "currency", "required": True},
                {"name": "Ext__c", "type": "string", "length": 20, "external_id": True, "unique": True},
            ],
        },
    )
    assert resp.status_code == 200, resp.text
    prefix = resp.json()["keyPrefix"]
    iid = sf.Invoice__c.create({"Name": "INV-1", "Amount__c": 12.5, "Ext__c": "e1"})["id"]
    assert iid.startswith(prefix)
    assert sf.Invoice__c.upsert("Ext__c/e1", {"Amount__c": 99}) == 200
    assert sf.query("SELECT Amount__c FROM Invoice__c")["records"][0]["Amount__c"] == 99.0
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Invoice__c.create({"Name": "INV-2"})
    assert err.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert "Invoice__c" in [o["name"] for o in sf.describe()["sobjects"]]
    seeded = control(ep, "POST", "/__mock/seed", {"sobject": "Invoice__c", "count": 5})
    assert seeded.status_code == 200, seeded.text
    assert control(ep, "POST", "/__mock/sobjects", {"name": "NoSuffix"}).status_code == 400


def test_faults_answer_in_salesforce_shape(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    control(ep, "POST", "/__mock/faults", {"error_rate": 1.0})
    with pytest.raises(SalesforceGeneralError) as err:
        sf.Contact.describe()
    assert err.value.status == 503 and err.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    resp = raw(ep, "GET", "/services/data/v59.0/limits")
    assert resp.status_code == 503 and resp.headers["Sforce-Limit-Info"].startswith("api-usage=")
    control(ep, "POST", "/__mock/faults", {"storm_until": time.time() + 3600})
    with pytest.raises(SalesforceRefusedRequest) as storm:
        sf.Contact.describe()
    assert storm.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    control(ep, "POST", "/__mock/faults", {})
    assert sf.Contact.describe()["name"] == "Contact"


def test_workload_generates_changes(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    started = control(
        ep, "POST", "/__mock/workload", {"object_type": "Contact", "rate_per_s": 200, "seed": 3}
    )
    assert started.status_code == 200, started.text
    deadline = time.monotonic() + 20
    status = started.json()
    while time.monotonic() < deadline and sum(status["done"].values()) < 50:
        time.sleep(0.1)
        status = control(ep, "GET", "/__mock/workload").json()
    stopped = control(ep, "DELETE", "/__mock/workload").json()
    assert stopped["running"] is False and stopped["errors"] == 0
    assert stopped["done"]["create"] > 0 and sum(stopped["done"].values()) >= 50
    live = sf.query("SELECT COUNT() FROM Contact")["totalSize"]
    assert live == stopped["done"]["create"] - stopped["done"]["delete"]
    unknown = control(ep, "POST", "/__mock/workload", {"object_type": "Nope", "rate_per_s": 1})
    assert unknown.status_code == 400
