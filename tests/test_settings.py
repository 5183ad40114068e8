"""Settings: TOML + environment, validated, with errors that name the key and never a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ConfigError
from engine.settings import load_settings

TOKENS = {"CRMSYNC_HUBSPOT_TOKEN": "pat-secret-1", "CRMSYNC_SALESFORCE_TOKEN": "00Dsecret!2"}


def _toml(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "crmsync.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_from_environment_only() -> None:
    s = load_settings(None, TOKENS)
    assert s.contacts.create_in_salesforce_as == "Contact"
    assert s.contacts.salesforce_to_hubspot == "create_or_update"
    assert s.contacts.on_salesforce_delete == "do_nothing"
    assert s.contacts.fields is None
    assert s.tuning.poll_interval_s == 5.0


def test_environment_wins_over_toml_and_converts_types(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        """
[hubspot]
base_url = "http://127.0.0.1:8101"
token = "from-file"
daily_api_allotment = 1000
[contacts]
create_in_salesforce_as = "Lead"
[[contacts.fields]]
hubspot = "email"
salesforce = "Email"
[[contacts.fields]]
hubspot = "jobtitle"
salesforce = "Title"
rule = "two_way"
""",
    )
    env = {**TOKENS, "CRMSYNC_HUBSPOT_DAILY_API_ALLOTMENT": "500", "CRMSYNC_MAX_ACTORS": "64"}
    s = load_settings(path, env)
    assert s.hubspot.base_url == "http://127.0.0.1:8101"
    assert s.hubspot.token == "pat-secret-1"
    assert s.hubspot.daily_api_allotment == 500
    assert s.tuning.max_actors == 64
    assert s.contacts.create_in_salesforce_as == "Lead"
    assert s.contacts.fields is not None and [f.salesforce for f in s.contacts.fields] == ["Email", "Title"]


@pytest.mark.parametrize(
    ("toml", "env", "expected"),
    [
        ("", {"CRMSYNC_MAX_ACTORS": "lots"}, "tuning.max_actors (env CRMSYNC_MAX_ACTORS): Expected `int`"),
        (
            "",
            {"CRMSYNC_BATCH_SIZE": "500"},
            "tuning.batch_size (env CRMSYNC_BATCH_SIZE): Expected `int` <= 200",
        ),
        ('[contacts]\ncreate_in_salesforce_as = "Account"\n', {}, "contacts.create_in_salesforce_as"),
        ('[hubspot]\nbase_url = "ftp://x"\n', {}, "hubspot.base_url (env CRMSYNC_HUBSPOT_BASE_URL)"),
        ("[hubspot]\ntokn = 'x'\n", {}, "hubspot.tokn: unknown key"),
        (
            "[[contacts.fields]]\nhubspot = 'a'\nsalesforce = 'B'\nrule = 'sometimes'\n",
            {},
            "contacts.fields[0]",
        ),
        ("[hubspot\n", {}, "is not valid TOML"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, toml: str, env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_toml(tmp_path, toml), {**TOKENS, **env})
    assert expected in str(info.value)


def test_missing_token_and_secrets_never_in_messages_or_repr() -> None:
    with pytest.raises(ConfigError, match=r"hubspot\.token"):
        load_settings(None, {"CRMSYNC_SALESFORCE_TOKEN": "x"})
    s = load_settings(None, TOKENS)
    assert "pat-secret-1" not in repr(s) and "00Dsecret!2" not in repr(s)
    with pytest.raises(ConfigError) as info:
        load_settings(None, {**TOKENS, "CRMSYNC_HUBSPOT_DAILY_API_ALLOTMENT": "pat-secret-1"})
    assert "pat-secret-1" not in str(info.value)


OAUTH_ENV = {
    "CRMSYNC_HUBSPOT_CLIENT_ID": "hs-app",
    "CRMSYNC_HUBSPOT_CLIENT_SECRET": "hs-client-SECRET-77",
    "CRMSYNC_HUBSPOT_REFRESH_TOKEN": "na1-REFRESH-SECRET-88",
    "CRMSYNC_SALESFORCE_CLIENT_ID": "3MVG9-consumer-key",
    "CRMSYNC_SALESFORCE_REFRESH_TOKEN": "5Aep-SF-REFRESH-SECRET-99",
}


def test_refresh_credentials_replace_the_token_and_default_their_token_urls(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        '[hubspot]\nbase_url = "http://127.0.0.1:8101/"\n'
        '[salesforce]\ninstance_url = "https://acme.my.salesforce.com"\n',
    )
    s = load_settings(path, OAUTH_ENV)
    assert s.hubspot.token == "" and s.hubspot.oauth and s.salesforce.oauth
    assert s.hubspot.refresh_token == "na1-REFRESH-SECRET-88"
    assert s.hubspot.oauth_token_url() == "http://127.0.0.1:8101/oauth/v1/token"
    assert s.salesforce.oauth_token_url() == "https://acme.my.salesforce.com/services/oauth2/token"
    assert s.salesforce.client_secret == ""  # a connected app may not require it for refreshes
    login = "https://login.salesforce.com/services/oauth2/token"
    s = load_settings(path, {**OAUTH_ENV, **TOKENS, "CRMSYNC_SALESFORCE_TOKEN_URL": login})
    assert s.salesforce.oauth_token_url() == login and s.salesforce.token == "00Dsecret!2"  # both at once
    shown = repr(s)
    assert "oauth=on" in shown
    for secret in (*OAUTH_ENV.values(), *TOKENS.values()):
        assert secret not in shown


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        (
            "CRMSYNC_HUBSPOT_CLIENT_SECRET",
            "hubspot.client_secret (env CRMSYNC_HUBSPOT_CLIENT_SECRET): required",
        ),
        (
            "CRMSYNC_HUBSPOT_REFRESH_TOKEN",
            "hubspot.refresh_token (env CRMSYNC_HUBSPOT_REFRESH_TOKEN): required",
        ),
        ("CRMSYNC_SALESFORCE_CLIENT_ID", "salesforce.client_id (env CRMSYNC_SALESFORCE_CLIENT_ID): required"),
    ],
)
def test_incomplete_refresh_credentials_name_the_missing_key(drop: str, expected: str) -> None:
    env = {k: v for k, v in OAUTH_ENV.items() if k != drop}
    with pytest.raises(ConfigError) as info:
        load_settings(None, env)
    message = str(info.value)
    assert expected in message
    assert not [v for v in OAUTH_ENV.values() if v in message]


def test_neither_token_nor_refresh_credentials_and_a_bad_token_url() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, {k: v for k, v in OAUTH_ENV.items() if "SALESFORCE" in k})
    assert "hubspot.token (env CRMSYNC_HUBSPOT_TOKEN): required, or OAuth refresh credentials" in str(
        info.value
    )
    with pytest.raises(ConfigError, match=r"salesforce\.token_url \(env CRMSYNC_SALESFORCE_TOKEN_URL\)"):
        load_settings(None, {**OAUTH_ENV, "CRMSYNC_SALESFORCE_TOKEN_URL": "login.salesforce.com"})
