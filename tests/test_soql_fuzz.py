"""Property tests: garbage never escapes as anything but SoqlError, and the semantics hold together."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockcrm.salesforce.soql import QueryResult, SoqlError, execute, like_matcher, parse_soql
from mockcrm.salesforce.soql_ast import Literal
from tests.test_soql_data import FIELDS, RECORDS, rec

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALID = [
    "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'sm%' ORDER BY LastName DESC NULLS FIRST LIMIT 3",
    "SELECT Id FROM Contact WHERE SystemModstamp > 2024-01-05T10:00:00Z ORDER BY SystemModstamp, Id LIMIT 20",
    "SELECT COUNT() FROM Contact WHERE (Amount > 1.5 OR Amount = null) AND NOT IsDeleted = true",
    "SELECT Id FROM Contact WHERE Id IN ('0034S000001AbcDQAS', '0034S000001AbcE') OFFSET 1",
    "SELECT Id FROM Contact WHERE Birthdate >= LAST_N_DAYS:30 AND LastName NOT IN ('a\\'b', 'c\\\\d')",
    "SELECT COUNT(Id) n FROM Contact WHERE Email != null",
]


def run(query: str) -> QueryResult | None:
    """Parse and execute; SoqlError is an acceptable outcome, anything else propagates and fails."""
    try:
        return execute(parse_soql(query), RECORDS, FIELDS)
    except SoqlError as err:
        assert err.error_code.isupper() and err.message
        return None


@FUZZ
@given(st.text(max_size=200))
def test_random_text_gives_result_or_soql_error(text: str) -> None:
    run(text)


@FUZZ
@given(
    st.lists(
        st.sampled_from(
            [
                "SELECT",
                "Id",
                "LastName",
                ",",
                "FROM",
                "Contact",
                "WHERE",
                "=",
                "!=",
                "<",
                ">=",
                "(",
                ")",
                "AND",
                "OR",
                "NOT",
                "IN",
                "LIKE",
                "'x'",
                "'%\\_'",
                "5",
                "-2.5",
                "null",
                "true",
                "TODAY",
                "LAST_N_DAYS",
                ":",
                "3",
                "2024-01-05",
                "2024-01-05T10:00:00Z",
                "ORDER",
                "BY",
                "ASC",
                "DESC",
                "NULLS",
                "FIRST",
                "LAST",
                "LIMIT",
                "OFFSET",
                "COUNT()",
                "INCLUDES",
                "EXCLUDES",
                "FIELDS(ALL)",
                "FOR",
                "VIEW",
                "WITH",
                "USING",
                "SCOPE",
                "COUNT",
                "Amount",
                "SystemModstamp",
                "Birthdate",
                "IsDeleted",
                "\\",
            ]
        ),
        max_size=30,
    )
)
def test_token_soup_gives_result_or_soql_error(tokens: list[str]) -> None:
    run(" ".join(tokens))


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        if kind == "insert":
            text = text[:pos] + draw(st.text(min_size=1, max_size=3)) + text[pos:]
        elif kind == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 8)) :]
        elif kind == "replace":
            text = text[:pos] + draw(st.sampled_from(list("'\\()%_:,=<>-.0aZ \n"))) + text[pos + 1 :]
        else:
            end = pos + draw(st.integers(1, 12))
            text = text[:end] + text[pos:end] + text[end:]
    return text


@FUZZ
@given(mutated())
def test_mutated_queries_give_result_or_soql_error(query: str) -> None:
    run(query)


# -- structurally valid queries: semantic properties ---------------------------------------------------
_COMPARISONS = st.sampled_from(
    [
        "LastName = 'smith'",
        "LastName LIKE '%s%'",
        "LastName = null",
        "Amount > 2",
        "Amount <= 10",
        "NumberOfEmployees IN (0, 5, 7)",
        "IsDeleted = true",
        "Birthdate < 1995-01-01",
        "Email != null",
        "SystemModstamp >= 2024-01-05T10:00:00.001Z",
        "Id NOT IN ('0034S000001AbcD')",
        "FirstName LIKE '_%'",
    ]
)


def _conditions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        joined = st.tuples(st.sampled_from([" AND ", " OR "]), st.lists(inner, min_size=2, max_size=3))
        return st.one_of(
            inner.map(lambda c: f"NOT ({c})"),
            joined.map(lambda t: "(" + t[0].join(t[1]) + ")"),
        )

    return st.recursive(_COMPARISONS, extend, max_leaves=8)


def _ids(query: str) -> list[str]:
    return [str(row["Id"]) for row in execute(parse_soql(query), RECORDS, FIELDS).rows]


@FUZZ
@given(_conditions())
def test_not_is_the_complement(cond: str) -> None:
    inside = set(_ids(f"SELECT Id FROM Contact WHERE {cond}"))
    outside = set(_ids(f"SELECT Id FROM Contact WHERE NOT ({cond})"))
    assert inside.isdisjoint(outside)
    assert inside | outside == {str(r["Id"]) for r in RECORDS}
    count = execute(parse_soql(f"SELECT COUNT() FROM Contact WHERE {cond}"), RECORDS, FIELDS).total_size
    assert count == len(inside)


_ORDER = st.lists(
    st.tuples(
        st.sampled_from(["LastName", "Amount", "Birthdate", "SystemModstamp", "IsDeleted", "FirstName"]),
        st.sampled_from(["", " ASC", " DESC"]),
        st.sampled_from(["", " NULLS FIRST", " NULLS LAST"]),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda t: t[0],
)

_MANY = [
    rec(
        f"0034S00000{i:05d}",
        [None, "b", "A", "c"][i % 4],
        amount=[None, 1, 2.5][i % 3],
        stamp=f"2024-01-0{1 + i % 3}T00:00:00.000+0000",
        birth=[None, "2000-01-01"][i % 2],
        deleted=i % 5 == 0,
    )
    for i in range(60)
]


@FUZZ
@given(_ORDER, st.integers(0, 70), st.integers(0, 70))
def test_limit_offset_slice_the_full_ordering(
    order: list[tuple[str, str, str]], limit: int, offset: int
) -> None:
    clause = ", ".join(f"{f}{d}{n}" for f, d, n in order)
    full = execute(parse_soql(f"SELECT Id FROM Contact ORDER BY {clause}"), _MANY, FIELDS).rows
    page = execute(
        parse_soql(f"SELECT Id FROM Contact ORDER BY {clause} LIMIT {limit} OFFSET {offset}"), _MANY, FIELDS
    )
    assert page.rows == full[offset : offset + limit]
    assert page.total_size == len(page.rows)
    # The full ordering is a permutation that respects the first key, nulls where asked.
    field, direction, nulls = order[0]
    values = [next(r for r in _MANY if r["Id"] == row["Id"])[field] for row in full]
    non_null = [v for v in values if v is not None]
    nulls_first = "FIRST" in nulls or ("LAST" not in nulls and "DESC" not in direction)
    expected_nulls = [None] * (len(values) - len(non_null))
    assert values == (
        expected_nulls + _sorted(non_null, direction)
        if nulls_first
        else _sorted(non_null, direction) + expected_nulls
    )


def _sorted(values: list[object], direction: str) -> list[object]:
    def key(v: object) -> object:
        return v.casefold() if isinstance(v, str) else v

    return sorted(values, key=key, reverse="DESC" in direction)  # type: ignore[arg-type]


# -- LIKE matching against a reference implementation ---------------------------------------------------
def _reference_like(pattern: str, wildcards: set[int], value: str) -> bool:
    """Textbook dynamic programming over (pattern position, value position)."""
    p, v = pattern.lower(), value.lower()

    @cache
    def match(i: int, j: int) -> bool:
        if i == len(p):
            return j == len(v)
        if i in wildcards and p[i] == "%":
            return match(i + 1, j) or (j < len(v) and match(i, j + 1))
        if j < len(v) and ((i in wildcards and p[i] == "_") or p[i] == v[j]):
            return match(i + 1, j + 1)
        return False

    return match(0, 0)


@FUZZ
@given(st.text("ab%_A.*", max_size=10), st.text("abAB%_.*", max_size=14))
def test_like_matches_reference(pattern: str, value: str) -> None:
    wild = tuple(i for i, c in enumerate(pattern) if c in "%_")
    matcher: Callable[[str], bool] = like_matcher(Literal("string", pattern, 0, wildcards=wild))
    assert matcher(value) == _reference_like(pattern, set(wild), value)


def test_like_has_no_catastrophic_backtracking() -> None:
    # A backtracking regex would need ~n^6 steps here; run it on a thread so a regression cannot hang.
    pattern = "%a%a%a%a%a%a%b"
    matcher = like_matcher(
        Literal("string", pattern, 0, wildcards=tuple(m.start() for m in re.finditer("%", pattern)))
    )
    outcome: list[bool] = []
    worker = threading.Thread(target=lambda: outcome.append(matcher("a" * 20_000)), daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert outcome == [False]


# -- presorted_by: the early-stopping path gives exactly the full computation's rows --------------------
_BY_STAMP = sorted(_MANY, key=lambda r: str(r["SystemModstamp"]))


@FUZZ
@given(
    _conditions(),
    st.sampled_from(["SystemModstamp", "SystemModstamp, Id", "SystemModstamp ASC, LastName DESC", "Id"]),
    st.integers(0, 70),
    st.integers(0, 70),
)
def test_presorted_matches_full_scan(cond: str, order: str, limit: int, offset: int) -> None:
    query = parse_soql(f"SELECT Id FROM Contact WHERE {cond} ORDER BY {order} LIMIT {limit} OFFSET {offset}")
    full = execute(query, _BY_STAMP, FIELDS)
    fast = execute(query, iter(_BY_STAMP), FIELDS, presorted_by="systemmodstamp")
    assert fast == full


def test_presorted_stops_early() -> None:
    # The early stop is observable: records past the cut-off are never pulled from the iterator.
    pulled: list[object] = []

    def source() -> Iterator[dict[str, object]]:
        for r in _BY_STAMP:
            pulled.append(r["Id"])
            yield r

    query = parse_soql("SELECT Id FROM Contact ORDER BY SystemModstamp, Id LIMIT 3")
    rows = execute(query, source(), FIELDS, presorted_by="systemmodstamp").rows
    assert rows == execute(query, _BY_STAMP, FIELDS).rows
    # 20 records share the first stamp: all of them are read (ties), the next one stops the scan.
    assert len(pulled) == 21
