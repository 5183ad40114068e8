"""The echo checks on records as read (actors/contact_values.py): ``hubspot_agrees`` and
``salesforce_agrees`` answer exactly what ``agrees_with_bases`` answers of the converted record."""

from __future__ import annotations

import itertools
import random
from typing import Any

from actors.contact_values import ID_PROPERTY, ContactValues
from actors.owners import OwnerDirectory
from engine.mapping import FieldKind, FieldMapping, SyncRule, default_contact_mappings
from engine.store_types import Link

EXT = "HubSpot_Id__c"
OWNERS = OwnerDirectory.build(
    [("o1", "Ann@X.io"), ("o2", "bob@x.io")], [("005A00000000001AAA", "ann@x.io", True)]
)
MAPPINGS = {
    "Contact": (
        *default_contact_mappings("Contact"),
        FieldMapping("score", "Score__c", kind=FieldKind.NUMBER),
        FieldMapping("vip", "Vip__c", kind=FieldKind.BOOLEAN),
        FieldMapping("notes", "Notes__c", SyncRule.DONT_SYNC),
    ),
    "Lead": default_contact_mappings("Lead"),
}
BASES: dict[str, str | None] = {
    **{m.key: None for m in MAPPINGS["Contact"] if m.rule is not SyncRule.DONT_SYNC},
    "email": "a@x.io",
    "firstname": "Ann",
    "state": "California",
    "hubspot_owner_id": "ann@x.io",
    "score": "3",
    "vip": "true",
}
HS_VALUES: dict[str, list[Any]] = {
    "email": ["a@x.io", " A@X.io ", "b@x.io", None],
    "firstname": ["Ann", "Ann ", "Bo", None, ""],
    "state": ["California", "CA", "Texas", None],
    "hubspot_owner_id": ["o1", "o2", "o9", None],
    "score": ["3", "3.0", "x", None],
    "vip": ["true", "1", "no", None],
}
SF_VALUES: dict[str, list[Any]] = {
    "Email": ["a@x.io", "A@x.io", "c@x.io"],
    "FirstName": ["Ann", " Ann", None],
    "MailingState": ["California", "CA", None],
    "OwnerId": ["005A00000000001", "005A00000000001AAA", "005B00000000009", None],
    "Score__c": [3, 3.0, "3", True, None],
    "Vip__c": [True, False, "true", 1, None],
}


def _link(bases: dict[str, str | None]) -> Link:
    return Link(
        key="k",
        object="contacts",
        hubspot_id="h1",
        salesforce_type="Contact",
        salesforce_id="s1",
        bases=bases,
    )


def _samples(values: dict[str, list[Any]], rng: random.Random, n: int) -> list[dict[str, Any]]:
    """The first value of each field (agreeing with the bases), each field varied alone, and
    ``n`` random combinations."""
    names = list(values)
    agreeing = {name: options[0] for name, options in values.items()}
    alone = [{**agreeing, name: v} for name in names for v in values[name]]
    every = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values.values())]
    return [agreeing, *alone, *rng.sample(every, min(n, len(every)))]


def test_hubspot_agrees_as_agrees_with_bases_does() -> None:
    values = ContactValues(MAPPINGS, OWNERS, EXT)
    rng = random.Random(7)
    agreed = 0
    for bases in (BASES, {**BASES, "firstname": None}, {k: v for k, v in BASES.items() if k != "vip"}):
        bases = dict(bases)
        for record in _samples(HS_VALUES, rng, 400):
            for raw in ({**record, ID_PROPERTY["Contact"]: "s1"}, {**record, ID_PROPERTY["Contact"]: "s2"}):
                link = _link(dict(bases))
                expected = values.agrees_with_bases(link, values.hubspot_record(raw, 0).values, "hubspot")
                assert values.hubspot_agrees(link, raw) == expected, (bases, raw)
                agreed += expected
    assert agreed > 0  # the samples include agreeing records, not only disagreeing ones


def test_salesforce_agrees_as_agrees_with_bases_does() -> None:
    values = ContactValues(MAPPINGS, OWNERS, EXT)
    rng = random.Random(11)
    agreed = 0
    sf_bases = {**BASES, "state": "California"}
    for bases in (sf_bases, {**sf_bases, "hubspot_owner_id": None}):
        for record in _samples(SF_VALUES, rng, 400):
            full = {"attributes": {"type": "Contact"}, "Id": "s1", EXT: "h1", **record}
            for raw in (full, {**full, EXT: "h2"}):
                link = _link(dict(bases))
                converted = values.salesforce_record("Contact", raw).values
                expected = values.agrees_with_bases(link, converted, "salesforce")
                assert values.salesforce_agrees(link, "Contact", raw) == expected, (bases, raw)
                agreed += expected
    assert agreed > 0
