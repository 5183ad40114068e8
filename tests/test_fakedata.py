"""FakeData: reproducible, unique and valid against the real picklists and property formats."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockcrm.fakedata import HUBSPOT_OBJECT_TYPES, SALESFORCE_SOBJECTS, FakeData

# Restated from reference/standard-fields.md rather than imported, so a wrong word list fails here.
LIFECYCLE = {
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
    "evangelist", "other",
}  # fmt: skip
DEAL_STAGES = {
    "appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
    "contractsent", "closedwon", "closedlost",
}  # fmt: skip
LEAD_SOURCES = {"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"}
OPP_STAGES = {
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
}  # fmt: skip
CASE_STATUSES = {"New", "Working", "Escalated", "Closed"}
TASK_STATUSES = {"Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"}
TASK_PRIORITIES = {"High", "Normal", "Low"}
LEAD_STATUSES = {"Open - Not Contacted", "Working - Contacted", "Closed - Not Converted"}
REQUIRED = {
    "Contact": {"LastName"},
    "Lead": {"LastName", "Company", "Status"},
    "Account": {"Name"},
    "Opportunity": {"Name", "StageName", "CloseDate"},
    "Case": {"Status"},
    "Task": {"Status", "Priority"},
    "Campaign": {"Name"},
    "User": {"Username", "Email", "LastName"},
    "Event": {"StartDateTime"},
}
# The countries of the Salesforce mock's state/country picklists (real names).
COUNTRIES = {
    "United States",
    "Canada",
    "United Kingdom",
    "Germany",
    "France",
    "Spain",
    "Italy",
    "Netherlands",
    "Ireland",
    "Australia",
    "New Zealand",
    "Japan",
    "India",
    "Brazil",
    "Mexico",
    "Sweden",
    "Switzerland",
}
EMAIL = re.compile(r"^[a-z0-9.]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SF_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
HS_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def check_hubspot(object_type: str, props: dict[str, str]) -> None:
    assert props, object_type
    assert all(isinstance(v, str) for v in props.values()), props
    if object_type == "contacts":
        assert EMAIL.match(props["email"]), props["email"]
        assert props["lifecyclestage"] in LIFECYCLE
        assert props["leadsource"] in LEAD_SOURCES
        assert props["firstname"] and props["lastname"]
    elif object_type == "companies":
        assert props["name"] and "." in props["domain"]
        int(props["annualrevenue"])
    elif object_type == "deals":
        assert props["pipeline"] == "default"
        assert props["dealstage"] in DEAL_STAGES
        assert int(props["closedate"]) % 86_400_000 == 0  # midnight UTC, as HubSpot stores dates
        float(props["amount"])
    elif object_type == "tickets":
        assert props["hs_pipeline"] == "0"
        assert props["hs_pipeline_stage"] in {"1", "2", "3", "4"}
        assert props["hs_ticket_priority"] in {"LOW", "MEDIUM", "HIGH"}
        assert props["subject"]
    else:
        assert HS_ISO.match(props["hs_timestamp"]), props
        datetime.fromisoformat(props["hs_timestamp"].replace("Z", "+00:00"))


def check_salesforce(sobject: str, fields: dict[str, object]) -> None:
    for name in REQUIRED.get(sobject, set()):
        assert fields.get(name) not in (None, ""), (sobject, name)
    for name, value in fields.items():
        assert value is None or isinstance(value, str | int | float | bool), (name, value)
        if name.endswith("Date") or name in {"Birthdate", "StartDate", "EndDate"}:
            assert isinstance(value, str) and DATE.match(value), (name, value)
            datetime.strptime(value, "%Y-%m-%d")
        if name.endswith("DateTime"):
            assert isinstance(value, str) and SF_DATETIME.match(value), (name, value)
        if name in {"Email", "Username"}:
            assert isinstance(value, str) and EMAIL.match(value), value
        if name == "LeadSource":
            assert value in LEAD_SOURCES
        if name.endswith("Country") and value is not None:
            assert value in COUNTRIES, value
        if name.endswith("State") and value is not None:
            # State and country picklists: a state needs its country.
            assert fields[name[: -len("State")] + "Country"], fields
    if sobject == "Lead":
        assert fields["Status"] in LEAD_STATUSES
        assert isinstance(fields["NumberOfEmployees"], int)
        assert isinstance(fields["AnnualRevenue"], float)
    if sobject == "Opportunity":
        assert fields["StageName"] in OPP_STAGES
    if sobject == "Case":
        assert fields["Status"] in CASE_STATUSES
    if sobject == "Task":
        assert fields["Status"] in TASK_STATUSES
        assert fields["Priority"] in TASK_PRIORITIES


def test_same_seed_same_sequence_and_different_seed_differs() -> None:
    def run(seed: int) -> list[object]:
        fake = FakeData(seed)
        out: list[object] = []
        for t in HUBSPOT_OBJECT_TYPES:
            out += [fake.hubspot_properties(t), fake.hubspot_update(t)]
        for s in SALESFORCE_SOBJECTS:
            out += [fake.salesforce_fields(s), fake.salesforce_update(s)]
        return out

    assert run(7) == run(7)
    assert run(7) != run(8)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_every_standard_record_is_valid(seed: int) -> None:
    fake = FakeData(seed)
    for _ in range(5):
        for t in HUBSPOT_OBJECT_TYPES:
            check_hubspot(t, fake.hubspot_properties(t))
        for s in SALESFORCE_SOBJECTS:
            check_salesforce(s, fake.salesforce_fields(s))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_updates_touch_one_to_three_groups_of_known_properties(seed: int) -> None:
    fake = FakeData(seed)
    for t in HUBSPOT_OBJECT_TYPES:
        known = set(fake.hubspot_properties(t)) | {"mobilephone", "state"}
        edit = fake.hubspot_update(t)
        assert 1 <= len(edit) <= 3 * 5 and set(edit) <= known, (t, edit)
        assert all(isinstance(v, str) for v in edit.values())
    for s in SALESFORCE_SOBJECTS:
        known_fields = set(fake.salesforce_fields(s))
        sf_edit = fake.salesforce_update(s)
        assert sf_edit and set(sf_edit) <= known_fields, (s, sf_edit)
        assert "TaskSubtype" not in sf_edit  # createable, not updateable
        if s == "Lead":
            assert sf_edit.get("Status", "Open - Not Contacted") in LEAD_STATUSES


def test_an_address_edit_moves_state_and_country_together() -> None:
    fake = FakeData(3)
    seen_clear = False
    for _ in range(400):
        edit = fake.salesforce_update("Contact")
        if "MailingCountry" in edit:
            assert {"MailingCity", "MailingState", "MailingPostalCode"} <= set(edit)
            seen_clear |= edit["MailingState"] is None
    assert seen_clear  # moving abroad clears the old state instead of leaving it inconsistent


def test_emails_are_unique_within_an_instance_and_across_tagged_instances() -> None:
    fake = FakeData(11)
    emails = [fake.hubspot_properties("contacts")["email"] for _ in range(20_000)]
    emails += [str(fake.salesforce_fields("Lead")["Email"]) for _ in range(5_000)]
    emails += [str(fake.salesforce_update("Contact").get("Email", "")) for _ in range(2_000)]
    emails += [fake.hubspot_update("contacts").get("email", "") for _ in range(5_000)]
    emails += [str(fake.salesforce_update("User").get("Email", "")) for _ in range(2_000)]
    emails = [e for e in emails if e]
    assert len(set(emails)) == len(emails)
    tagged = FakeData(11, email_tag="w1")
    other = [tagged.hubspot_properties("contacts")["email"] for _ in range(1_000)]
    assert not set(other) & set(emails)


def test_aliases_custom_objects_and_unknown_types() -> None:
    fake = FakeData(1)
    assert "email" in fake.hubspot_properties("0-1")
    assert "email" in fake.hubspot_properties("CONTACT")
    assert "dealstage" in fake.hubspot_properties("0-3")
    assert fake.hubspot_properties("2-12345") == {}
    assert "LastName" in fake.salesforce_fields("contact")
    assert fake.salesforce_fields("Invoice__c").keys() == {"Name"}
    assert fake.salesforce_update("Invoice__c").keys() == {"Name"}
    with pytest.raises(ValueError, match="unknown HubSpot object type"):
        fake.hubspot_properties("widgets")
    with pytest.raises(ValueError, match="unknown HubSpot object type"):
        fake.hubspot_update("widgets")
    with pytest.raises(ValueError, match="unknown Salesforce sObject"):
        fake.salesforce_fields("Widget")
    with pytest.raises(ValueError, match="email_tag"):
        FakeData(1, email_tag="Not OK")


def test_generated_dates_follow_now_ms() -> None:
    june = int(datetime(2030, 6, 15, tzinfo=UTC).timestamp() * 1000)
    fake = FakeData(5, now_ms=june)
    close = int(fake.hubspot_properties("deals")["closedate"])
    assert abs(close - june) <= 181 * 86_400_000


def test_values_for_custom_fields_by_type() -> None:
    fake = FakeData(2)
    assert fake.hubspot_value("enumeration", ["a", "b"]) in {"a", "b"}
    assert fake.hubspot_value("bool") in {"true", "false"}
    int(fake.hubspot_value("number"))
    assert int(fake.hubspot_value("date")) % 86_400_000 == 0
    assert HS_ISO.match(fake.hubspot_value("datetime"))
    assert fake.hubspot_value("string")
    assert fake.salesforce_value("picklist", picklist=["X"]) == "X"
    assert len(str(fake.salesforce_value("string", length=5))) <= 5
    assert EMAIL.match(str(fake.salesforce_value("email")))
    assert isinstance(fake.salesforce_value("boolean"), bool)
    assert isinstance(fake.salesforce_value("currency"), float)
    assert DATE.match(str(fake.salesforce_value("date")))
    assert SF_DATETIME.match(str(fake.salesforce_value("datetime")))
    with pytest.raises(ValueError):
        fake.hubspot_value("enumeration")
    with pytest.raises(ValueError):
        fake.salesforce_value("picklist")
    with pytest.raises(ValueError):
        fake.hubspot_value("blob")
