"""Settings: file, overrides and environment, with every refusal naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from idp.config import (
    DEV_KEY_ENCRYPTION_KEY as DEV_KEK,
)
from idp.config import (
    DEV_SECRET_KEY,
    EXAMPLE_NIK_HMAC_KEY,
    EXAMPLE_SECRET_KEY,
    ConfigError,
    load_settings,
)
from idp.config import (
    EXAMPLE_KEY_ENCRYPTION_KEY as EXAMPLE_KEK,
)

EXAMPLE = Path(__file__).parent.parent / "config.example.toml"
STRONG = "s" * 40
STRONG_NIK = "n" * 40


def _production(**server) -> dict:
    return {
        "server": {"env": "production", "issuer": "https://sso.example.id", "secret_key": STRONG}
        | server,
        "members": {"nik_hmac_key": STRONG_NIK},
        "mfa": {"secret_keys": [FERNET_KEY]},
        "keys": {"encryption_keys": [KEK]},
    }


FERNET_KEY = "x" * 43 + "="  # 32 bytes in URL-safe base64
KEK = "k" * 43 + "="


def test_defaults_without_a_file():
    settings = load_settings(environ={})
    assert settings.server.issuer == "http://127.0.0.1:5000"
    assert settings.server.env == "development"
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith(
        "instance/idp.sqlite3"
    )
    assert settings.tokens.code_lifetime == 60
    assert settings.i18n.default_locale == "id"


def test_file_then_overrides_then_environment(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[server]\nissuer = "http://127.0.0.1:7000"\nworkers = 3\n')
    from_file = load_settings(path, environ={})
    assert from_file.server.issuer == "http://127.0.0.1:7000" and from_file.server.workers == 3
    overridden = load_settings(path, environ={}, overrides={"server": {"workers": 5}})
    assert overridden.server.workers == 5
    env = {"IDP_SERVER_WORKERS": "7", "IDP_CONFIG": str(path)}
    assert load_settings(environ=env, overrides={"server": {"workers": 5}}).server.workers == 7


def test_contract_environment_names(tmp_path):
    env = {
        "IDP_DATABASE_URL": "postgresql+psycopg://u@h/db",
        "IDP_MAIL_OUTBOX_DIR": str(tmp_path / "mail"),
        "IDP_SMS_OUTBOX_DIR": str(tmp_path / "sms"),
        "IDP_KEYS_DIR": str(tmp_path / "keys"),
        "IDP_SERVER_DEBUG": "yes",
        "IDP_I18N_LOCALES": "en, id",
        "IDP_MAIL_SMTP_TIMEOUT": "2.5",
    }
    settings = load_settings(environ=env)
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.mail_outbox_dir == tmp_path / "mail"
    assert settings.sms_outbox_dir == tmp_path / "sms"
    assert settings.keys_path == tmp_path / "keys"
    assert settings.server.debug is True
    assert settings.i18n.locales == ["en", "id"]
    assert settings.mail.smtp_timeout == 2.5


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('[server]\nisuer = "x"\n', "[server] isuer"),
        ("[serverr]\nissuer = 1\n", "[serverr]"),
        ('[server]\nworkers = "2"\n', "[server] workers"),
        ("[server]\nworkers = true\n", "[server] workers"),
        ("[server]\nissuer = 5\n", "[server] issuer"),
        ("[server]\ndebug = 1\n", "[server] debug"),
        ('[i18n]\nlocales = "id"\n', "[i18n] locales"),
        ("[tokens]\ncode_lifetime = 120\n", "[tokens] code_lifetime"),
        ("[tokens]\naccess_token_lifetime = 0\n", "[tokens] access_token_lifetime"),
        ("[keys]\nrsa_bits = 1024\n", "[keys] rsa_bits"),
        ('[server]\nissuer = "https://sso.example.id/"\n', "[server] issuer"),
        ('[server]\nissuer = "https://sso.example.id?x=1"\n', "[server] issuer"),
        ('[server]\nissuer = "sso.example.id"\n', "[server] issuer"),
        ('[server]\nenv = "staging"\n', "[server] env"),
        ('[mail]\nbackend = "smtp"\n', "[mail] smtp_host"),
        ('[mail]\nbackend = "carrier-pigeon"\n', "[mail] backend"),
        ('[sms]\nbackend = "webhook"\n', "[sms] webhook_url"),
        ('[i18n]\ndefault_locale = "fr"\n', "[i18n] default_locale"),
        ("[passwords]\nmin_length = 4\n", "[passwords] min_length"),
        ("[passwords]\nmax_length = 64\n", "[passwords] max_length"),
    ],
)
def test_file_errors_name_the_key(tmp_path, toml, named):
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    assert named in str(error.value)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"IDP_SERVER_ISUER": "x"}, "IDP_SERVER_ISUER"),
        ({"IDP_SERVER_WORKERS": "two"}, "IDP_SERVER_WORKERS"),
        ({"IDP_SERVER_DEBUG": "maybe"}, "IDP_SERVER_DEBUG"),
        ({"IDP_TOKENS_CODE_LIFETIME": "abc"}, "IDP_TOKENS_CODE_LIFETIME"),
    ],
)
def test_environment_errors_name_the_variable(env, named):
    with pytest.raises(ConfigError) as error:
        load_settings(environ=env)
    assert named in str(error.value)


def test_unrelated_idp_variables_are_ignored():
    assert load_settings(environ={"IDP_SOMETHING_ELSE": "1", "IDP_CONFIG": ""}).server


def test_missing_and_invalid_files_are_named(tmp_path):
    with pytest.raises(ConfigError, match="nope.toml"):
        load_settings(tmp_path / "nope.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\n")
    with pytest.raises(ConfigError, match="broken.toml"):
        load_settings(broken, environ={})


def test_production_accepts_a_safe_configuration():
    settings = load_settings(environ={}, overrides=_production())
    assert settings.is_production and settings.issuer_is_https


@pytest.mark.parametrize(
    "issuer", ["http://127.0.0.1:5000", "http://localhost:8080", "http://[::1]"]
)
def test_production_allows_http_on_loopback(issuer):
    assert load_settings(environ={}, overrides=_production(issuer=issuer)).is_production


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        (_production(issuer="http://sso.example.id"), "[server] issuer"),
        (_production(secret_key=DEV_SECRET_KEY), "[server] secret_key"),
        (_production(secret_key=EXAMPLE_SECRET_KEY), "[server] secret_key"),
        (_production(secret_key="short"), "[server] secret_key"),
        (_production(debug=True), "[server] debug"),
        (_production() | {"members": {"nik_hmac_key": EXAMPLE_NIK_HMAC_KEY}}, "nik_hmac_key"),
        ({"server": _production()["server"]}, "[members] nik_hmac_key"),
        (_production() | {"mfa": {"secret_keys": []}}, "[mfa] secret_keys"),
        (_production() | {"mfa": {"secret_keys": ["not-a-key"]}}, "[mfa] secret_keys"),
        (_production() | {"mfa": {"policy": "sometimes"}}, "[mfa] policy"),
        (_production() | {"keys": {"encryption_keys": []}}, "[keys] encryption_keys"),
        (_production() | {"keys": {"encryption_keys": [EXAMPLE_KEK]}}, "[keys] encryption_keys"),
        (_production() | {"keys": {"encryption_keys": [KEK, DEV_KEK]}}, "[keys] encryption_keys"),
        ({"keys": {"encryption_keys": ["too-short"]}}, "[keys] encryption_keys"),
        (_production() | {"delivery": {"mode": "inline"}}, "[delivery] mode"),
        ({"log": {"level": "LOUD"}}, "[log] level"),
        ({"keys": {"encryption_keys": [KEK, KEK]}}, "[keys] encryption_keys"),
        ({"i18n": {"timezone": "Mars/Olympus"}}, "[i18n] timezone"),
        ({"lockout": {"max_failures": 0}}, "[lockout] max_failures"),
        ({"lockout": {"lock_seconds": 600, "max_lock_seconds": 60}}, "[lockout] max_lock_seconds"),
    ],
)
def test_production_refuses_unsafe_values(overrides, named):
    with pytest.raises(ConfigError) as error:
        load_settings(environ={}, overrides=overrides)
    assert named in str(error.value)


def test_example_file_documents_every_setting_and_loads():
    from idp.config import SECTIONS, _field_types

    settings = load_settings(EXAMPLE, environ={})
    assert settings.server.issuer == "http://127.0.0.1:5000"
    text = EXAMPLE.read_text()
    for section in SECTIONS:
        assert f"[{section}]" in text
        for key in _field_types(section):
            assert f"\n{key} = " in text, f"config.example.toml lacks [{section}] {key}"


def test_example_file_is_refused_in_production():
    env = {"IDP_SERVER_ENV": "production", "IDP_SERVER_ISSUER": "https://sso.example.id"}
    with pytest.raises(ConfigError, match=r"\[server\] secret_key"):
        load_settings(EXAMPLE, environ=env)
