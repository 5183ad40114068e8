"""The demo's story: who exists where before crmsync first runs, and what people edit afterwards.

A fresh state file starts its cursors at the newest existing record (SPEC §4), so records that
exist before the first run never sync by themselves. The story therefore seeds the "same person on
both sides" pairs first, lets crmsync initialise, and only then edits them and creates the rest.
"""

from __future__ import annotations

from typing import Any

import msgspec

from engine.demo_crms import DemoCrms

# The one Salesforce validation rule the demo installs, and the one email Salesforce rejects
# (HubSpot accepts any non-blank local part; Salesforce only ASCII).
INTERN_RULE = {
    "sobject": "Contact",
    "field": "Title",
    "condition": "equals",
    "value": "Intern",
    "message": "Interns are not kept in Salesforce (Sales Ops policy)",
    "error_field": "Title",
    "name": "No_Interns",
}
BAD_EMAIL = "renée.müller@example.com"

PAIR = "same person on both sides"
OLD = "HubSpot only, before the first run"
HS_NEW = "new in HubSpot"
SF_NEW = "new in Salesforce"
NO_EMAIL = "HubSpot, no email"
INVALID = "invalid for Salesforce"

_FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Ken",
    "Radia",
    "Leslie",
    "Margaret",
    "John",
    "Katherine",
    "Dennis",
]
_LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Perlman",
    "Lamport",
    "Hamilton",
    "Backus",
]
_TITLES = ("Engineer", "Analyst", "CTO", "Head of Sales", "Architect", "Product Manager")


class Person(msgspec.Struct, kw_only=True):
    name: str
    email: str | None
    story: str
    hubspot_id: str | None = None
    salesforce_type: str | None = None
    salesforce_id: str | None = None
    note: str = ""
    """What the story did to this person after the first run."""


def _name(i: int) -> tuple[str, str]:
    return _FIRST[i % len(_FIRST)], _LAST[(i * 5 + i // len(_FIRST)) % len(_LAST)]


def _email(first: str, last: str, i: int) -> str:
    return f"{first.lower()}.{last.lower()}{i}@example.com"


async def before_first_run(crms: DemoCrms, pairs: int = 8, old: int = 2) -> list[Person]:
    """People who exist before crmsync is first started."""
    people: list[Person] = []
    for i in range(pairs):
        first, last = _name(i)
        email = _email(first, last, i)
        # The same person, typed differently on each side: these fields conflict once linked.
        hs_id = await crms.hs_create(
            {
                "email": email,
                "firstname": first[:3] if i % 2 else first,  # a nickname in HubSpot
                "lastname": last,
                "jobtitle": _TITLES[i % len(_TITLES)],
                "phone": f"+1 555 01{i:02d}",
            }
        )
        sf_id = await crms.sf_create(
            "Contact",
            {
                "Email": email.upper() if i % 3 == 0 else email,  # email matching ignores case
                "FirstName": first,
                "LastName": last,
                "Title": _TITLES[(i + 1) % len(_TITLES)],
                "Phone": f"+1 555 09{i:02d}",
            },
        )
        people.append(Person(name=f"{first} {last}", email=email, story=PAIR, hubspot_id=hs_id))
        people[-1].salesforce_type, people[-1].salesforce_id = "Contact", sf_id
    for i in range(pairs, pairs + old):
        first, last = _name(i)
        email = _email(first, last, i)
        hs_id = await crms.hs_create({"email": email, "firstname": first, "lastname": last})
        people.append(Person(name=f"{first} {last}", email=email, story=OLD, hubspot_id=hs_id))
    return people


async def after_first_run(crms: DemoCrms, people: list[Person], hs_new: int = 12, sf_new: int = 8) -> None:
    """Edits and new records, as users would make them once crmsync runs."""
    for n, p in enumerate(x for x in people if x.story == PAIR):
        # Any edit makes a pre-existing record a change; crmsync then links the pair by email.
        assert p.hubspot_id is not None and p.salesforce_id is not None
        mobile = f"+1 555 07{n:02d}"
        if n % 2:
            await crms.sf_update("Contact", p.salesforce_id, {"MobilePhone": mobile})
            p.note = "mobile phone edited in Salesforce"
        else:
            await crms.hs_update(p.hubspot_id, {"mobilephone": mobile})
            p.note = "mobile phone edited in HubSpot"
    base = len(people)
    for i in range(base, base + hs_new):
        first, last = _name(i)
        props = {"email": _email(first, last, i), "firstname": first, "lastname": last}
        props["jobtitle"] = _TITLES[i % len(_TITLES)]
        people.append(await _hs_person(crms, props, HS_NEW))
    base = len(people)
    for i in range(base, base + sf_new):
        first, last = _name(i)
        sobject = "Lead" if i % 4 == 0 else "Contact"
        fields: dict[str, Any] = {"Email": _email(first, last, i), "FirstName": first, "LastName": last}
        if sobject == "Lead":
            fields["Company"] = f"{last} & Co"
        sf_id = await crms.sf_create(sobject, fields)
        people.append(
            Person(
                name=f"{first} {last}",
                email=fields["Email"],
                story=SF_NEW,
                salesforce_type=sobject,
                salesforce_id=sf_id,
            )
        )
    people.append(await _hs_person(crms, {"firstname": "Nomail", "lastname": "Person"}, NO_EMAIL))
    intern = {
        "email": "ivy.intern@example.com",
        "firstname": "Ivy",
        "lastname": "Intern",
        "jobtitle": "Intern",
    }
    people.append(await _hs_person(crms, intern, INVALID, "breaks Salesforce rule No_Interns"))
    odd = {"email": BAD_EMAIL, "firstname": "Renée", "lastname": "Müller"}
    people.append(await _hs_person(crms, odd, INVALID, "email Salesforce rejects"))


async def _hs_person(crms: DemoCrms, props: dict[str, str], story: str, note: str = "") -> Person:
    hs_id = await crms.hs_create(props)
    name = f"{props.get('firstname', '')} {props.get('lastname', '')}".strip()
    return Person(name=name, email=props.get("email"), story=story, hubspot_id=hs_id, note=note)
