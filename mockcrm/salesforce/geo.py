"""State and country picklists: when an org turns them on, addresses take only listed values.

With them on, each address gets ``…StateCode``/``…CountryCode`` picklists next to the text fields;
a client may set either the name or the code, a state needs a country, and both must be valid
(FIELD_INTEGRITY_EXCEPTION otherwise). A small list of countries is enough for a mock.
"""

from __future__ import annotations

from mockcrm.salesforce.errors import RecordError
from mockcrm.salesforce.schema import FieldDef, SObjectDef, pick

COUNTRIES = {
    "US": "United States",
    "CA": "Canada",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
    "ES": "Spain",
    "IT": "Italy",
    "NL": "Netherlands",
    "IE": "Ireland",
    "AU": "Australia",
    "NZ": "New Zealand",
    "JP": "Japan",
    "IN": "India",
    "BR": "Brazil",
    "MX": "Mexico",
    "SE": "Sweden",
    "CH": "Switzerland",
}
STATES = {
    "US": {
        "AL": "Alabama",
        "AK": "Alaska",
        "AZ": "Arizona",
        "AR": "Arkansas",
        "CA": "California",
        "CO": "Colorado",
        "CT": "Connecticut",
        "DE": "Delaware",
        "DC": "District of Columbia",
        "FL": "Florida",
        "GA": "Georgia",
        "HI": "Hawaii",
        "ID": "Idaho",
        "IL": "Illinois",
        "IN": "Indiana",
        "IA": "Iowa",
        "KS": "Kansas",
        "KY": "Kentucky",
        "LA": "Louisiana",
        "ME": "Maine",
        "MD": "Maryland",
        "MA": "Massachusetts",
        "MI": "Michigan",
        "MN": "Minnesota",
        "MS": "Mississippi",
        "MO": "Missouri",
        "MT": "Montana",
        "NE": "Nebraska",
        "NV": "Nevada",
        "NH": "New Hampshire",
        "NJ": "New Jersey",
        "NM": "New Mexico",
        "NY": "New York",
        "NC": "North Carolina",
        "ND": "North Dakota",
        "OH": "Ohio",
        "OK": "Oklahoma",
        "OR": "Oregon",
        "PA": "Pennsylvania",
        "RI": "Rhode Island",
        "SC": "South Carolina",
        "SD": "South Dakota",
        "TN": "Tennessee",
        "TX": "Texas",
        "UT": "Utah",
        "VT": "Vermont",
        "VA": "Virginia",
        "WA": "Washington",
        "WV": "West Virginia",
        "WI": "Wisconsin",
        "WY": "Wyoming",
    },
    "CA": {
        "AB": "Alberta",
        "BC": "British Columbia",
        "MB": "Manitoba",
        "NB": "New Brunswick",
        "NL": "Newfoundland and Labrador",
        "NS": "Nova Scotia",
        "ON": "Ontario",
        "PE": "Prince Edward Island",
        "QC": "Quebec",
        "SK": "Saskatchewan",
        "NT": "Northwest Territories",
        "NU": "Nunavut",
        "YT": "Yukon",
    },
    "AU": {
        "ACT": "Australian Capital Territory",
        "NSW": "New South Wales",
        "NT": "Northern Territory",
        "QLD": "Queensland",
        "SA": "South Australia",
        "TAS": "Tasmania",
        "VIC": "Victoria",
        "WA": "Western Australia",
    },
}


def _lookup(table: dict[str, str], value: str) -> str | None:
    """The code for a code or a name (case-insensitive), else None."""
    upper = value.strip().upper()
    if upper in table:
        return upper
    for code, name in table.items():
        if name.upper() == upper:
            return code
    return None


def enable(obj: SObjectDef) -> None:
    all_states = tuple(sorted({c for states in STATES.values() for c in states}))
    for state, country in obj.address_groups:
        obj.add(pick(state + "Code", all_states))
        obj.add(pick(country + "Code", tuple(COUNTRIES)))


def disable(obj: SObjectDef) -> None:
    for state, country in obj.address_groups:
        obj.remove(state + "Code")
        obj.remove(country + "Code")


def _error(fd: FieldDef | None, name: str, message: str) -> RecordError:
    label = fd.label if fd is not None else name
    return RecordError("FIELD_INTEGRITY_EXCEPTION", f"{message}: {label}", [name])


def apply(obj: SObjectDef, old: dict[str, object] | None, values: dict[str, object]) -> list[RecordError]:
    """Check and complete the address values in ``values`` (names and codes kept in step)."""
    errors: list[RecordError] = []
    for state_f, country_f in obj.address_groups:
        sc_f, cc_f = state_f + "Code", country_f + "Code"
        touched = {state_f, country_f, sc_f, cc_f} & values.keys()
        if not touched:
            continue
        country_code: str | None = None
        country_given = (
            values.get(cc_f) if cc_f in values else values.get(country_f) if country_f in values else None
        )
        if country_f in values or cc_f in values:
            if country_given is not None:
                country_code = _lookup(COUNTRIES, str(country_given))
                if country_code is None:
                    errors.append(
                        _error(
                            obj.get(country_f),
                            country_f,
                            "There's a problem with this country, even "
                            "though it may appear correct. Please select a country/territory from the "
                            "list of valid countries.",
                        )
                    )
                    continue
            values[cc_f] = country_code
            values[country_f] = COUNTRIES[country_code] if country_code else None
            if country_code is None and state_f not in values and sc_f not in values:
                # Removing the country removes the state too (R-GEO-4).
                values[sc_f] = values[state_f] = None
        elif old is not None:
            country_code = old.get(cc_f)  # type: ignore[assignment]
        if state_f in values or sc_f in values:
            state_given = values.get(sc_f) if sc_f in values else values.get(state_f)
            if state_given is None:
                values[sc_f] = values[state_f] = None
                continue
            if country_code is None:
                errors.append(
                    _error(
                        obj.get(state_f),
                        state_f,
                        "A country/territory must be specified before specifying a state value for field",
                    )
                )
                continue
            states = STATES.get(country_code, {})
            state_code = _lookup(states, str(state_given))
            if state_code is None:
                errors.append(
                    _error(
                        obj.get(state_f),
                        state_f,
                        "There's a problem with this state, even though it "
                        "may appear correct. Please select a state from the list of valid states.",
                    )
                )
                continue
            values[sc_f] = state_code
            values[state_f] = states[state_code]
    return errors
