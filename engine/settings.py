"""Settings: one TOML file plus ``CRMSYNC_*`` environment variables (the environment wins).

Loaded once by the CLI, validated, and passed down explicitly. Every error names the key and the
environment variable that sets it, and never echoes a secret's value.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from engine.errors import ConfigError
from engine.mapping import FieldMapping

Positive = Annotated[int, msgspec.Meta(ge=1)]
NonNegative = Annotated[int, msgspec.Meta(ge=0)]
Url = Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s/]+")]


class HubSpotSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    base_url: Url = "https://api.hubapi.com"
    token: str = ""
    """Private-app or OAuth access token (secret); may stay empty when refresh credentials are set."""
    client_id: str = ""
    """OAuth app's client id: with ``client_secret`` and ``refresh_token``, crmsync refreshes
    expired access tokens itself."""
    client_secret: str = ""
    """OAuth app's client secret (secret)."""
    refresh_token: str = ""
    """OAuth refresh token of the installed app (secret)."""
    token_url: Url | None = None
    """OAuth token endpoint; default ``{base_url}/oauth/v1/token``."""
    daily_api_allotment: Positive = 250_000
    """Calls per rolling 24 h crmsync may spend on HubSpot."""
    burst_per_10s: NonNegative = 190
    """The portal's ten-second limit (190 for Professional/Enterprise private apps); 0 = none."""
    search_per_s: NonNegative = 5
    """The search endpoints' own limit per second; 0 = none."""

    @property
    def oauth(self) -> bool:
        return bool(self.client_id or self.client_secret or self.refresh_token)

    def oauth_token_url(self) -> str:
        return self.token_url or self.base_url.rstrip("/") + "/oauth/v1/token"

    def __repr__(self) -> str:
        return (
            f"HubSpotSettings(base_url={self.base_url!r}, token=***, oauth={'on' if self.oauth else 'off'}, "
            f"allotment={self.daily_api_allotment})"
        )


class SalesforceSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    instance_url: Url = "https://login.salesforce.com"
    token: str = ""
    """Session id / OAuth access token (secret); may stay empty when refresh credentials are set."""
    client_id: str = ""
    """Connected app's consumer key: with ``refresh_token`` crmsync refreshes expired sessions."""
    client_secret: str = ""
    """Connected app's consumer secret (secret); optional, as an app may not require it for the
    refresh-token flow."""
    refresh_token: str = ""
    """OAuth refresh token (secret)."""
    token_url: Url | None = None
    """OAuth token endpoint; default ``{instance_url}/services/oauth2/token`` (a My Domain URL
    answers there); ``https://login.salesforce.com/services/oauth2/token`` (or test. for a
    sandbox) works for every org."""
    api_version: Annotated[str, msgspec.Meta(pattern=r"^\d{2,3}\.0$")] = "59.0"
    ca_file: str | None = None
    """Extra CA to trust (the mock's self-signed certificate)."""
    daily_api_allotment: Positive = 15_000
    """Calls per rolling 24 h crmsync may spend of the org's allocation."""

    @property
    def oauth(self) -> bool:
        return bool(self.client_id or self.client_secret or self.refresh_token)

    def oauth_token_url(self) -> str:
        return self.token_url or self.instance_url.rstrip("/") + "/services/oauth2/token"

    def __repr__(self) -> str:
        return (
            f"SalesforceSettings(instance_url={self.instance_url!r}, token=***, "
            f"oauth={'on' if self.oauth else 'off'}, "
            f"api_version={self.api_version!r}, allotment={self.daily_api_allotment})"
        )


class StateSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    path: str = "crmsync.db"
    """The SQLite state file: links, bases, cursors, API ledger, sync errors."""


class ContactsSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    create_in_salesforce_as: Literal["Contact", "Lead"] = "Contact"
    salesforce_to_hubspot: Literal["create_or_update", "do_nothing"] = "create_or_update"
    on_salesforce_delete: Literal["delete", "do_nothing"] = "do_nothing"
    external_id_field: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9_]*__c$")] = "HubSpot_Id__c"
    fields: list[FieldMapping] | None = None
    """Replaces the default mapping when given; ``email`` ↔ ``Email`` is always mapped."""


class TuningSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Concurrency knobs, set by environment variables without a section (``CRMSYNC_MAX_ACTORS``)."""

    max_actors: Positive = 2048
    """Record actors alive at once (distinct records in flight). More in flight fill batches
    better: a 10k-pair backfill made 0.055 calls per record at 512, 0.048 at 1,024 and 0.044 at
    2,048, for ~20 MB more memory (benchmarks/RESULTS.md)."""
    batch_size: Annotated[int, msgspec.Meta(ge=1, le=200)] = 100
    """Records per batch call (HubSpot caps at 100, Salesforce collections at 200)."""
    batch_linger_ms: NonNegative = 20
    """How long a batch waits for more records before it is sent."""
    link_cache: Positive = 100_000
    """Links kept in memory (2.3–3.4 KB each): a backfill of up to this many pairs recognises its
    own writes coming back without reading the state file (engine/link_cache.py)."""
    http_connections: Positive = 8
    """Concurrent HTTP connections per CRM."""
    poll_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    log_level: Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    echo_suppression: Literal["on", "off"] = "on"
    """For diagnosis only (``CRMSYNC_ECHO_SUPPRESSION=off``): every change, our own writes coming
    back included, is reconciled against the other side as if it were new: extra reads (the
    reconciler still writes only what differs). tests/test_echo.py uses it to show that the
    no-echo check is what keeps converged runs to polling calls only."""


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    hubspot: HubSpotSettings = msgspec.field(default_factory=HubSpotSettings)
    salesforce: SalesforceSettings = msgspec.field(default_factory=SalesforceSettings)
    state: StateSettings = msgspec.field(default_factory=StateSettings)
    contacts: ContactsSettings = msgspec.field(default_factory=ContactsSettings)
    tuning: TuningSettings = msgspec.field(default_factory=TuningSettings)


_SECTIONED = ("hubspot", "salesforce", "state", "contacts")
_NOT_FROM_ENV = {("contacts", "fields")}


def env_name(section: str, key: str) -> str:
    return f"CRMSYNC_{key.upper()}" if section == "tuning" else f"CRMSYNC_{section.upper()}_{key.upper()}"


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (if any), overlay ``CRMSYNC_*`` variables, validate. Raises ConfigError."""
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {path} does not exist") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path} cannot be read: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    for section, struct in _sections().items():
        for key in struct.__struct_fields__:
            value = env.get(env_name(section, key))
            if value is None or (section, key) in _NOT_FROM_ENV:
                continue
            target = data.setdefault(section, {})
            if not isinstance(target, dict):
                raise ConfigError(f"{section}: must be a table, not {type(target).__name__}")
            target[key] = value
    try:
        settings = msgspec.convert(data, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(_explain(str(exc))) from None
    _require(settings)
    return settings


def _sections() -> dict[str, type[msgspec.Struct]]:
    return {name: type(getattr(Settings(), name)) for name in (*_SECTIONED, "tuning")}


def _explain(message: str) -> str:
    """Turn msgspec's ``... - at `$.tuning.max_actors` `` into a message naming key and env var."""
    m = re.search(r" - at `\$\.([A-Za-z_]+)(?:\.([A-Za-z_]+))?(.*)`$", message)
    if m is None:
        return f"invalid config: {message}"
    problem = message[: m.start()]
    section, key, rest = m.group(1), m.group(2), m.group(3)
    if key is None:
        unknown = re.search(r"unknown field `([^`]+)`", problem)
        if unknown:
            return f"{section}.{unknown.group(1)}: unknown key"
        return f"{section}: {problem}"
    where = f"{section}.{key}{rest}"
    hint = "" if (section, key) in _NOT_FROM_ENV else f" (env {env_name(section, key)})"
    unknown = re.search(r"unknown field `([^`]+)`", problem)
    if unknown:
        return f"{where}.{unknown.group(1)}: unknown key"
    return f"{where}{hint}: {problem}"


# The OAuth keys each system needs for a refresh; HubSpot always wants the client secret, while
# a Salesforce connected app can be set not to require it for the refresh-token flow.
_REFRESH_KEYS = {
    "hubspot": ("client_id", "client_secret", "refresh_token"),
    "salesforce": ("client_id", "refresh_token"),
}


def _key(section: str, key: str) -> str:
    return f"{section}.{key} (env {env_name(section, key)})"


def _require(settings: Settings) -> None:
    for section, system in (("hubspot", settings.hubspot), ("salesforce", settings.salesforce)):
        needed = _REFRESH_KEYS[section]
        if system.oauth:
            for key in needed:
                if not getattr(system, key):
                    given = [k for k in ("client_id", "client_secret", "refresh_token") if getattr(system, k)]
                    raise ConfigError(
                        f"{_key(section, key)}: required for OAuth refresh (given: "
                        f"{', '.join(f'{section}.{k}' for k in given)})"
                    )
        elif not system.token:
            raise ConfigError(
                f"{_key(section, 'token')}: required, or OAuth refresh credentials "
                f"({', '.join(f'{section}.{k}' for k in needed)})"
            )
    if settings.salesforce.ca_file is not None and not Path(settings.salesforce.ca_file).is_file():
        raise ConfigError(
            f"salesforce.ca_file (env CRMSYNC_SALESFORCE_CA_FILE): no file at {settings.salesforce.ca_file}"
        )
