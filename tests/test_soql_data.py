"""Shared field map and records for the SOQL engine tests (no tests here)."""

from __future__ import annotations

from mockcrm.salesforce.soql import FieldInfo, execute, parse_soql

FIELDS: dict[str, FieldInfo] = {
    name.lower(): FieldInfo(name, type_)
    for name, type_ in [
        ("Id", "id"),
        ("AccountId", "reference"),
        ("FirstName", "string"),
        ("LastName", "string"),
        ("Email", "email"),
        ("LeadSource", "picklist"),
        ("Description", "textarea"),
        ("NumberOfEmployees", "int"),
        ("Amount", "currency"),
        ("Birthdate", "date"),
        ("IsDeleted", "boolean"),
        ("SystemModstamp", "datetime"),
        ("CreatedDate", "datetime"),
        ("Interests__c", "multipicklist"),
    ]
}


def rec(
    ident: str,
    last: str | None,
    *,
    first: str | None = None,
    amount: float | int | None = None,
    employees: int | None = None,
    birth: str | None = None,
    deleted: bool = False,
    stamp: str | None = "2024-01-05T10:00:00.000+0000",
    account: str | None = None,
    email: str | None = None,
    description: str | None = None,
) -> dict[str, object]:
    return {
        "Id": ident,
        "AccountId": account,
        "FirstName": first,
        "LastName": last,
        "Email": email,
        "LeadSource": None,
        "Description": description,
        "NumberOfEmployees": employees,
        "Amount": amount,
        "Birthdate": birth,
        "IsDeleted": deleted,
        "SystemModstamp": stamp,
        "CreatedDate": "2023-12-31T23:59:59.999+0000",
    }


# Real-format 18-character Contact ids; the 15th character (D…H) tells them apart in assertions.
RECORDS: list[dict[str, object]] = [
    rec("0034S000001AbcDQAS", "Smith", first="Ann", amount=10, employees=5, birth="1990-05-01",
        stamp="2024-01-05T10:00:00.000+0000", account="0014S000007NxmlQAC", email="ann@example.com"),
    rec("0034S000001AbcEQAS", "o'brien", first="Bob", amount=2.5, employees=None, birth=None,
        stamp="2024-01-05T10:00:00.001+0000", description="line1\nline2"),
    rec("0034S000001AbcFQAS", None, first="Cy", amount=None, employees=50, birth="1985-12-31",
        stamp="2024-01-06T00:00:00.000+0000", deleted=True),
    rec("0034S000001AbcGQAS", "SMITHERS", first=None, amount=-3, employees=0, birth="2001-01-01",
        stamp="2024-01-04T23:59:59.999+0000", email="s@x.org"),
    rec("0034S000001AbcHQAS", "100%_sure", first="Dee", amount=1000000, employees=7, birth="1990-05-01",
        stamp=None, description="50% off_now"),
]  # fmt: skip


def ids(query: str, records: list[dict[str, object]] | None = None) -> list[str]:
    """The distinguishing letter (15th character) of each Id returned by ``query``, in order."""
    result = execute(parse_soql(query), RECORDS if records is None else records, FIELDS)
    return [str(row["Id"])[14] for row in result.rows]
