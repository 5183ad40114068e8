"""Salesforce record builders: typed field values for a new record of each standard sObject.

Every required field is set with a default-org picklist value; dates are ``YYYY-MM-DD``, datetimes
``2024-01-05T10:00:00.000+0000``, currency and percent are floats, counts ints. State and country
are full names, which orgs with state and country picklists accept as well.

Reference fields (``AccountId``, ``WhoId``, ``CampaignId`` ...) are left out: only the server knows
which ids exist, so the junction objects (OpportunityContactRole, CampaignMember) come back
without the references they require and the caller adds them.
"""

from __future__ import annotations

from collections.abc import Callable

from mockcrm import fakedata_words as w
from mockcrm.fakedata_primitives import Picker

Fields = dict[str, object]
Builder = Callable[[Picker], Fields]


def contact(p: Picker) -> Fields:
    c = p.company()
    person = p.person(c.domain)
    place = p.place()
    return {
        "Salutation": p.pick(w.SALUTATIONS),
        "FirstName": person.first,
        "LastName": person.last,
        "Email": person.email,
        "Phone": p.phone(place.country),
        "MobilePhone": p.phone(place.country) if p.chance(0.5) else None,
        "Title": p.pick(w.JOB_TITLES),
        "Department": p.pick(w.DEPARTMENTS),
        "Birthdate": p.date_str(p.day_ms(-65 * 365, -22 * 365)),
        "LeadSource": p.pick(w.SF_LEAD_SOURCES),
        "MailingStreet": place.street,
        "MailingCity": place.city,
        "MailingState": place.state or None,
        "MailingPostalCode": place.postal_code,
        "MailingCountry": place.country,
        "HasOptedOutOfEmail": p.chance(0.05),
        "DoNotCall": p.chance(0.03),
    }


def lead(p: Picker) -> Fields:
    c = p.company()
    person = p.person(c.domain)
    place = p.place()
    return {
        "Salutation": p.pick(w.SALUTATIONS),
        "FirstName": person.first,
        "LastName": person.last,
        "Company": c.name,
        "Email": person.email,
        "Phone": p.phone(place.country),
        "Title": p.pick(w.JOB_TITLES),
        "Website": f"https://www.{c.domain}",
        "Industry": p.pick(w.SF_INDUSTRIES),
        "AnnualRevenue": float(p.revenue()),
        "NumberOfEmployees": p.employees(),
        "LeadSource": p.pick(w.SF_LEAD_SOURCES),
        "Status": "Open - Not Contacted" if p.chance(0.6) else p.pick(w.SF_LEAD_STATUSES),
        "Rating": p.pick(w.SF_LEAD_RATINGS),
        "Street": place.street,
        "City": place.city,
        "State": place.state or None,
        "PostalCode": place.postal_code,
        "Country": place.country,
    }


def account(p: Picker) -> Fields:
    c = p.company()
    place = p.place()
    return {
        "Name": c.name,
        "Website": f"https://www.{c.domain}",
        "Phone": p.phone(place.country),
        "Industry": p.pick(w.SF_INDUSTRIES),
        "Type": p.pick(w.SF_ACCOUNT_TYPES),
        "AnnualRevenue": float(p.revenue()),
        "NumberOfEmployees": p.employees(),
        "AccountNumber": f"CD{p.int_between(100000, 999999)}",
        "Description": p.sentence(),
        "BillingStreet": place.street,
        "BillingCity": place.city,
        "BillingState": place.state or None,
        "BillingPostalCode": place.postal_code,
        "BillingCountry": place.country,
        "ShippingStreet": place.street,
        "ShippingCity": place.city,
        "ShippingState": place.state or None,
        "ShippingPostalCode": place.postal_code,
        "ShippingCountry": place.country,
    }


def opportunity(p: Picker) -> Fields:
    return {
        "Name": f"{p.company().name} - {p.pick(w.PRODUCTS)}"[:120],
        "StageName": p.pick(w.SF_OPPORTUNITY_STAGES),
        "CloseDate": p.date_str(p.day_ms(-60, 180)),
        "Amount": float(p.amount()),
        "Type": p.pick(w.SF_OPPORTUNITY_TYPES),
        "LeadSource": p.pick(w.SF_LEAD_SOURCES),
        "Description": p.sentence(),
    }


def opportunity_contact_role(p: Picker) -> Fields:
    return {"Role": p.pick(w.SF_CONTACT_ROLES), "IsPrimary": p.chance(0.3)}


def case(p: Picker) -> Fields:
    return {
        "Subject": p.pick(w.TICKET_SUBJECTS),
        "Description": p.paragraph(),
        "Status": p.pick(w.SF_CASE_STATUSES),
        "Priority": p.pick(w.SF_CASE_PRIORITIES),
        "Origin": p.pick(w.SF_CASE_ORIGINS),
        "Type": p.pick(w.SF_CASE_TYPES),
        "Reason": p.pick(w.SF_CASE_REASONS),
    }


def task(p: Picker) -> Fields:
    kind = p.pick(w.SF_TASK_TYPES)
    fields: Fields = {
        "Subject": p.pick(w.ACTIVITY_SUBJECTS),
        "Description": p.sentence(),
        "Status": p.pick(w.SF_TASK_STATUSES),
        "Priority": p.pick(w.SF_TASK_PRIORITIES),
        "ActivityDate": p.date_str(p.day_ms(-30, 30)),
        "Type": kind,
        "TaskSubtype": {"Call": "Call", "Email": "Email"}.get(kind, "Task"),
    }
    if kind == "Call":
        fields["CallDurationInSeconds"] = p.int_between(20, 3600)
        fields["CallType"] = p.pick(w.SF_CALL_TYPES)
    return fields


def event(p: Picker) -> Fields:
    start = p.moment_ms(-30, 30)
    minutes = p.int_between(1, 8) * 15
    return {
        "Subject": p.pick(w.ACTIVITY_SUBJECTS),
        "StartDateTime": p.sf_iso(start),
        "EndDateTime": p.sf_iso(start + minutes * 60_000),
        "ActivityDateTime": p.sf_iso(start),
        "DurationInMinutes": minutes,
        "Location": p.pick(w.LOCATIONS)[0],
        "Description": p.sentence(),
        "Type": p.pick(w.SF_EVENT_TYPES),
    }


def user(p: Picker) -> Fields:
    person = p.person()
    return {
        "Username": person.email,
        "Email": person.email,
        "FirstName": person.first,
        "LastName": person.last,
        "IsActive": True,
    }


def campaign(p: Picker) -> Fields:
    start = p.day_ms(-90, 90)
    return {
        "Name": f"{p.pick(w.COMPANY_PREFIXES)} {p.pick(w.SF_CAMPAIGN_TYPES)} {p.date_str(start)[:7]}",
        "IsActive": p.chance(0.7),
        "Status": p.pick(w.SF_CAMPAIGN_STATUSES),
        "Type": p.pick(w.SF_CAMPAIGN_TYPES),
        "StartDate": p.date_str(start),
        "EndDate": p.date_str(start + p.int_between(1, 60) * 86_400_000),
    }


def campaign_member(p: Picker) -> Fields:
    return {"Status": p.pick(w.SF_CAMPAIGN_MEMBER_STATUSES)}


def custom(p: Picker) -> Fields:
    """Every custom object has a text ``Name``; its own fields are the server's to fill."""
    return {"Name": p.words(80)}


BUILDERS: dict[str, Builder] = {
    "Contact": contact,
    "Lead": lead,
    "Account": account,
    "Opportunity": opportunity,
    "OpportunityContactRole": opportunity_contact_role,
    "Case": case,
    "Task": task,
    "Event": event,
    "User": user,
    "Campaign": campaign,
    "CampaignMember": campaign_member,
}
CANONICAL: dict[str, str] = {name.lower(): name for name in BUILDERS}
"""sObject names are case-insensitive in the API; this maps lower case to the canonical name."""

_MAILING = ("MailingStreet", "MailingCity", "MailingState", "MailingPostalCode", "MailingCountry")
_LEAD_ADDRESS = ("Street", "City", "State", "PostalCode", "Country")
_BILLING = ("BillingStreet", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry")
_SHIPPING = ("ShippingStreet", "ShippingCity", "ShippingState", "ShippingPostalCode", "ShippingCountry")
UPDATE_GROUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Contact": (
        ("FirstName",), ("LastName",), ("Email",), ("Phone",), ("MobilePhone",), ("Title",), ("Department",),
        ("LeadSource",), _MAILING, ("HasOptedOutOfEmail",), ("DoNotCall",),
    ),
    "Lead": (
        ("FirstName",), ("LastName",), ("Company",), ("Email",), ("Phone",), ("Title",), ("Industry",),
        ("AnnualRevenue",), ("NumberOfEmployees",), ("LeadSource",), ("Status",), ("Rating",), _LEAD_ADDRESS,
    ),
    "Account": (
        ("Name",), ("Website",), ("Phone",), ("Industry",), ("Type",), ("AnnualRevenue",),
        ("NumberOfEmployees",), ("Description",), _BILLING, _SHIPPING,
    ),
    "Opportunity": (("Name",), ("StageName",), ("CloseDate",), ("Amount",), ("Type",), ("Description",)),
    "OpportunityContactRole": (("Role",), ("IsPrimary",)),
    "Case": (("Subject",), ("Description",), ("Status",), ("Priority",), ("Origin",), ("Type",), ("Reason",)),
    "Task": (("Subject",), ("Description",), ("Status",), ("Priority",), ("ActivityDate",)),
    "Event": (("Subject",), ("Location",), ("Description",), ("Type",)),
    "User": (("FirstName",), ("LastName",), ("Email",)),
    "Campaign": (("IsActive",), ("Status",), ("Type",)),
    "CampaignMember": (("Status",),),
}  # fmt: skip
CUSTOM_UPDATE_GROUPS: tuple[tuple[str, ...], ...] = (("Name",),)
