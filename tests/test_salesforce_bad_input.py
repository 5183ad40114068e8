"""Bad input over raw aiohttp: every answer is Salesforce's error array (or OAuth error), never a 500
or a hang; plus the OAuth token endpoint and the auth rules."""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockcrm.config import MockEndpoints

API = "/services/data/v59.0"
TIMEOUT = aiohttp.ClientTimeout(total=60)


def _session(ep: MockEndpoints) -> aiohttp.ClientSession:
    ctx = ssl.create_default_context(cafile=ep.ca_file)
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=ctx),
        timeout=TIMEOUT,
        headers={"Authorization": f"Bearer {ep.salesforce_token}"},
    )


async def _call(ep: MockEndpoints, method: str, path: str, **kw: Any) -> tuple[int, Any, dict[str, str]]:
    async with _session(ep) as s, s.request(method, ep.salesforce_url + path, **kw) as resp:
        body = await resp.json(content_type=None) if resp.status != 204 else None
        return resp.status, body, dict(resp.headers)


def _is_error_array(body: Any) -> bool:
    return (
        isinstance(body, list)
        and len(body) >= 1
        and all(isinstance(e, dict) and isinstance(e.get("errorCode"), str) and "message" in e for e in body)
    )


# Async tests are marked for anyio at collection time, which does not mix with parametrize, so the
# cases run in a loop (each failure message names its case).
BAD_CASES: list[tuple[str, str, bytes | None, str | None]] = [
    ("POST", "/sobjects/Contact", b"{not json", "JSON_PARSER_ERROR"),
    ("POST", "/sobjects/Contact/", b"", "JSON_PARSER_ERROR"),
    ("POST", "/sobjects/Contact", b"[1, 2]", "JSON_PARSER_ERROR"),
    ("POST", "/sobjects/Contact", b'{"LastName": {"nested": 1}}', "JSON_PARSER_ERROR"),
    ("POST", "/sobjects/Contact", b'{"LastName": "x", "Birthdate": "yesterday"}', "JSON_PARSER_ERROR"),
    (
        "POST",
        "/sobjects/Lead",
        b'{"LastName": "x", "Company": "y", "NumberOfEmployees": 1.5}',
        "JSON_PARSER_ERROR",
    ),
    ("POST", "/sobjects/Contact", b"\xff\xfe\x00garbage", "JSON_PARSER_ERROR"),
    ("POST", "/composite/sobjects", b'{"records": "nope"}', "JSON_PARSER_ERROR"),
    ("POST", "/composite/sobjects", b'{"records": [{"LastName": "no type"}]}', "INVALID_TYPE"),
    ("PATCH", "/composite/sobjects/Contact/Nope__c", b'{"records": []}', "NOT_FOUND"),
    ("POST", "/composite", b'{"compositeRequest": [{"method": "GET"}]}', "JSON_PARSER_ERROR"),
    ("POST", "/sobjects/Contact", b'{"LastName": ' + b"[" * 5000 + b"]" * 5000 + b"}", "JSON_PARSER_ERROR"),
    (
        "POST",
        "/composite",
        b'{"compositeRequest": [{"method": "POST", "url": "/services/data/v59.0/sobjects/Lead",'
        b' "referenceId": "r", "body": ' + b"[" * 900 + b"]" * 900 + b"}]}",
        None,
    ),
    (
        "POST",
        "/sobjects/Lead",
        b'{"LastName": "x", "Company": "y", "NumberOfEmployees": 1' + b"0" * 400 + b"}",
        "JSON_PARSER_ERROR",
    ),
    (
        "POST",
        "/sobjects/Lead",
        b'{"LastName": "x", "Company": "y", "AnnualRevenue": 1e999}',
        "JSON_PARSER_ERROR",
    ),
    ("POST", "/sobjects/Event", b'{"StartDateTime": "9999-12-31T23:00:00-10:00"}', "JSON_PARSER_ERROR"),
    ("GET", "/query?q=SELECT", None, "MALFORMED_QUERY"),
    ("GET", "/query", None, "MALFORMED_QUERY"),
    (
        "GET",
        "/query?q=" + "SELECT+Id+FROM+Contact+WHERE+" + "NOT+" * 3000 + "Id+=+null",
        None,
        "MALFORMED_QUERY",
    ),
    ("GET", "/sobjects/Contact/updated?start=never&end=now", None, "INVALID_INPUT"),
    ("GET", "/sobjects/Contact/deleted", None, "MISSING_ARGUMENT"),
    ("GET", "/nothing/here", None, "NOT_FOUND"),
    ("DELETE", "/limits", None, "METHOD_NOT_ALLOWED"),
]


async def test_bad_input_gets_the_error_array(mocks: MockEndpoints) -> None:
    for method, path, data, code in BAD_CASES:
        status, body, headers = await _call(mocks, method, API + path, data=data)
        case = (method, path[:60], status, str(body)[:300])
        if code is None:  # a composite: its subrequest carries the error
            assert status == 200 and body["compositeResponse"][0]["httpStatusCode"] == 400, case
            continue
        assert 400 <= status < 500, case
        assert _is_error_array(body) and body[0]["errorCode"] == code, case
        assert headers["Sforce-Limit-Info"].startswith("api-usage="), case


async def test_huge_body_is_refused_not_hung(mocks: MockEndpoints) -> None:
    huge = b'{"LastName": "' + b"x" * (33 * 1024 * 1024) + b'"}'
    status, body, _ = await _call(mocks, "POST", API + "/sobjects/Contact", data=huge)
    assert status == 413 and _is_error_array(body)
    # A big but acceptable body is validated normally (text fields have limits).
    status, body, _ = await _call(mocks, "POST", API + "/sobjects/Contact", json={"LastName": "y" * 100_000})
    assert status == 400 and body[0]["errorCode"] == "STRING_TOO_LONG"


async def test_trailing_slashes_and_versions(mocks: MockEndpoints) -> None:
    for path in ("/services/data/v60.0/sobjects/", "/services/data/v60.0/limits/", "/services/data/v45.0/"):
        status, _, headers = await _call(mocks, "GET", path)
        assert status == 200 and "Sforce-Limit-Info" in headers
    status, body, _ = await _call(
        mocks, "POST", "/services/data/v60.0/sobjects/Contact/", json={"LastName": "z"}
    )
    assert status == 201 and body["success"] is True


async def test_auth_is_required_everywhere(mocks: MockEndpoints) -> None:
    ctx = ssl.create_default_context(cafile=mocks.ca_file)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx), timeout=TIMEOUT) as s:
        for method, path in (("GET", "/limits"), ("POST", "/composite/sobjects"), ("GET", "/query?q=x")):
            headers = {"Authorization": "Bearer wrong"} if path == "/limits" else {}
            async with s.request(method, mocks.salesforce_url + API + path, headers=headers) as resp:
                assert resp.status == 401
                assert await resp.json(content_type=None) == [
                    {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
                ]
        # The versions list needs no session.
        async with s.get(mocks.salesforce_url + "/services/data/") as resp:
            assert resp.status == 200


async def test_oauth_grants_issue_working_tokens(mocks: MockEndpoints) -> None:
    ctx = ssl.create_default_context(cafile=mocks.ca_file)
    url = mocks.salesforce_url + "/services/oauth2/token"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx), timeout=TIMEOUT) as s:
        async with s.post(
            url,
            data={
                "grant_type": "password",
                "client_id": "c",
                "client_secret": "s",
                "username": "u@example.com",
                "password": "p",
            },
        ) as resp:
            assert resp.status == 200
            tok = await resp.json()
        assert {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"} <= set(tok)
        assert tok["instance_url"] == mocks.salesforce_url and tok["token_type"] == "Bearer"
        async with s.get(
            tok["instance_url"] + API + "/limits", headers={"Authorization": f"Bearer {tok['access_token']}"}
        ) as resp:
            assert resp.status == 200
        async with s.post(
            url, data={"grant_type": "refresh_token", "refresh_token": tok["refresh_token"], "client_id": "c"}
        ) as resp:
            assert resp.status == 200 and "access_token" in await resp.json()
        async with s.post(
            url, data={"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}
        ) as resp:
            assert resp.status == 200
        async with s.post(url, data={"grant_type": "refresh_token", "refresh_token": "forged"}) as resp:
            assert resp.status == 400
            assert (await resp.json())["error"] == "invalid_grant"
        async with s.post(url + "/", data={"grant_type": "client_credentials", "client_id": "c"}) as resp:
            assert resp.status == 400 and (await resp.json())["error"] == "invalid_client"
        async with s.post(url, data={"grant_type": "magic"}) as resp:
            assert resp.status == 400 and (await resp.json())["error"] == "unsupported_grant_type"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
            ),
            max_leaves=12,
        ).map(lambda v: __import__("json").dumps(v).encode()),
    )
)
def test_fuzzed_bodies_never_500(threaded_mocks: MockEndpoints, body: bytes) -> None:
    import requests

    with requests.Session() as s:
        s.verify = threaded_mocks.ca_file or False
        s.trust_env = False
        headers = {
            "Authorization": f"Bearer {threaded_mocks.salesforce_token}",
            "Content-Type": "application/json",
        }
        for method, path in (
            ("POST", "/sobjects/Contact"),
            ("PATCH", "/composite/sobjects"),
            ("POST", "/composite"),
            ("PATCH", "/sobjects/Account/HubSpot_Id__c/f1"),
        ):
            resp = s.request(
                method, threaded_mocks.salesforce_url + API + path, data=body, headers=headers, timeout=30
            )
            assert resp.status_code < 500, (path, body, resp.text)
            if resp.status_code >= 400:
                assert _is_error_array(resp.json()), resp.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    soql=st.one_of(
        st.text(max_size=80),
        st.lists(
            st.sampled_from(
                [
                    "SELECT",
                    "Id",
                    ",",
                    "Name",
                    "FROM",
                    "Contact",
                    "WHERE",
                    "(",
                    ")",
                    "AND",
                    "OR",
                    "NOT",
                    "=",
                    "!=",
                    "<",
                    ">=",
                    "IN",
                    "LIKE",
                    "'a%'",
                    "null",
                    "true",
                    "2024-01-01T00:00:00Z",
                    "2024-01-01",
                    "42",
                    "ORDER",
                    "BY",
                    "DESC",
                    "NULLS",
                    "LAST",
                    "LIMIT",
                    "OFFSET",
                    "COUNT()",
                    "SystemModstamp",
                    "'\\''",
                    "Id",
                ]
            ),
            max_size=14,
        ).map(" ".join),
    ),
    path=st.sampled_from(["/query", "/queryAll", "/query/"]),
)
def test_fuzzed_soql_never_500(threaded_mocks: MockEndpoints, soql: str, path: str) -> None:
    import requests

    with requests.Session() as s:
        s.verify = threaded_mocks.ca_file or False
        s.trust_env = False
        resp = s.get(
            threaded_mocks.salesforce_url + API + path,
            params={"q": soql},
            headers={"Authorization": f"Bearer {threaded_mocks.salesforce_token}"},
            timeout=30,
        )
    assert resp.status_code in (200, 400), (soql, resp.text)
    if resp.status_code == 400:
        assert _is_error_array(resp.json()), resp.text
    else:
        assert resp.json()["done"] is True
