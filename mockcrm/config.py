"""Options shared by both mock servers (``crmsync mock`` flags map one-to-one onto these)."""

from __future__ import annotations

import msgspec

# Fixed default tokens so scripts can talk to the mocks without parsing anything.
DEFAULT_HUBSPOT_TOKEN = "pat-na1-crmsync-mock"
DEFAULT_SALESFORCE_TOKEN = "00D000000000001!crmsync.mock.session"


class MockConfig(msgspec.Struct, kw_only=True):
    host: str = "127.0.0.1"
    hubspot_port: int = 8101
    """0 = any free port."""
    salesforce_port: int = 8102
    hubspot_token: str = DEFAULT_HUBSPOT_TOKEN
    salesforce_token: str = DEFAULT_SALESFORCE_TOKEN
    hubspot_daily_limit: int = 650_000
    """Calls per rolling 24 h (HubSpot Professional private app); 0 = unlimited."""
    hubspot_burst_limit: int = 190
    """Calls per 10 s window; 0 = unlimited (the benchmark's lifted limits)."""
    hubspot_search_rate: int = 5
    """Search requests per second; 0 = unlimited."""
    salesforce_daily_limit: int = 100_000
    """DailyApiRequests Max (Enterprise base allocation); 0 = unlimited."""
    latency_ms: int = 0
    error_rate: float = 0.0
    plain_http: bool = False
    """Serve Salesforce over HTTP too (real Salesforce and simple-salesforce need HTTPS)."""
    seed: int | None = None
    """Seeds fault injection, record ids and generated data, so runs replay exactly."""
    cert_dir: str | None = None
    """Where the CA file for the HTTPS mock goes; a temporary directory when unset."""


class MockEndpoints(msgspec.Struct, kw_only=True):
    """What ``crmsync mock`` prints as its one JSON line once both servers listen."""

    hubspot_url: str
    hubspot_token: str
    salesforce_url: str
    salesforce_token: str
    ca_file: str | None
