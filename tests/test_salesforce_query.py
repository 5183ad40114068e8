"""SOQL through simple-salesforce: /query and /queryAll with nextRecordsUrl paging, and the indexed
change-stream query giving exactly what a full scan gives."""

from __future__ import annotations

import re
from typing import Any

import pytest
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import SalesforceMalformedRequest

from mockcrm.config import MockEndpoints
from tests.test_salesforce_support import control, fresh_sf, raw

__all__ = ["fresh_sf"]

SF = tuple[Salesforce, MockEndpoints]


def _create_contacts(sf: Salesforce, n: int, tag: str = "") -> list[str]:
    ids: list[str] = []
    for start in range(0, n, 200):
        records = [
            {"attributes": {"type": "Contact"}, "LastName": f"{tag}Q{i:05d}", "Email": f"q{i}@example.com"}
            for i in range(start, min(n, start + 200))
        ]
        results = sf.restful("composite/sobjects", method="POST", json={"records": records})
        assert results is not None and all(r["success"] for r in results)
        ids += [r["id"] for r in results]
    return ids


def test_query_all_follows_next_records_url(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    ids = _create_contacts(sf, 2100)
    first = sf.query("SELECT Id, LastName FROM Contact ORDER BY LastName")
    assert first["totalSize"] == 2100 and first["done"] is False and len(first["records"]) == 2000
    assert re.fullmatch(r"/services/data/v59\.0/query/01g[0-9A-Za-z]{15}-2000", first["nextRecordsUrl"])
    assert first["records"][0]["attributes"]["type"] == "Contact"
    everything = sf.query_all("SELECT Id, LastName FROM Contact ORDER BY LastName")
    assert [r["Id"] for r in everything["records"]] == ids
    # batchSize in Sforce-Query-Options, clamped to 200-2000.
    pages = raw(
        ep,
        "GET",
        "/services/data/v59.0/query/?q=SELECT+Id+FROM+Contact",
        headers={"Sforce-Query-Options": "batchSize=300"},
    ).json()
    assert len(pages["records"]) == 300 and pages["nextRecordsUrl"].endswith("-300")
    # The batch size sticks to the cursor: the next page without the header is 300 rows too.
    second = raw(ep, "GET", pages["nextRecordsUrl"]).json()
    assert len(second["records"]) == 300 and second["nextRecordsUrl"].endswith("-600")
    small = sf.query_all("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=10"})
    assert small["totalSize"] == 2100
    stats = control(ep, "GET", "/__mock/stats").json()["by_endpoint"]
    # query_all at 2000 a page: 1 more page; the raw second page; at the clamped minimum of 200: 10.
    assert stats["GET /services/data/v{version}/query/{locator}"] == 1 + 1 + 10


def test_query_filters_count_and_escapes(fresh_sf: SF) -> None:
    sf, _ = fresh_sf
    sf.Contact.create({"LastName": "O'Brien \\ test", "Email": "ob@example.com"})
    sf.Contact.create({"LastName": "Other"})
    q = format_soql("SELECT Id, LastName, Email FROM Contact WHERE LastName = {}", "O'Brien \\ test")
    rows = sf.query(q)["records"]
    assert [r["Email"] for r in rows] == ["ob@example.com"]
    count = sf.query("SELECT COUNT() FROM Contact")
    assert count == {"totalSize": 2, "done": True, "records": []}


def test_query_all_sees_deleted_records(fresh_sf: SF) -> None:
    sf, _ = fresh_sf
    keep, gone = _create_contacts(sf, 2)
    sf.Contact.delete(gone)
    live = sf.query("SELECT Id FROM Contact")
    assert [r["Id"] for r in live["records"]] == [keep]
    everything = sf.query_all("SELECT Id, IsDeleted FROM Contact ORDER BY Id", include_deleted=True)
    assert [(r["Id"], r["IsDeleted"]) for r in everything["records"]] == [(keep, False), (gone, True)]


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELEKT Id FROM Contact", "MALFORMED_QUERY"),
        ("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY"),
        ("SELECT Id FROM Contact WHERE LastName = 'unterminated", "MALFORMED_QUERY"),
        ("SELECT Nope FROM Contact", "INVALID_FIELD"),
        ("SELECT Id FROM Nothing__c", "INVALID_TYPE"),
        ("(((((((((((((((((((((((((((((((((((((((((", "MALFORMED_QUERY"),
    ],
)
def test_bad_soql_is_400_with_the_real_code(fresh_sf: SF, soql: str, code: str) -> None:
    sf, _ = fresh_sf
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query(soql)
    assert err.value.content[0]["errorCode"] == code


def test_unknown_query_locator(fresh_sf: SF) -> None:
    _, ep = fresh_sf
    resp = raw(ep, "GET", "/services/data/v59.0/query/01g4S0000000001AAA-2000")
    assert resp.status_code == 400 and resp.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def _stamps_scan(ep: MockEndpoints, since: str, limit: int) -> list[tuple[str, str]]:
    """What the change-stream query must answer, computed from the dump by brute force."""
    recs: list[dict[str, Any]] = control(ep, "GET", "/__mock/dump/Contact").json()["records"]
    live = [r for r in recs if not r["IsDeleted"] and r["SystemModstamp"] > since]
    live.sort(key=lambda r: (r["SystemModstamp"], r["Id"]))
    return [(r["Id"], r["SystemModstamp"]) for r in live[:limit]]


def test_change_stream_query_matches_a_full_scan(fresh_sf: SF) -> None:
    sf, ep = fresh_sf
    batches = []
    for _ in range(4):  # four distinct SystemModstamps, 10 s apart on the mock clock
        batches.append(_create_contacts(sf, 30))
        control(ep, "POST", "/__mock/clock", {"advance_s": 10})
    for rid in batches[0][:5]:  # re-stamped: they move to the end of the stream
        sf.Contact.update(rid, {"Title": "moved"})
    sf.Contact.delete(batches[1][0])
    stamps = sorted(
        {r["SystemModstamp"] for r in sf.query_all("SELECT SystemModstamp FROM Contact")["records"]}
    )
    assert len(stamps) >= 5  # four batches, then the updates (maybe across a second boundary)
    for since in ("2000-01-01T00:00:00.000+0000", stamps[0], stamps[1], stamps[3]):
        literal = since.replace(".000+0000", "Z")
        for limit in (1, 7, 30, 31, 200):
            got = sf.query(
                f"SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp > {literal} "
                f"ORDER BY SystemModstamp, Id LIMIT {limit}"
            )["records"]
            assert [(r["Id"], r["SystemModstamp"]) for r in got] == _stamps_scan(ep, since, limit)
    # The engine's keyset form: past (stamp, id), in the same order, exactly.
    dump = control(ep, "GET", "/__mock/dump/Contact").json()["records"]
    live = sorted((r["SystemModstamp"], r["Id"]) for r in dump if not r["IsDeleted"])
    for stamp, last_id in (live[0], live[10], live[29], live[30], live[-2]):
        lit = stamp.replace(".000+0000", "Z")
        for limit in (1, 5, 40):
            got = sf.query(
                f"SELECT Id FROM Contact WHERE (SystemModstamp > {lit} OR (SystemModstamp = {lit} AND "
                f"Id > '{last_id}')) ORDER BY SystemModstamp ASC, Id ASC LIMIT {limit}"
            )["records"]
            expected = [i for st, i in live if (st, i) > (stamp, last_id)][:limit]
            assert [r["Id"] for r in got] == expected
    # The same bound inside a larger condition still answers like a scan.
    bound = stamps[1].replace(".000+0000", "Z")
    got = sf.query_all(f"SELECT Id FROM Contact WHERE SystemModstamp >= {bound} AND Title = 'moved'")[
        "records"
    ]
    assert sorted(r["Id"] for r in got) == sorted(batches[0][:5])


def test_lookups_by_id_and_external_id(fresh_sf: SF) -> None:
    sf, _ = fresh_sf
    ids = _create_contacts(sf, 20)
    sf.Contact.update(ids[3], {"HubSpot_Id__c": "HS-3"})
    sf.Contact.delete(ids[5])
    wanted = [ids[1], ids[5], ids[7][:15], "003000000000000"]
    in_list = ", ".join(f"'{i}'" for i in wanted)
    got = sf.query(f"SELECT Id FROM Contact WHERE Id IN ({in_list}) ORDER BY Id")["records"]
    assert [r["Id"] for r in got] == [ids[1], ids[7]]
    got = sf.query_all(f"SELECT Id FROM Contact WHERE Id IN ({in_list}) ORDER BY Id", include_deleted=True)
    assert [r["Id"] for r in got["records"]] == [ids[1], ids[5], ids[7]]
    got = sf.query("SELECT Id FROM Contact WHERE HubSpot_Id__c = 'hs-3' AND LastName != null")["records"]
    assert [r["Id"] for r in got] == [ids[3]]
    # Under OR the lookup cannot narrow; the answer is the same as a scan's.
    got = sf.query(f"SELECT Id FROM Contact WHERE Id = '{ids[0]}' OR LastName = 'Q00002' ORDER BY Id")[
        "records"
    ]
    assert [r["Id"] for r in got] == [ids[0], ids[2]]


def test_newest_first_answers_like_a_scan(fresh_sf: SF) -> None:
    """``ORDER BY SystemModstamp DESC LIMIT n`` (the engine's "newest change") comes from the end
    of the stamp index, deleted and re-stamped records included as a scan would have them."""
    sf, ep = fresh_sf
    ids = _create_contacts(sf, 30)
    control(ep, "POST", "/__mock/clock", {"advance_s": 10})
    sf.Contact.update(ids[3], {"Title": "newer"})
    sf.Contact.delete(ids[7])
    dump = control(ep, "GET", "/__mock/dump/Contact").json()["records"]
    for deleted in (False, True):
        rows = sorted(
            ((r["SystemModstamp"], r["Id"]) for r in dump if deleted or not r["IsDeleted"]), reverse=True
        )
        for limit in (0, 1, 2, 5, 40):
            soql = (
                f"SELECT Id, SystemModstamp FROM Contact ORDER BY SystemModstamp DESC, Id DESC LIMIT {limit}"
            )
            got = sf.query_all(soql, include_deleted=deleted)["records"]
            assert [(r["SystemModstamp"], r["Id"]) for r in got] == rows[:limit], (limit, deleted)
        # Ties (the update and the delete may share a second) in a scan's order: the table's.
        scan = sorted(
            (r for r in dump if deleted or not r["IsDeleted"]),
            key=lambda r: r["SystemModstamp"],
            reverse=True,
        )
        soql = "SELECT Id FROM Contact ORDER BY SystemModstamp DESC LIMIT 2"
        got = sf.query_all(soql, include_deleted=deleted)["records"]
        assert [r["Id"] for r in got] == [r["Id"] for r in scan[:2]]


def test_email_lookups_answer_like_a_scan(fresh_sf: SF) -> None:
    """Email is indexed (not unique): after creates, email changes, a delete and a rolled-back
    composite, ``Email =`` / ``IN`` answer exactly what a scan of the dump gives."""
    sf, ep = fresh_sf
    ids = _create_contacts(sf, 12)
    sf.Contact.update(ids[1], {"Email": "Q0@Example.com"})  # a second holder of q0, other case
    sf.Contact.update(ids[2], {"Email": "moved@example.com"})  # leaves q2
    sf.Contact.update(ids[3], {"Email": None})
    sf.Contact.delete(ids[4])
    rolled_back = {
        "allOrNone": True,
        "compositeRequest": [
            {"method": "PATCH", "url": f"/services/data/v59.0/sobjects/Contact/{ids[5]}",
             "referenceId": "a", "body": {"Email": "q6@example.com"}},
            {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact",
             "referenceId": "b", "body": {"LastName": "New", "Email": "q7@example.com"}},
            {"method": "PATCH", "url": "/services/data/v59.0/sobjects/Contact/003000000000000AAA",
             "referenceId": "c", "body": {"Email": "x@example.com"}},
        ],
    }  # fmt: skip
    sf.restful("composite", method="POST", json=rolled_back)
    dump = control(ep, "GET", "/__mock/dump/Contact").json()["records"]
    emails = ["q0@example.com", "Q2@EXAMPLE.COM", "moved@example.com", "q4@example.com",
              "q5@example.com", "q6@example.com", "q7@example.com", "nobody@example.com"]  # fmt: skip
    for wanted in [[e] for e in emails] + [emails]:
        folded = {e.casefold() for e in wanted}
        for deleted in (False, True):
            scan = [
                r["Id"]
                for r in dump
                if str(r.get("Email") or "").casefold() in folded and (deleted or not r["IsDeleted"])
            ]
            in_list = ", ".join(f"'{e}'" for e in wanted)
            soql = f"SELECT Id FROM Contact WHERE Email IN ({in_list})"
            if len(wanted) == 1:
                soql = f"SELECT Id FROM Contact WHERE Email = '{wanted[0]}'"
            got = sf.query_all(soql, include_deleted=deleted)["records"]
            assert [r["Id"] for r in got] == scan, (soql, deleted)


def test_change_stream_queries_read_only_the_index_run_they_need() -> None:
    """White-box: the change-stream shapes hand the SOQL engine a page, not the table."""
    from mockcrm.config import MockConfig
    from mockcrm.salesforce import writes
    from mockcrm.salesforce.narrow import candidates
    from mockcrm.salesforce.service import SalesforceMock
    from mockcrm.salesforce.soql import parse_soql

    mock = SalesforceMock(MockConfig())
    table = mock.org.tables["Contact"]
    for i in range(1000):
        if i % 100 == 0:
            mock.clock.offset_s += 5
        prepared = writes.prepare_create(mock.org, table, {"LastName": f"N{i}", "Email": f"n{i}@example.com"})
        assert not isinstance(prepared, list)
        writes.commit(mock.org, prepared, mock.org.stamp())
    recs = sorted(table.records.values(), key=lambda r: (str(r["SystemModstamp"]), str(r["Id"])))
    stamp, last_id = str(recs[450]["SystemModstamp"]), str(recs[450]["Id"])
    lit = stamp.replace(".000+0000", "Z")
    shapes = {
        f"WHERE SystemModstamp >= {lit} ORDER BY SystemModstamp, Id LIMIT 20": 20,
        f"WHERE (SystemModstamp > {lit} OR (SystemModstamp = {lit} AND Id > '{last_id}')) "
        "ORDER BY SystemModstamp ASC, Id ASC LIMIT 20": 20,
        f"WHERE SystemModstamp > {lit} AND LastName != 'x'": 1000 - 500,
        f"WHERE Id IN ('{last_id}', '{recs[0]['Id']}')": 2,
        "WHERE Email IN ('n7@example.com', 'N8@example.com', 'none@example.com') AND LastName != 'x'": 2,
        "ORDER BY SystemModstamp DESC LIMIT 1": 100,  # the newest stamp's records (100 share one)
    }
    for where, most in shapes.items():
        got = list(candidates(table, parse_soql(f"SELECT Id FROM Contact {where}"), include_deleted=False))
        assert 0 < len(got) <= most, where
