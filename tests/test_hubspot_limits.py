"""Rate limits: burst, daily and search windows, their headers and real 429 bodies; 401 and the
control plane never count; a 429 storm looks like the real burst limit."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.contacts import ApiException, PublicObjectSearchRequest

from tests.test_hubspot_support import call, client, hubspot_mocks, watchdog

__all__ = ["watchdog"]

BURST_HEADERS = {
    "X-HubSpot-RateLimit-Daily", "X-HubSpot-RateLimit-Daily-Remaining",
    "X-HubSpot-RateLimit-Interval-Milliseconds", "X-HubSpot-RateLimit-Max", "X-HubSpot-RateLimit-Remaining",
    "X-HubSpot-RateLimit-Secondly",
    "X-HubSpot-RateLimit-Secondly-Remaining",
}  # fmt: skip
LIST = "/crm/v3/objects/contacts"
SEARCH = "/crm/v3/objects/contacts/search"


def test_burst_limit_headers_and_429_body() -> None:
    with hubspot_mocks(hubspot_burst_limit=4) as hs:
        remaining = []
        for _ in range(4):
            status, _, headers = call(hs, "GET", LIST)
            assert status == 200
            assert set(headers) >= BURST_HEADERS
            assert headers["X-HubSpot-RateLimit-Max"] == "4"
            assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
            remaining.append(int(headers["X-HubSpot-RateLimit-Remaining"]))
        assert remaining == [3, 2, 1, 0]
        with pytest.raises(ApiException) as err:
            client(hs).crm.contacts.basic_api.get_page()
        assert err.value.status == 429
        body = json.loads(err.value.body)
        assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["errorType"] == "RATE_LIMIT"
        assert err.value.headers["X-HubSpot-Correlation-Id"] == body["correlationId"]
        assert body["message"] == "You have reached your ten_secondly_rolling limit."
        assert set(err.value.headers) >= BURST_HEADERS
        assert call(hs, "GET", "/__mock/stats")[1]["refused"] == {"ten_secondly": 1}
        assert call(hs, "POST", "/__mock/clock", {"advance_s": 10})[0] == 200
        assert call(hs, "GET", LIST)[0] == 200


def test_daily_limit_and_its_reset() -> None:
    with hubspot_mocks(hubspot_daily_limit=3) as hs:
        for expected in (2, 1, 0):
            status, _, headers = call(hs, "GET", LIST)
            assert status == 200 and headers["X-HubSpot-RateLimit-Daily-Remaining"] == str(expected)
            assert headers["X-HubSpot-RateLimit-Daily"] == "3"
        with pytest.raises(ApiException) as err:
            client(hs).crm.contacts.basic_api.get_page()
        assert err.value.status == 429
        body = json.loads(err.value.body)
        assert body["policyName"] == "DAILY" and body["message"] == "You have reached your daily limit."
        assert err.value.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
        status, body, _ = call(hs, "POST", SEARCH, {})
        assert status == 429 and body["policyName"] == "DAILY"
        assert call(hs, "GET", "/__mock/stats")[1]["refused"] == {"daily": 2}
        assert call(hs, "POST", "/__mock/clock", {"advance_s": 86_400})[0] == 200
        assert call(hs, "GET", LIST)[0] == 200


def test_search_has_its_own_per_second_limit() -> None:
    with hubspot_mocks(hubspot_search_rate=2, hubspot_burst_limit=3) as hs:
        for _ in range(2):
            status, _, headers = call(hs, "POST", SEARCH, {})
            assert status == 200
            assert (
                "X-HubSpot-RateLimit-Daily-Remaining" in headers and "X-HubSpot-RateLimit-Max" not in headers
            )
        with pytest.raises(ApiException) as err:
            client(hs).crm.contacts.search_api.do_search(PublicObjectSearchRequest(limit=1))
        assert err.value.status == 429
        body = json.loads(err.value.body)
        headers = err.value.headers
        assert set(body) == {"status", "message", "correlationId", "category"}
        assert (
            body["category"] == "RATE_LIMITS" and body["message"] == "You have reached your secondly limit."
        )
        assert "X-HubSpot-RateLimit-Daily" in headers and "X-HubSpot-RateLimit-Remaining" not in headers
        assert "Retry-After" not in headers
        assert call(hs, "GET", "/__mock/stats")[1]["refused"] == {"search_secondly": 1}
        # Searches use their own bucket: the burst window is still untouched.
        for _ in range(3):
            assert call(hs, "GET", LIST)[0] == 200
        assert call(hs, "POST", "/__mock/clock", {"advance_s": 1})[0] == 200
        assert call(hs, "POST", SEARCH, {})[0] == 200


def test_what_counts() -> None:
    with hubspot_mocks(hubspot_daily_limit=100) as hs:
        assert call(hs, "GET", LIST, token="wrong")[0] == 401
        call(hs, "GET", "/__mock/stats")
        _, _, headers = call(hs, "GET", LIST)
        assert headers["X-HubSpot-RateLimit-Daily-Remaining"] == "99"  # the 401 did not count
        _, stats, _ = call(hs, "GET", "/__mock/stats")
        assert stats["api_calls"] == 2  # both API calls (the 401 too), none of the control calls
        assert stats["by_endpoint"] == {"GET /crm/v3/objects/{objectType}": 2}


def test_storm_and_injected_errors_have_hubspot_shapes() -> None:
    with hubspot_mocks() as hs:
        _, clock, _ = call(hs, "GET", "/__mock/clock")
        storm = {"storm_until": clock["now_ms"] / 1000 + 60}
        assert call(hs, "POST", "/__mock/faults", storm)[0] == 200
        status, body, _ = call(hs, "GET", LIST)
        assert status == 429 and body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert call(hs, "POST", "/__mock/faults", {"error_rate": 1.0})[0] == 200
        status, body, headers = call(hs, "GET", LIST)
        assert status == 503 and body["status"] == "error" and body["correlationId"]
        assert headers["X-HubSpot-Correlation-Id"] == body["correlationId"]
        assert call(hs, "POST", "/__mock/reset")[0] == 200
        assert call(hs, "GET", LIST)[0] == 200
