"""The field-mapping model: which HubSpot property pairs with which Salesforce field, under which
sync rule (SPEC §3) and in which canonical type family (SPEC §3.2), plus the checks a mapping list
must pass before the engine starts (R-MAP-7, R-MAP-8, formula fields)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from functools import cached_property

import msgspec


class SyncRule(StrEnum):
    """The six per-field rules of SPEC §3 (the four reference ones and two mirror images)."""

    PREFER_SALESFORCE_UNLESS_BLANK = "prefer_salesforce_unless_blank"
    ALWAYS_SALESFORCE = "always_salesforce"
    TWO_WAY = "two_way"
    DONT_SYNC = "dont_sync"
    PREFER_HUBSPOT_UNLESS_BLANK = "prefer_hubspot_unless_blank"
    ALWAYS_HUBSPOT = "always_hubspot"


class FieldKind(StrEnum):
    """Canonical type families: each has one canonical form that both sides' values reduce to."""

    STRING = "string"
    EMAIL = "email"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    ENUMERATION = "enumeration"
    MULTI = "multi"
    OWNER = "owner"
    STATE = "state"
    COUNTRY = "country"


class MappingError(ValueError):
    """A mapping list the engine must refuse to start with; the message names the mapping."""


class ValueTable:
    """A ``values`` table prepared for lookups: a HubSpot spelling (any case) → the Salesforce
    value, and a Salesforce value → its preferred HubSpot spelling (the first key mapping to it)."""

    __slots__ = ("_to_hubspot", "_to_salesforce")

    def __init__(self, values: Mapping[str, str]) -> None:
        self._to_salesforce = {k.strip().casefold(): v.strip() for k, v in values.items()}
        self._to_hubspot: dict[str, str] = {}
        for k, v in values.items():
            self._to_hubspot.setdefault(v.strip(), k.strip())

    def salesforce_value(self, text: str) -> str:
        """``text`` in Salesforce's vocabulary; a value the table does not know stays as it is."""
        return self._to_salesforce.get(text.casefold(), text)

    def hubspot_value(self, value: str) -> str:
        return self._to_hubspot.get(value, value)


# dict=True lets the per-mapping derived values below be computed once (cached_property).
class FieldMapping(msgspec.Struct, frozen=True, forbid_unknown_fields=True, dict=True):
    """One HubSpot property ↔ one Salesforce field.

    ``formula`` marks a calculated (read-only) Salesforce field: it is never written (R-TRG-5).
    ``values`` optionally translates HubSpot option values to Salesforce picklist values
    (picklists, R-GEO-1 state/country); keys match case-insensitively, and a Salesforce value goes
    back to HubSpot as the *first* key that maps to it, so list the preferred HubSpot spelling first.
    """

    hubspot: str
    salesforce: str
    rule: SyncRule = SyncRule.PREFER_SALESFORCE_UNLESS_BLANK
    kind: FieldKind = FieldKind.STRING
    formula: bool = False
    values: dict[str, str] = msgspec.field(default_factory=dict)

    @cached_property
    def key(self) -> str:
        """The key of this field's base in the state store.

        The HubSpot property name: unique per object (R-MAP-8) and shared by the Lead and Contact
        mappings, so a converted Lead's bases carry over to its Contact.
        """
        return self.hubspot

    @cached_property
    def table(self) -> ValueTable | None:
        """``values`` prepared for lookups, or None without a table."""
        return ValueTable(self.values) if self.values else None

    @cached_property
    def effective_rule(self) -> SyncRule:
        """The rule the reconciler applies, which is not always the one configured."""
        if self.rule is SyncRule.DONT_SYNC:
            return self.rule
        if self.formula:
            # A formula field can only flow Salesforce → HubSpot; whatever else the mapping says,
            # it behaves as "always Salesforce".
            return SyncRule.ALWAYS_SALESFORCE
        if self.kind is FieldKind.OWNER:
            # R-MAP-9: the owner mapping may display another rule but only works two-way.
            return SyncRule.TWO_WAY
        return self.rule


_FORMULA_RULES = frozenset({SyncRule.ALWAYS_SALESFORCE, SyncRule.DONT_SYNC})


def validate_mappings(mappings: Iterable[FieldMapping]) -> tuple[FieldMapping, ...]:
    """Check a mapping list for one object; return it as a tuple or raise MappingError.

    One-to-one (R-MAP-8); Salesforce API names compare case-insensitively as Salesforce does.
    Formula fields only Salesforce → HubSpot. Translation tables must be unambiguous.
    """
    checked = tuple(mappings)
    seen_hs: dict[str, FieldMapping] = {}
    seen_sf: dict[str, FieldMapping] = {}
    for m in checked:
        name = f"{m.hubspot} ↔ {m.salesforce}"
        if not m.hubspot or not m.salesforce:
            raise MappingError(f"mapping {name!r}: both a HubSpot property and a Salesforce field are needed")
        if (other := seen_hs.get(m.hubspot)) is not None:
            raise MappingError(
                f"mapping {name!r}: HubSpot property {m.hubspot!r} is already mapped to "
                f"{other.salesforce!r} (a property can be mapped once)"
            )
        if (other := seen_sf.get(m.salesforce.casefold())) is not None:
            raise MappingError(
                f"mapping {name!r}: Salesforce field {m.salesforce!r} is already mapped to "
                f"{other.hubspot!r} (a field can be mapped once)"
            )
        seen_hs[m.hubspot] = m
        seen_sf[m.salesforce.casefold()] = m
        if m.formula and m.rule not in _FORMULA_RULES:
            raise MappingError(
                f"mapping {name!r}: {m.salesforce!r} is a formula field, which Salesforce never lets "
                f"anyone write; use rule 'always_salesforce' or 'dont_sync', not {m.rule.value!r}"
            )
        if m.values:
            _check_values(name, m.values)
    return checked


def _check_values(name: str, values: Mapping[str, str]) -> None:
    folded: set[str] = set()
    for key in values:
        k = key.strip().casefold()
        if not k:
            raise MappingError(f"mapping {name!r}: an empty value in its translation table")
        if k in folded:
            raise MappingError(f"mapping {name!r}: value {key!r} appears twice in its translation table")
        folded.add(k)
    # A target that is itself a key translating elsewhere would make the canonical form drift
    # on every pass (A → B → C); refuse such chains.
    for target in values.values():
        onward = next(
            (v for k, v in values.items() if k.strip().casefold() == target.strip().casefold()), None
        )
        if onward is not None and onward.strip() != target.strip():
            raise MappingError(
                f"mapping {name!r}: {target!r} is both a Salesforce value and a key translating to {onward!r}"
            )


# R-MAP-7, as (HubSpot fieldType, Salesforce type) → canonical kind. HubSpot's `fieldType` is what
# its UI calls the field type; Salesforce's is `describe().fields[].type`.
_COMPATIBLE: dict[str, dict[str, FieldKind]] = {
    "select": {"picklist": FieldKind.ENUMERATION, "reference": FieldKind.STRING},
    "radio": {"picklist": FieldKind.ENUMERATION, "reference": FieldKind.STRING},
    "checkbox": {"multipicklist": FieldKind.MULTI},
    "booleancheckbox": {"boolean": FieldKind.BOOLEAN},
    "number": {
        "double": FieldKind.NUMBER,
        "int": FieldKind.NUMBER,
        "currency": FieldKind.NUMBER,
        "percent": FieldKind.NUMBER,
    },
    "text": {
        "string": FieldKind.STRING,
        "textarea": FieldKind.STRING,
        "email": FieldKind.EMAIL,
        "phone": FieldKind.STRING,
        "url": FieldKind.STRING,
    },
    "phonenumber": {"phone": FieldKind.STRING, "string": FieldKind.STRING},
    "textarea": {"textarea": FieldKind.STRING},
    "date": {"date": FieldKind.DATE, "datetime": FieldKind.DATETIME},
}


def kind_for_types(
    hubspot_field_type: str, salesforce_type: str, hubspot_type: str | None = None
) -> FieldKind:
    """The canonical kind for a compatible type pair (R-MAP-7), or MappingError if incompatible.

    ``hubspot_field_type`` is the property's ``fieldType`` (the UI type R-MAP-7 speaks of);
    ``hubspot_type`` its ``type``, which tells a date picker holding a date from one holding a
    datetime: a pair is a datetime only if both sides hold one, else it compares as a date.
    """
    kind = _COMPATIBLE.get(hubspot_field_type, {}).get(salesforce_type)
    if kind is None:
        raise MappingError(
            f"a HubSpot {hubspot_field_type!r} property cannot be mapped to a Salesforce "
            f"{salesforce_type!r} field (R-MAP-7)"
        )
    if kind is FieldKind.DATETIME and hubspot_type is not None and hubspot_type != "datetime":
        return FieldKind.DATE
    return kind


def default_contact_mappings(sobject: str = "Contact") -> tuple[FieldMapping, ...]:
    """The default contact mapping (issue 3) for a Salesforce Contact or Lead.

    Address fields are ``Mailing*`` on Contact and bare on Lead; ``company`` exists only on Lead (a
    Contact's company is its Account). Owner matching is by email, so its kind is OWNER.
    """
    lead = sobject == "Lead"
    address = "" if lead else "Mailing"
    fields = [
        FieldMapping("email", "Email", SyncRule.TWO_WAY, FieldKind.EMAIL),
        FieldMapping("firstname", "FirstName"),
        FieldMapping("lastname", "LastName"),
        FieldMapping("phone", "Phone"),
        FieldMapping("mobilephone", "MobilePhone"),
        FieldMapping("jobtitle", "Title"),
        FieldMapping("address", f"{address}Street"),
        FieldMapping("city", f"{address}City"),
        FieldMapping("state", f"{address}State", kind=FieldKind.STATE),
        FieldMapping("zip", f"{address}PostalCode"),
        FieldMapping("country", f"{address}Country", kind=FieldKind.COUNTRY),
        FieldMapping("leadsource", "LeadSource", kind=FieldKind.ENUMERATION),
        FieldMapping("hubspot_owner_id", "OwnerId", SyncRule.TWO_WAY, FieldKind.OWNER),
    ]
    if lead:
        fields.insert(6, FieldMapping("company", "Company"))
    return tuple(fields)


# US states and DC for R-GEO-1's "match default Salesforce state values": Salesforce's state
# picklist stores the name; HubSpot free text often holds the code.
_US_STATES = (
    "AL Alabama|AK Alaska|AZ Arizona|AR Arkansas|CA California|CO Colorado|CT Connecticut|"
    "DE Delaware|DC District of Columbia|FL Florida|GA Georgia|HI Hawaii|ID Idaho|IL Illinois|"
    "IN Indiana|IA Iowa|KS Kansas|KY Kentucky|LA Louisiana|ME Maine|MD Maryland|MA Massachusetts|"
    "MI Michigan|MN Minnesota|MS Mississippi|MO Missouri|MT Montana|NE Nebraska|NV Nevada|"
    "NH New Hampshire|NJ New Jersey|NM New Mexico|NY New York|NC North Carolina|ND North Dakota|"
    "OH Ohio|OK Oklahoma|OR Oregon|PA Pennsylvania|RI Rhode Island|SC South Carolina|SD South Dakota|"
    "TN Tennessee|TX Texas|UT Utah|VT Vermont|VA Virginia|WA Washington|WV West Virginia|"
    "WI Wisconsin|WY Wyoming"
)


def us_state_values() -> dict[str, str]:
    """A ``values`` table converting US state names or codes to Salesforce's state names.

    Names come first so that Salesforce values go back to HubSpot as names.
    """
    pairs = [item.split(" ", 1) for item in _US_STATES.split("|")]
    table = {name: name for _, name in pairs}
    table.update((code, name) for code, name in pairs)
    return table


# Countries by ISO code, and spellings people type, for R-GEO-1's "match default Salesforce
# country values". Not the whole picklist: a value the table does not know is sent as it is.
_COUNTRIES = (
    "US United States|CA Canada|GB United Kingdom|DE Germany|FR France|ES Spain|IT Italy|"
    "NL Netherlands|IE Ireland|AU Australia|NZ New Zealand|JP Japan|IN India|BR Brazil|MX Mexico|"
    "SE Sweden|CH Switzerland"
)
_COUNTRY_ALIASES = {
    "USA": "United States",
    "U.S.": "United States",
    "U.S.A.": "United States",
    "United States of America": "United States",
    "UK": "United Kingdom",
    "Great Britain": "United Kingdom",
    "Deutschland": "Germany",
    "The Netherlands": "Netherlands",
}


def country_values() -> dict[str, str]:
    """A ``values`` table converting country codes and common spellings to Salesforce's names;
    names first, so that Salesforce values go back to HubSpot as names."""
    pairs = [item.split(" ", 1) for item in _COUNTRIES.split("|")]
    table = {name: name for _, name in pairs}
    table.update((code, name) for code, name in pairs)
    table.update(_COUNTRY_ALIASES)
    return table
