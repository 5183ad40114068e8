"""Table tests for the SOQL engine: each construct, ordering, paging and the index helper."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mockcrm.salesforce.soql import FieldInfo, execute, lower_bound, parse_soql
from tests.test_soql_data import FIELDS, RECORDS, ids, rec

# Records: D Smith, E o'brien, F (no last name, deleted), G SMITHERS, H 100%_sure (no stamp).
WHERE_CASES = [
    # equality is case-insensitive on text
    ("LastName = 'smith'", "D"),
    ("LastName = 'SMITH'", "D"),
    ("lastname = 'Smith'", "D"),
    ("LastName != 'smith'", "EFGH"),  # != keeps nulls
    ("LastName <> 'smith'", "EFGH"),
    ("LastName = null", "F"),
    ("LastName != null", "DEGH"),
    ("LastName = ''", "F"),  # empty text is null
    ("LastName < 'p'", "EH"),  # ordering on text, case-insensitive, nulls never match
    ("LastName >= 'smith'", "DG"),
    # LIKE: % and _, case-insensitive, anchored
    ("LastName LIKE 'smi%'", "DG"),
    ("LastName LIKE '%TH'", "D"),
    ("LastName LIKE 'sm_th'", "D"),
    ("LastName LIKE '%'", "DEGH"),
    ("LastName LIKE '%o%'", "E"),
    ("LastName LIKE 's%e%s'", "G"),
    ("LastName LIKE 'smith'", "D"),
    ("LastName LIKE '100\\%\\_sure'", "H"),
    ("LastName LIKE '100\\%%'", "H"),
    ("LastName LIKE '1_0%'", "H"),
    ("LastName LIKE '1_%'", "H"),
    ("Description LIKE '%\\_now'", "H"),
    ("Description LIKE '%\\_'", ""),
    ("Description LIKE 'line1\\nline2'", "E"),
    ("Description LIKE 'line1_line2'", "E"),
    # numbers: ints, decimals, negatives
    ("Amount > 2.5", "DH"),
    ("Amount >= 2.5", "DEH"),
    ("Amount < 0", "G"),
    ("Amount = -3", "G"),
    ("Amount = 1000000.0", "H"),
    ("Amount != 10", "EFGH"),
    ("Amount = null", "F"),
    ("NumberOfEmployees <= 5", "DG"),
    ("NumberOfEmployees IN (0, 50)", "FG"),
    ("NumberOfEmployees NOT IN (0, 50)", "DEH"),
    # booleans
    ("IsDeleted = true", "F"),
    ("IsDeleted = FALSE", "DEGH"),
    ("IsDeleted != true", "DEGH"),
    # dates
    ("Birthdate = 1990-05-01", "DH"),
    ("Birthdate > 1990-05-01", "G"),
    ("Birthdate < 1990-01-01", "F"),
    ("Birthdate = null", "E"),
    # datetimes compare as instants, whatever the zone of the literal
    ("SystemModstamp > 2024-01-05T10:00:00Z", "EF"),
    ("SystemModstamp >= 2024-01-05T10:00:00Z", "DEF"),
    ("SystemModstamp > 2024-01-05T10:00:00.000Z", "EF"),
    ("SystemModstamp = 2024-01-05T10:00:00.001Z", "E"),
    ("SystemModstamp > 2024-01-05T10:00:00.0005Z", "EF"),
    ("SystemModstamp < 2024-01-05T10:00:00.0005Z", "DG"),
    ("SystemModstamp = 2024-01-05T11:00:00+01:00", "D"),
    ("SystemModstamp = 2024-01-05T02:00:00-0800", "D"),
    ("SystemModstamp < 2024-01-05T00:00:00+00:00", "G"),
    ("SystemModstamp = null", "H"),
    # ids compare on their first 15 characters; 18-character literals in any case
    ("Id = '0034S000001AbcD'", "D"),
    ("Id = '0034S000001AbcDQAS'", "D"),
    ("Id = '0034s000001abcdqas'", "D"),
    ("Id = '0034S000001AbcdQAS'", "D"),  # the suffix, not the typed case, decides
    ("Id = '0034S000001Abcd'", ""),  # 15-character ids are case-sensitive
    ("Id IN ('0034S000001AbcDQAS', '0034S000001AbcE')", "DE"),
    ("Id NOT IN ('0034S000001AbcDQAS')", "EFGH"),
    ("AccountId = '0014S000007Nxml'", "D"),
    ("AccountId = null", "EFGH"),
    # IN with strings and null
    ("LastName IN ('SMITH', 'o\\'brien')", "DE"),
    ("LastName IN ('smith', null)", "DF"),
    ("LastName NOT IN ('smith')", "EFGH"),
    ("LastName NOT IN ('smith', null)", "EGH"),
    # boolean structure
    ("LastName = 'smith' OR Amount < 0", "DG"),
    ("LastName LIKE 's%' AND Amount < 0", "G"),
    ("LastName LIKE 's%' AND Amount < 0 AND IsDeleted = false", "G"),
    ("NOT LastName = 'smith'", "EFGH"),
    ("NOT (LastName = 'smith' OR Amount < 0)", "EFH"),
    ("(LastName = 'smith' OR Amount < 0) AND NumberOfEmployees > 1", "D"),
    ("LastName = 'smith' OR (Amount < 0 AND NumberOfEmployees > 1)", "D"),
    ("((((LastName = 'smith'))))", "D"),
    ("NOT NOT LastName = 'smith'", "D"),
    ("Amount > 0 AND NOT IsDeleted = true", "DEH"),
    # keywords in any case
    ("lastname like 'SMI%' and not isdeleted = TRUE", "DG"),
]


@pytest.mark.parametrize(("where", "expected"), WHERE_CASES)
def test_where(where: str, expected: str) -> None:
    assert sorted(ids(f"SELECT Id FROM Contact WHERE {where}")) == sorted(expected)


def test_no_where_returns_everything_in_input_order() -> None:
    assert ids("SELECT Id FROM Contact") == list("DEFGH")


def test_projection_uses_canonical_names_in_select_order() -> None:
    result = execute(
        parse_soql("select lastname, ID, amount from contact where id = '0034S000001AbcD'"), RECORDS, FIELDS
    )
    assert result.total_size == 1
    assert list(result.rows[0].items()) == [
        ("LastName", "Smith"),
        ("Id", "0034S000001AbcDQAS"),
        ("Amount", 10),
    ]


def test_object_and_alias_prefixes_are_accepted() -> None:
    assert ids("SELECT Contact.Id FROM Contact WHERE Contact.LastName = 'smith'") == ["D"]
    assert ids("SELECT c.Id FROM Contact c WHERE c.LastName = 'smith' ORDER BY c.Id") == ["D"]


def test_missing_fields_in_records_are_null() -> None:
    sparse: list[dict[str, object]] = [{"Id": "0034S000001AbcDQAS"}]
    assert ids("SELECT Id FROM Contact WHERE LastName = null", sparse) == ["D"]
    result = execute(parse_soql("SELECT Id, Email FROM Contact"), sparse, FIELDS)
    assert result.rows == [{"Id": "0034S000001AbcDQAS", "Email": None}]


def test_malformed_stored_values_do_not_raise() -> None:
    weird: list[dict[str, object]] = [
        {
            "Id": 5,
            "LastName": 7,
            "Amount": "x",
            "SystemModstamp": "garbage",
            "Birthdate": 3,
            "IsDeleted": "no",
        },
        {"Id": None, "SystemModstamp": "2024-01-05T10:00:00Z", "Birthdate": "2024-01-05T00:00:00Z"},
    ]
    query = (
        "SELECT Id FROM Contact WHERE Amount > 1 OR LastName LIKE '%' OR IsDeleted = true OR "
        "Birthdate > 2000-01-01 OR Id = '0034S000001AbcD' ORDER BY SystemModstamp DESC, LastName"
    )
    assert execute(parse_soql(query), weird, FIELDS).total_size == 1  # only the Birthdate of the second
    # Non-canonical but valid stored datetimes still compare as instants.
    stamp = "SELECT Id FROM Contact WHERE SystemModstamp = 2024-01-05T10:00:00Z"
    assert execute(parse_soql(stamp), weird, FIELDS).total_size == 1


ORDER_CASES = [
    ("LastName", "FHEDG"),  # ASC defaults to NULLS FIRST; case-insensitive
    ("LastName ASC", "FHEDG"),
    ("LastName ASC NULLS LAST", "HEDGF"),
    ("LastName DESC", "GDEHF"),  # DESC defaults to NULLS LAST
    ("LastName DESC NULLS FIRST", "FGDEH"),
    ("Amount", "FGEDH"),
    ("Amount DESC", "HDEGF"),
    ("SystemModstamp, Id", "HGDEF"),
    ("SystemModstamp DESC, Id DESC", "FEDGH"),
    ("Birthdate, LastName DESC", "EFDHG"),  # mixed directions: D/H tie on date, then name DESC
    ("Birthdate DESC NULLS FIRST, Amount", "EGDHF"),
    ("IsDeleted, Id DESC", "HGEDF"),
    ("FirstName NULLS LAST, Id", "DEFHG"),
]


@pytest.mark.parametrize(("order", "expected"), ORDER_CASES)
@pytest.mark.parametrize("limit", [None, 1, 2, 5, 10])
def test_order_by(order: str, expected: str, limit: int | None) -> None:
    suffix = "" if limit is None else f" LIMIT {limit}"
    want = list(expected) if limit is None else list(expected)[:limit]
    assert ids(f"SELECT Id FROM Contact ORDER BY {order}{suffix}") == want


def test_order_with_heap_path_matches_full_sort() -> None:
    # Enough records that LIMIT takes the heapq path; ties on the stamp keep input order.
    many = [
        rec(f"0034S000001{i:04d}", f"n{i % 7}", stamp=f"2024-01-0{1 + i % 5}T00:00:00.000+0000")
        for i in range(200)
    ]
    for order in ("SystemModstamp", "SystemModstamp DESC", "LastName DESC NULLS FIRST, SystemModstamp"):
        full = execute(parse_soql(f"SELECT Id FROM Contact ORDER BY {order}"), many, FIELDS).rows
        top = execute(parse_soql(f"SELECT Id FROM Contact ORDER BY {order} LIMIT 10"), many, FIELDS).rows
        assert top == full[:10]


PAGING_CASES = [
    ("", "DEFGH"),
    ("LIMIT 2", "DE"),
    ("LIMIT 0", ""),
    ("LIMIT 100", "DEFGH"),
    ("OFFSET 2", "FGH"),
    ("LIMIT 2 OFFSET 2", "FG"),
    ("LIMIT 2 OFFSET 4", "H"),
    ("OFFSET 5", ""),
    ("OFFSET 2000", ""),
]


@pytest.mark.parametrize(("clause", "expected"), PAGING_CASES)
def test_limit_offset(clause: str, expected: str) -> None:
    assert ids(f"SELECT Id FROM Contact ORDER BY Id {clause}") == list(expected)
    result = execute(parse_soql(f"SELECT Id FROM Contact ORDER BY Id {clause}"), RECORDS, FIELDS)
    assert result.total_size == len(expected)


def test_limit_offset_pages_partition_the_ordered_result() -> None:
    whole = ids("SELECT Id FROM Contact ORDER BY LastName, Id")
    pages = [ids(f"SELECT Id FROM Contact ORDER BY LastName, Id LIMIT 2 OFFSET {o}") for o in (0, 2, 4)]
    assert [x for page in pages for x in page] == whole


COUNT_CASES = [
    ("SELECT COUNT() FROM Contact", 5),
    ("SELECT count() FROM Contact WHERE LastName LIKE 's%'", 2),
    ("SELECT COUNT() FROM Contact WHERE Amount = 12345", 0),
    ("SELECT COUNT() FROM Contact LIMIT 3", 3),
]


@pytest.mark.parametrize(("query", "total"), COUNT_CASES)
def test_count(query: str, total: int) -> None:
    parsed = parse_soql(query)
    assert parsed.is_count and not parsed.is_aggregate
    result = execute(parsed, RECORDS, FIELDS)
    assert (result.total_size, result.rows) == (total, [])


def test_count_field_is_an_aggregate_row() -> None:
    parsed = parse_soql("SELECT COUNT(LastName), COUNT(Id) n FROM Contact WHERE Amount != null")
    assert parsed.is_aggregate and not parsed.is_count
    result = execute(parsed, RECORDS, FIELDS)
    assert (result.total_size, result.rows) == (1, [{"expr0": 4, "n": 4}])


def test_relative_date_literals_use_the_given_now() -> None:
    now = datetime(2024, 1, 6, 12, 0, tzinfo=UTC)  # a Saturday
    records = [
        rec("0034S000001AbcDQAS", "a", stamp="2024-01-06T00:00:00.000+0000", birth="2024-01-06"),
        rec("0034S000001AbcEQAS", "b", stamp="2024-01-05T23:59:59.999+0000", birth="2024-01-05"),
        rec("0034S000001AbcFQAS", "c", stamp="2023-12-31T00:00:00.000+0000", birth="2023-12-31"),
        rec("0034S000001AbcGQAS", "d", stamp="2024-01-07T00:00:00.000+0000", birth="2024-01-07"),
    ]
    cases = [
        ("SystemModstamp = TODAY", "D"),
        ("SystemModstamp = YESTERDAY", "E"),
        ("SystemModstamp = TOMORROW", "G"),
        ("SystemModstamp > TODAY", "G"),
        ("SystemModstamp < TODAY", "EF"),
        ("SystemModstamp >= TODAY", "DG"),
        ("SystemModstamp <= TODAY", "DEF"),
        ("SystemModstamp != TODAY", "EFG"),
        ("SystemModstamp = LAST_N_DAYS:1", "DE"),
        ("SystemModstamp = LAST_N_DAYS:6", "DEF"),
        ("SystemModstamp = THIS_WEEK", "DEF"),  # weeks start on Sunday 2023-12-31
        ("SystemModstamp = NEXT_WEEK", "G"),
        ("SystemModstamp = THIS_MONTH", "DEG"),
        ("SystemModstamp = LAST_MONTH", "F"),
        ("SystemModstamp = LAST_YEAR", "F"),
        ("Birthdate = TODAY", "D"),
        ("Birthdate < YESTERDAY", "F"),
        ("Birthdate = NEXT_N_DAYS:3", "G"),
        ("Birthdate = N_DAYS_AGO:6", "F"),
    ]
    for where, expected in cases:
        result = execute(parse_soql(f"SELECT Id FROM Contact WHERE {where}"), records, FIELDS, now=now)
        assert sorted(str(row["Id"])[14] for row in result.rows) == sorted(expected), where


LOWER_BOUND_CASES = [
    ("WHERE SystemModstamp > 2024-01-05T10:00:00Z", ("2024-01-05T10:00:00.000+0000", False)),
    ("WHERE systemmodstamp >= 2024-01-05T11:00:00+01:00", ("2024-01-05T10:00:00.000+0000", True)),
    (
        "WHERE LastName = 'x' AND SystemModstamp > 2024-01-01T00:00:00Z"
        " AND SystemModstamp >= 2024-02-01T00:00:00Z",
        ("2024-02-01T00:00:00.000+0000", True),
    ),
    (
        "WHERE SystemModstamp >= 2024-01-05T10:00:00Z AND SystemModstamp > 2024-01-05T10:00:00Z",
        ("2024-01-05T10:00:00.000+0000", False),
    ),
    (
        "WHERE (LastName = 'x' AND (SystemModstamp > 2024-01-05T10:00:00Z AND Amount > 1)) AND Amount < 5",
        ("2024-01-05T10:00:00.000+0000", False),
    ),
    ("WHERE SystemModstamp > 2024-01-05T10:00:00.0005Z", ("2024-01-05T10:00:00.000500+0000", False)),
    ("WHERE SystemModstamp < 2024-01-05T10:00:00Z", None),
    ("WHERE (SystemModstamp > 2024-01-05T10:00:00Z OR Amount > 1) AND Amount < 5", None),
    ("WHERE SystemModstamp > 2024-01-05T10:00:00Z OR LastName = 'x'", None),
    ("WHERE NOT SystemModstamp > 2024-01-05T10:00:00Z", None),
    ("WHERE SystemModstamp > TODAY", None),
    ("WHERE CreatedDate > 2024-01-05T10:00:00Z", None),
    ("", None),
]


@pytest.mark.parametrize(("where", "expected"), LOWER_BOUND_CASES)
def test_lower_bound(where: str, expected: tuple[str, bool] | None) -> None:
    query = parse_soql(f"SELECT Id FROM Contact {where} ORDER BY SystemModstamp, Id LIMIT 2000")
    assert lower_bound(query, "systemmodstamp") == expected
    if expected is not None:
        # The bound never drops a record the query matches.
        bound, inclusive = expected
        matched = execute(query, RECORDS, FIELDS).rows
        stamps = {str(r["Id"]): r["SystemModstamp"] for r in RECORDS}
        for row in matched:
            stamp = str(stamps[str(row["Id"])])
            assert stamp >= bound if inclusive else stamp > bound


def test_query_keeps_sobject_as_written() -> None:
    assert parse_soql("SELECT Id FROM contact").sobject == "contact"


def test_custom_field_types_fall_back_to_text() -> None:
    fields = {**FIELDS, "hubspot_id__c": FieldInfo("HubSpot_Id__c", "combobox")}
    records: list[dict[str, object]] = [{"Id": "0034S000001AbcDQAS", "HubSpot_Id__c": "AbC"}]
    assert (
        execute(parse_soql("SELECT Id FROM Contact WHERE hubspot_id__c = 'abc'"), records, fields).total_size
        == 1
    )


def test_fields_macro_expands_in_describe_order() -> None:
    fields = {**FIELDS, "hubspot_id__c": FieldInfo("HubSpot_Id__c", "string")}
    records: list[dict[str, object]] = [{"Id": "0034S000001AbcDQAS", "HubSpot_Id__c": "7", "LastName": "x"}]
    custom = execute(parse_soql("SELECT FIELDS(CUSTOM) FROM Contact LIMIT 200"), records, fields)
    assert custom.rows == [{"Interests__c": None, "HubSpot_Id__c": "7"}]
    standard = execute(parse_soql("SELECT Id, FIELDS(STANDARD) FROM Contact"), records, fields)
    assert list(standard.rows[0]) == [f.name for f in FIELDS.values() if not f.name.endswith("__c")]
    everything = execute(parse_soql("SELECT FIELDS(ALL) FROM Contact LIMIT 1"), records, fields)
    assert list(everything.rows[0]) == [f.name for f in fields.values()]


def test_includes_and_excludes_on_multipicklists() -> None:
    fields = {**FIELDS, "interests__c": FieldInfo("Interests__c", "multipicklist")}
    records: list[dict[str, object]] = [
        {"Id": "0034S000001AbcDQAS", "Interests__c": "Golf;Tennis"},
        {"Id": "0034S000001AbcEQAS", "Interests__c": "golf"},
        {"Id": "0034S000001AbcFQAS", "Interests__c": None},
    ]
    cases = [
        ("Interests__c INCLUDES ('Golf')", "DE"),
        ("Interests__c INCLUDES ('tennis;golf')", "D"),
        ("Interests__c INCLUDES ('Chess', 'Tennis')", "D"),
        ("Interests__c EXCLUDES ('Tennis')", "EF"),
        ("Interests__c = 'golf'", "E"),
        ("Interests__c = 'tennis;GOLF'", "D"),  # the same set of selections
        ("Interests__c != 'golf'", "DF"),
        ("Interests__c IN ('golf', 'x')", "E"),
        ("Interests__c = null", "F"),
    ]
    for where, expected in cases:
        result = execute(parse_soql(f"SELECT Id FROM Contact WHERE {where}"), records, fields)
        assert "".join(str(row["Id"])[14] for row in result.rows) == expected, where


@pytest.mark.parametrize(
    "query",
    [
        "SELECT Id FROM Contact USING SCOPE Everything WHERE LastName = 'smith'",
        "SELECT Id FROM Contact WHERE LastName = 'smith' WITH SECURITY_ENFORCED",
        "SELECT Id FROM Contact WHERE LastName = 'smith' ORDER BY Id LIMIT 5 FOR VIEW",
        "SELECT Id FROM Contact WHERE LastName = 'smith' FOR REFERENCE",
    ],
)
def test_ignored_clauses_are_accepted(query: str) -> None:
    assert ids(query) == ["D"]
