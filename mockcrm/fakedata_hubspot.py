"""HubSpot record builders: the properties of a new record of each standard object, as strings.

Values use the internal names of a new portal's enumeration options, epoch-ms strings for date
properties (midnight UTC, as HubSpot stores dates) and ISO 8601 for datetimes, so they pass the mock's
property validation unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from mockcrm import fakedata_words as w
from mockcrm.fakedata_primitives import Picker

Props = dict[str, str]
Builder = Callable[[Picker], Props]


def contact(p: Picker) -> Props:
    company = p.company()
    person = p.person(company.domain)
    place = p.place()
    props = {
        "email": person.email,
        "firstname": person.first,
        "lastname": person.last,
        "phone": p.phone(place.country),
        "jobtitle": p.pick(w.JOB_TITLES),
        "company": company.name,
        "website": f"https://www.{company.domain}",
        "address": place.street,
        "city": place.city,
        "state": place.state,
        "zip": place.postal_code,
        "country": place.country,
        "lifecyclestage": p.pick(w.HS_LIFECYCLE_STAGES),
        "hs_lead_status": p.pick(w.HS_LEAD_STATUSES),
        "leadsource": p.pick(w.SF_LEAD_SOURCES),
    }
    if p.chance(0.5):
        props["mobilephone"] = p.phone(place.country)
    if not place.state:
        del props["state"]
    return props


def company(p: Picker) -> Props:
    c = p.company()
    place = p.place()
    props = {
        "name": c.name,
        "domain": c.domain,
        "website": f"https://www.{c.domain}",
        "phone": p.phone(place.country),
        "address": place.street,
        "city": place.city,
        "state": place.state,
        "zip": place.postal_code,
        "country": place.country,
        "industry": p.pick(w.HS_INDUSTRIES),
        "annualrevenue": str(p.revenue()),
        "numberofemployees": str(p.employees()),
        "type": p.pick(w.HS_COMPANY_TYPES),
        "lifecyclestage": p.pick(w.HS_LIFECYCLE_STAGES),
        "description": p.sentence(),
    }
    if not place.state:
        del props["state"]
    return props


def deal(p: Picker) -> Props:
    return {
        "dealname": f"{p.company().name} - {p.pick(w.PRODUCTS)}",
        "amount": str(p.amount()),
        "closedate": str(p.day_ms(-60, 180)),
        "pipeline": "default",
        "dealstage": p.pick(w.HS_DEAL_STAGES),
        "dealtype": p.pick(w.HS_DEAL_TYPES),
        "description": p.sentence(),
    }


def ticket(p: Picker) -> Props:
    return {
        "subject": p.pick(w.TICKET_SUBJECTS),
        "content": p.paragraph(),
        "hs_pipeline": "0",
        "hs_pipeline_stage": p.pick(w.HS_TICKET_STAGES),
        "hs_ticket_priority": p.pick(w.HS_TICKET_PRIORITIES),
        "hs_ticket_category": p.pick(w.HS_TICKET_CATEGORIES),
    }


def task(p: Picker) -> Props:
    return {
        "hs_task_subject": p.pick(w.ACTIVITY_SUBJECTS),
        "hs_task_body": p.sentence(),
        "hs_task_status": p.pick(w.HS_TASK_STATUSES),
        "hs_task_priority": p.pick(w.HS_TASK_PRIORITIES),
        "hs_task_type": p.pick(w.HS_TASK_TYPES),
        "hs_timestamp": p.hs_iso(p.moment_ms(-30, 30)),
    }


def call(p: Picker) -> Props:
    return {
        "hs_call_title": p.pick(w.ACTIVITY_SUBJECTS),
        "hs_call_body": p.sentence(),
        "hs_call_duration": str(p.int_between(20, 3600) * 1000),
        "hs_call_direction": p.pick(w.HS_CALL_DIRECTIONS),
        "hs_call_status": p.pick(w.HS_CALL_STATUSES),
        "hs_timestamp": p.hs_iso(p.moment_ms(-60, 0)),
    }


def email(p: Picker) -> Props:
    return {
        "hs_email_subject": f"Re: {p.pick(w.ACTIVITY_SUBJECTS)}",
        "hs_email_text": p.paragraph(),
        "hs_email_direction": p.pick(w.HS_EMAIL_DIRECTIONS),
        "hs_email_status": p.pick(w.HS_EMAIL_STATUSES),
        "hs_timestamp": p.hs_iso(p.moment_ms(-60, 0)),
    }


def meeting(p: Picker) -> Props:
    start = p.moment_ms(-30, 30)
    end = start + p.int_between(1, 8) * 900_000
    return {
        "hs_meeting_title": p.pick(w.ACTIVITY_SUBJECTS),
        "hs_meeting_body": p.sentence(),
        "hs_meeting_start_time": p.hs_iso(start),
        "hs_meeting_end_time": p.hs_iso(end),
        "hs_meeting_outcome": p.pick(w.HS_MEETING_OUTCOMES),
        "hs_timestamp": p.hs_iso(start),
    }


def note(p: Picker) -> Props:
    return {"hs_note_body": p.paragraph(), "hs_timestamp": p.hs_iso(p.moment_ms(-60, 0))}


BUILDERS: dict[str, Builder] = {
    "contacts": contact,
    "companies": company,
    "deals": deal,
    "tickets": ticket,
    "tasks": task,
    "calls": call,
    "emails": email,
    "meetings": meeting,
    "notes": note,
}

# What an edit touches: groups of properties that only make sense together (a new city comes
# with its state, zip and country; a meeting's start with its end).
_ADDRESS = ("address", "city", "state", "zip", "country")
UPDATE_GROUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "contacts": (
        ("firstname",), ("lastname",), ("phone",), ("mobilephone",), ("jobtitle",), ("company",),
        _ADDRESS, ("lifecyclestage",), ("hs_lead_status",), ("leadsource",), ("email",),
    ),
    "companies": (
        ("name",), ("phone",), _ADDRESS, ("industry",), ("annualrevenue",), ("numberofemployees",),
        ("type",), ("description",), ("lifecyclestage",),
    ),
    "deals": (("dealname",), ("amount",), ("closedate",), ("dealstage",), ("dealtype",), ("description",)),
    "tickets": (
        ("subject",), ("content",), ("hs_pipeline_stage",), ("hs_ticket_priority",), ("hs_ticket_category",),
    ),
    "tasks": (
        ("hs_task_subject",), ("hs_task_body",), ("hs_task_status",), ("hs_task_priority",),
        ("hs_timestamp",),
    ),
    "calls": (("hs_call_title",), ("hs_call_body",), ("hs_call_duration",), ("hs_call_status",)),
    "emails": (("hs_email_subject",), ("hs_email_text",), ("hs_email_status",)),
    "meetings": (
        ("hs_meeting_title",), ("hs_meeting_body",), ("hs_meeting_outcome",),
        ("hs_meeting_start_time", "hs_meeting_end_time", "hs_timestamp"),
    ),
    "notes": (("hs_note_body",),),
}  # fmt: skip

# Names, singular forms and object type ids the API accepts for the standard objects.
ALIASES: dict[str, str] = {}
for _name, _singular, _type_id in (
    ("contacts", "contact", "0-1"),
    ("companies", "company", "0-2"),
    ("deals", "deal", "0-3"),
    ("tickets", "ticket", "0-5"),
    ("tasks", "task", "0-27"),
    ("notes", "note", "0-46"),
    ("meetings", "meeting", "0-47"),
    ("calls", "call", "0-48"),
    ("emails", "email", "0-49"),
):
    ALIASES[_name] = ALIASES[_singular] = ALIASES[_type_id] = _name
