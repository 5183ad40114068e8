"""Search through the official client and raw calls: every operator, sorts, paging and the caps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hubspot.crm.companies import PublicObjectSearchRequest

from engine.canonical import parse_timestamp_ms
from mockcrm.config import MockEndpoints
from tests.test_hubspot_support import call, client, hubspot_mocks, reset, watchdog

__all__ = ["watchdog"]

COMPANIES = [
    {"name": "Alpha Corp", "annualrevenue": "10", "industry": "BANKING", "domain": "alpha.example"},
    {"name": "Beta Ltd", "annualrevenue": "20", "industry": "RETAIL"},
    {"name": "Gamma Corp", "annualrevenue": "30", "industry": "BANKING", "city": "Lyon"},
    {"name": "Delta", "industry": "INSURANCE"},
]


@pytest.fixture(scope="module")
def hs() -> Iterator[MockEndpoints]:
    with hubspot_mocks() as endpoints:
        reset(endpoints)
        status, _, _ = call(
            endpoints, "POST", "/crm/v3/objects/companies/batch/create",
            {"inputs": [{"properties": p} for p in COMPANIES]},
        )  # fmt: skip
        assert status == 201
        yield endpoints


def names(hs: MockEndpoints, *filters: dict[str, object], sorts: list[object] | None = None) -> list[str]:
    body: dict[str, object] = {
        "filterGroups": [{"filters": list(filters)}],
        "properties": ["name"],
        "limit": 100,
    }
    if sorts is not None:
        body["sorts"] = sorts
    status, out, _ = call(hs, "POST", "/crm/v3/objects/companies/search", body)
    assert status == 200, out
    assert out["total"] == len(out["results"])
    return [r["properties"]["name"] for r in out["results"]]


def f(prop: str, op: str, value: object = None, **extra: object) -> dict[str, object]:
    out: dict[str, object] = {"propertyName": prop, "operator": op, **extra}
    if value is not None:
        out["value"] = value
    return out


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (f("name", "EQ", "alpha corp"), ["Alpha Corp"]),  # string values compare case-insensitively
        (f("industry", "NEQ", "BANKING"), ["Beta Ltd", "Delta"]),
        (f("annualrevenue", "LT", "20"), ["Alpha Corp"]),
        (f("annualrevenue", "LTE", "20"), ["Alpha Corp", "Beta Ltd"]),
        (f("annualrevenue", "GT", "10"), ["Beta Ltd", "Gamma Corp"]),
        (f("annualrevenue", "GTE", "10"), ["Alpha Corp", "Beta Ltd", "Gamma Corp"]),
        (f("annualrevenue", "BETWEEN", "15", highValue="30"), ["Beta Ltd", "Gamma Corp"]),
        (f("industry", "IN", values=["RETAIL", "INSURANCE"]), ["Beta Ltd", "Delta"]),
        (f("industry", "NOT_IN", values=["RETAIL", "INSURANCE"]), ["Alpha Corp", "Gamma Corp"]),
        (f("city", "HAS_PROPERTY"), ["Gamma Corp"]),
        (f("annualrevenue", "NOT_HAS_PROPERTY"), ["Delta"]),
        (f("name", "CONTAINS_TOKEN", "corp"), ["Alpha Corp", "Gamma Corp"]),
        (f("name", "CONTAINS_TOKEN", "*ta"), ["Beta Ltd", "Delta"]),
        (f("name", "NOT_CONTAINS_TOKEN", "corp"), ["Beta Ltd", "Delta"]),
        (f("industry", "EQ", "banking"), []),  # enumerations are case-sensitive
    ],
)
def test_operators(hs: MockEndpoints, flt: dict[str, object], expected: list[str]) -> None:
    assert names(hs, flt) == expected


def test_groups_are_ored_and_filters_anded(hs: MockEndpoints) -> None:
    body = {
        "filterGroups": [
            {"filters": [f("industry", "EQ", "BANKING"), f("annualrevenue", "GT", "10")]},
            {"filters": [f("name", "EQ", "Delta")]},
        ],
        "properties": ["name"],
    }
    status, out, _ = call(hs, "POST", "/crm/v3/objects/companies/search", body)
    assert status == 200 and [r["properties"]["name"] for r in out["results"]] == ["Gamma Corp", "Delta"]


def test_sorts_in_object_and_string_form(hs: MockEndpoints) -> None:
    by_revenue = names(
        hs, f("name", "HAS_PROPERTY"), sorts=[{"propertyName": "annualrevenue", "direction": "DESCENDING"}]
    )
    assert by_revenue == ["Gamma Corp", "Beta Ltd", "Alpha Corp", "Delta"]  # no value sorts last
    assert names(hs, f("name", "HAS_PROPERTY"), sorts=["name"]) == [
        "Alpha Corp",
        "Beta Ltd",
        "Delta",
        "Gamma Corp",
    ]
    assert names(hs, f("name", "HAS_PROPERTY"), sorts=["-name"])[0] == "Gamma Corp"


def test_search_result_shape_and_headers(hs: MockEndpoints) -> None:
    status, out, headers = call(hs, "POST", "/crm/v3/objects/companies/search", {"limit": 1})
    assert status == 200 and out["total"] == 4 and out["paging"] == {"next": {"after": "1"}}
    record = out["results"][0]
    assert set(record["properties"]) == {
        "name",
        "domain",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    }
    assert "X-HubSpot-RateLimit-Daily" in headers and "X-HubSpot-RateLimit-Max" not in headers
    status, out, _ = call(
        hs,
        "POST",
        "/crm/v3/objects/companies/search",
        {"filterGroups": [{"filters": [f("name", "EQ", "zzz")]}]},
    )
    assert out == {"total": 0, "results": []}


def test_incremental_sync_paging_with_the_official_client(hs: MockEndpoints) -> None:
    api = client(hs).crm.companies
    status, _, _ = call(
        hs, "POST", "/crm/v3/objects/companies/batch/create",
        {"inputs": [{"properties": {"name": f"Bulk {i}"}} for i in range(100)]},
    )  # fmt: skip
    assert status == 201
    seen: list[str] = []
    after: str | None = "0"
    since = {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "0"}
    while after is not None:
        page = api.search_api.do_search(PublicObjectSearchRequest(
            filter_groups=[{"filters": [since]}],
            sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            properties=["name"], limit=30, after=after,
        ))  # fmt: skip
        assert page.total == 104
        seen += [r.id for r in page.results]
        after = page.paging.next.after if page.paging else None
    assert len(seen) == len(set(seen)) == 104
    stamps = [r["properties"]["hs_lastmodifieddate"] for r in _dump(hs)]
    assert stamps == sorted(stamps)


def _dump(hs: MockEndpoints) -> list[dict[str, dict[str, str]]]:
    status, out, _ = call(hs, "GET", "/__mock/dump/companies")
    assert status == 200
    return out  # type: ignore[no-any-return]


def test_bad_search_requests(hs: MockEndpoints) -> None:
    path = "/crm/v3/objects/companies/search"
    assert call(hs, "POST", path, {"limit": 201})[0] == 400
    assert call(hs, "POST", path, {"after": "10000"})[0] == 400
    assert call(hs, "POST", path, {"after": "abc"})[0] == 400
    too_many = {"filterGroups": [{"filters": [f("name", "HAS_PROPERTY")]}] * 6}
    status, err, _ = call(hs, "POST", path, too_many)
    assert status == 400 and err["category"] == "VALIDATION_ERROR"
    status, err, _ = call(hs, "POST", path, {"filterGroups": [{"filters": [f("nope", "EQ", "x")]}]})
    assert status == 400 and err["category"] == "VALIDATION_ERROR"
    status, err, _ = call(
        hs, "POST", path, {"filterGroups": [{"filters": [f("annualrevenue", "GT", "many")]}]}
    )
    assert status == 400


def test_ten_thousand_result_cap() -> None:
    with hubspot_mocks() as hs:
        status, seeded, _ = call(
            hs, "POST", "/__mock/seed", {"object_type": "notes", "count": 10_050, "seed": 7}
        )
        assert status == 200 and seeded["created"] == 10_050
        path = "/crm/v3/objects/notes/search"
        status, out, _ = call(hs, "POST", path, {"limit": 200, "after": "9900"})
        assert status == 200 and out["total"] == 10_050 and len(out["results"]) == 100
        assert out["paging"]["next"]["after"] == "10000"
        status, err, _ = call(hs, "POST", path, {"limit": 200, "after": out["paging"]["next"]["after"]})
        assert status == 400 and err["category"] == "VALIDATION_ERROR"
        # The same through the last-modified index (the incremental-sync query).
        since = {
            "filterGroups": [{"filters": [f("hs_lastmodifieddate", "GTE", "0")]}],
            "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}],
            "limit": 200,
        }
        status, out, _ = call(hs, "POST", path, {**since, "after": "9900"})
        assert status == 200 and out["total"] == 10_050 and len(out["results"]) == 100
        assert out["paging"]["next"]["after"] == "10000"
        assert call(hs, "POST", path, {**since, "after": "10000"})[0] == 400


def test_lookups_on_unique_properties_and_ids() -> None:
    with hubspot_mocks() as hs:
        inputs = [{"properties": {"email": f"p{i}@example.com", "salesforcecontactid": f"003AB{i:013d}"}}
                  for i in range(30)]  # fmt: skip
        status, made, _ = call(hs, "POST", "/crm/v3/objects/contacts/batch/create", {"inputs": inputs})
        assert status == 201
        ids = sorted(r["id"] for r in made["results"])
        path = "/crm/v3/objects/contacts/search"

        def found(flt: dict[str, object], **extra: object) -> list[str]:
            status, out, _ = call(
                hs, "POST", path, {"filterGroups": [{"filters": [flt]}], "limit": 100, **extra}
            )
            assert status == 200
            return [r["id"] for r in out["results"]]

        assert found(f("email", "IN", values=["p3@example.com", "P1@EXAMPLE.COM", "nobody@example.com"])) == [
            ids[1], ids[3],
        ]  # fmt: skip
        assert found(f("salesforcecontactid", "EQ", "003ab0000000000007")) == [ids[7]]
        assert found(f("hs_object_id", "IN", values=[ids[2], ids[0], "1"])) == [ids[0], ids[2]]
        both = [
            f("email", "IN", values=["p3@example.com", "p4@example.com"]),
            f("hs_object_id", "NEQ", ids[4]),
        ]
        status, out, _ = call(hs, "POST", path, {"filterGroups": [{"filters": both}]})
        assert [r["id"] for r in out["results"]] == [ids[3]]
        # "The most recently modified record": no filter, newest first, one result.
        assert call(hs, "POST", "/__mock/clock", {"advance_s": 1})[0] == 200  # a later millisecond, surely
        assert (
            call(hs, "PATCH", f"/crm/v3/objects/contacts/{ids[5]}", {"properties": {"lastname": "x"}})[0]
            == 200
        )
        status, out, _ = call(hs, "POST", path, {
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}], "limit": 1,
        })  # fmt: skip
        assert out["total"] == 30 and [r["id"] for r in out["results"]] == [ids[5]]


def test_search_lag_rule_makes_changes_late_visible() -> None:
    with hubspot_mocks() as hs:
        assert call(hs, "POST", "/__mock/rules", {"search_lag_ms": 60_000})[0] == 200
        status, made, _ = call(hs, "POST", "/crm/v3/objects/companies", {"properties": {"name": "Late"}})
        assert status == 201
        incremental = {
            "filterGroups": [{"filters": [f("hs_lastmodifieddate", "GTE", "0")]}],
            "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        }
        by_name = {"filterGroups": [{"filters": [f("name", "EQ", "late")]}]}
        for body in (incremental, by_name):
            status, out, _ = call(hs, "POST", "/crm/v3/objects/companies/search", body)
            assert status == 200 and out["total"] == 0
        assert call(hs, "GET", f"/crm/v3/objects/companies/{made['id']}")[0] == 200  # reads are immediate
        assert call(hs, "POST", "/__mock/clock", {"advance_s": 61})[0] == 200
        for body in (incremental, by_name):
            _, out, _ = call(hs, "POST", "/crm/v3/objects/companies/search", body)
            assert [r["id"] for r in out["results"]] == [made["id"]]
        assert call(hs, "POST", "/__mock/rules", {"search_lag_ms": -1})[0] == 400


def test_keyset_pages_read_a_shared_millisecond_once() -> None:
    """The change stream's paging, ``lm > t OR (lm = t AND hs_object_id NOT_IN seen)``: a batch
    stamped in one millisecond and cut by a page boundary is read once. The mock answers it from its
    modified index; the same query with a no-op filter added takes the general path, as the model."""
    with hubspot_mocks() as hs:
        _keyset_walk(hs)


def _keyset_walk(hs: MockEndpoints) -> None:
    status, _, _ = call(
        hs, "POST", "/crm/v3/objects/companies/batch/create",
        {"inputs": [{"properties": {"name": f"Keyset {i}"}} for i in range(100)]},
    )  # fmt: skip
    assert status == 201
    lm = "hs_lastmodifieddate"
    since, seen, read = 0, list[str](), list[tuple[int, str]]()
    while True:
        if seen:
            groups = [
                [f(lm, "GT", str(since))],
                [f(lm, "EQ", str(since)), f("hs_object_id", "NOT_IN", values=seen)],
            ]
        else:
            groups = [[f(lm, "GTE", str(since))]]
        body: dict[str, object] = {"sorts": [{"propertyName": lm, "direction": "ASCENDING"}], "limit": 30}
        status, fast, _ = call(
            hs,
            "POST",
            "/crm/v3/objects/companies/search",
            {**body, "filterGroups": [{"filters": g} for g in groups]},
        )
        assert status == 200, fast
        general = [{"filters": [*g, f("name", "HAS_PROPERTY")]} for g in groups]
        status, model, _ = call(
            hs, "POST", "/crm/v3/objects/companies/search", {**body, "filterGroups": general}
        )
        assert status == 200, model
        assert [r["id"] for r in fast["results"]] == [r["id"] for r in model["results"]]
        assert fast["total"] == model["total"]
        page = [(parse_timestamp_ms(r["properties"][lm]), r["id"]) for r in fast["results"]]
        read += page
        if len(page) < 30:
            break
        newest = page[-1][0]
        seen = [*(seen if newest == since else []), *(rid for ms, rid in page if ms == newest)]
        since = newest
    everything = {(parse_timestamp_ms(r["properties"][lm]), str(r["id"])) for r in _dump(hs)}
    assert len(read) == len(set(read)) == len(everything)
    assert set(read) == everything
