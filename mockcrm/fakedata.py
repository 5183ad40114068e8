"""Realistic, seeded, reproducible records for the mock CRMs (seeding and the workload generator).

``FakeData(seed)`` replays the same sequence for the same seed. Contacts, leads and users get an
email that is unique within the instance; keep one instance per server (or give each instance its
own ``email_tag``) so that records made by different instances never share an email either.

The word lists and picklist values live in ``fakedata_words``; the per-object builders in
``fakedata_hubspot`` and ``fakedata_salesforce``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from mockcrm import fakedata_hubspot as hs
from mockcrm import fakedata_salesforce as sf
from mockcrm.fakedata_primitives import ANCHOR_MS, Picker

_UNIQUE = frozenset({"email", "Email", "Username"})
_EDITS_PER_SOURCE = 8

HUBSPOT_OBJECT_TYPES: tuple[str, ...] = tuple(hs.BUILDERS)
SALESFORCE_SOBJECTS: tuple[str, ...] = tuple(sf.BUILDERS)


def hubspot_object_name(object_type: str) -> str | None:
    """The canonical name (``contacts``) of a standard HubSpot object given any accepted alias
    (``contact``, ``CONTACTS``, ``0-1``), or None when it is not a standard object."""
    return hs.ALIASES.get(object_type.lower())


def salesforce_sobject_name(sobject: str) -> str | None:
    """The canonical name (``Contact``) of a standard sObject, or None when it is not one."""
    return sf.CANONICAL.get(sobject.lower())


class FakeData:
    """Seeded generator of new records and plausible edits for both CRMs."""

    def __init__(self, seed: int | None, *, email_tag: str = "", now_ms: int = ANCHOR_MS) -> None:
        """``email_tag`` (lower-case letters/digits) goes into every email so that two instances
        with the same seed make different addresses; ``now_ms`` anchors generated dates (fixed by
        default so that a seed replays exactly whatever the day)."""
        self._p = Picker(seed, email_tag=email_tag, now_ms=now_ms)
        # object kind -> (record edits draw from, edits served, unique groups given out)
        self._edit_sources: dict[str, tuple[Mapping[str, object], int, set[tuple[str, ...]]]] = {}

    # -- HubSpot ---------------------------------------------------------------------------------
    def _hubspot_kind(self, object_type: str) -> str | None:
        name = hubspot_object_name(object_type)
        if name is not None:
            return name
        if object_type.startswith("2-"):
            return None  # a custom object: its properties are the server's
        raise ValueError(f"unknown HubSpot object type {object_type!r}")

    def hubspot_properties(self, object_type: str) -> dict[str, str]:
        """Properties for a new valid record of ``object_type`` (all values strings).

        Custom objects (``2-…``) get an empty dict: their properties are defined per portal.
        """
        kind = self._hubspot_kind(object_type)
        return {} if kind is None else hs.BUILDERS[kind](self._p)

    def hubspot_update(self, object_type: str) -> dict[str, str]:
        """A plausible edit of 1-3 properties (or property groups such as an address).

        A property of the group that the new value leaves blank is sent as ``""``, which is how
        HubSpot clears a value (a move abroad clears the old state).
        """
        kind = self._hubspot_kind(object_type)
        if kind is None:
            return {}
        fresh, groups = self._edit_source(f"hs:{kind}", hs.BUILDERS[kind], hs.UPDATE_GROUPS[kind])
        return {key: str(fresh.get(key, "")) for group in groups for key in group}

    # -- Salesforce ------------------------------------------------------------------------------
    def _salesforce_kind(self, sobject: str) -> str | None:
        name = salesforce_sobject_name(sobject)
        if name is not None:
            return name
        if sobject.lower().endswith("__c"):
            return None
        raise ValueError(f"unknown Salesforce sObject {sobject!r}")

    def salesforce_fields(self, sobject: str) -> dict[str, object]:
        """Typed field values for a new valid record; every required field is set.

        Reference fields are omitted (see ``fakedata_salesforce``); custom ``__c`` objects get a
        ``Name`` only.
        """
        kind = self._salesforce_kind(sobject)
        return sf.custom(self._p) if kind is None else sf.BUILDERS[kind](self._p)

    def salesforce_update(self, sobject: str) -> dict[str, object]:
        """A plausible edit of 1-3 fields (or field groups); blanks in a group are sent as null."""
        kind = self._salesforce_kind(sobject)
        if kind is None:
            fresh, groups = self._edit_source("sf:__c", sf.custom, sf.CUSTOM_UPDATE_GROUPS)
        else:
            fresh, groups = self._edit_source(f"sf:{kind}", sf.BUILDERS[kind], sf.UPDATE_GROUPS[kind])
        return {key: fresh.get(key) for group in groups for key in group}

    def _edit_source(
        self,
        key: str,
        build: Callable[[Picker], Mapping[str, object]],
        all_groups: Sequence[tuple[str, ...]],
    ) -> tuple[Mapping[str, object], list[tuple[str, ...]]]:
        """A generated record to take an edit's values from, and the 1-3 groups to take.

        Building a whole record for a 2-field edit would be most of an edit's cost, so one record
        serves several edits. A group holding a unique value (an email, a username) is given out
        once only, and the record is replaced when an edit wants such a group again.
        """
        groups = self._p.some_of(all_groups, 3)
        source = self._edit_sources.get(key)
        unique = [g for g in groups if not _UNIQUE.isdisjoint(g)]
        if source is None or source[1] >= _EDITS_PER_SOURCE or any(g in source[2] for g in unique):
            source = (build(self._p), 0, set())
        source[2].update(unique)
        self._edit_sources[key] = (source[0], source[1] + 1, source[2])
        return source[0], groups

    # -- values for fields FakeData does not know (custom properties and fields) -----------------
    def hubspot_value(self, prop_type: str, options: Sequence[str] = ()) -> str:
        """A value for a HubSpot property of ``type`` (string, number, bool, date, datetime,
        enumeration, phone_number). Enumerations need their option values."""
        p = self._p
        if prop_type == "enumeration":
            if not options:
                raise ValueError("an enumeration value needs the property's options")
            return p.pick(options)
        if prop_type == "number":
            return str(p.int_between(0, 100_000))
        if prop_type == "bool":
            return "true" if p.chance(0.5) else "false"
        if prop_type == "date":
            return str(p.day_ms(-365, 365))
        if prop_type == "datetime":
            return p.hs_iso(p.moment_ms(-365, 365))
        if prop_type == "phone_number":
            return p.phone()
        if prop_type == "string":
            return p.words(100)
        raise ValueError(f"unknown HubSpot property type {prop_type!r}")

    def salesforce_value(self, field_type: str, *, length: int = 80, picklist: Sequence[str] = ()) -> object:
        """A value for a Salesforce field of describe ``type``; picklists need their values."""
        p = self._p
        if field_type in ("picklist", "multipicklist", "combobox"):
            if not picklist:
                raise ValueError("a picklist value needs the field's picklist values")
            return p.pick(picklist)
        if field_type in ("string", "textarea"):
            return p.words(length)
        if field_type == "email":
            return p.unique_email()
        if field_type == "phone":
            return p.phone()
        if field_type == "url":
            return f"https://www.{p.company().domain}"
        if field_type == "boolean":
            return p.chance(0.5)
        if field_type == "int":
            return p.int_between(0, 10_000)
        if field_type in ("double", "currency", "percent"):
            return (
                float(p.int_between(0, 100_000)) if field_type != "percent" else float(p.int_between(0, 100))
            )
        if field_type == "date":
            return p.date_str(p.day_ms(-365, 365))
        if field_type == "datetime":
            return p.sf_iso(p.moment_ms(-365, 365))
        raise ValueError(f"unsupported Salesforce field type {field_type!r}")
