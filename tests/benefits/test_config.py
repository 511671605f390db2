"""Settings: development defaults, TOML, BENEFITS_<SECTION>_<KEY>, errors naming the key, and
an example file that documents every key."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from clients.benefits.config import SECTIONS, ConfigError, load_settings

EXAMPLE = Path(__file__).parents[2] / "clients" / "benefits" / "config.example.toml"


def test_development_defaults_need_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.oidc.issuer == "http://127.0.0.1:5000"
    assert settings.oidc.client_id == "benefits-demo"
    assert settings.server.base_url == "http://127.0.0.1:5001"
    assert settings.redirect_uri == "http://127.0.0.1:5001/auth/callback"
    assert settings.post_logout_redirect_uri == "http://127.0.0.1:5001/"
    assert settings.database_url == f"sqlite:///{tmp_path / 'instance' / 'benefits.sqlite3'}"


def test_file_then_environment(tmp_path):
    path = tmp_path / "benefits.toml"
    path.write_text(
        '[oidc]\nclient_id = "from-file"\nclient_secret = "s1"\n[server]\nworkers = 3\n'
    )
    environ = {
        "BENEFITS_CONFIG": str(path),
        "BENEFITS_OIDC_CLIENT_SECRET": "from-env",
        "BENEFITS_SERVER_THREADS": "8",
        "BENEFITS_DATABASE_URL": "sqlite:////tmp/x.sqlite3",
    }
    settings = load_settings(environ=environ)
    assert settings.oidc.client_id == "from-file"
    assert settings.oidc.client_secret == "from-env"
    assert (settings.server.workers, settings.server.threads) == (3, 8)
    assert settings.database_url == "sqlite:////tmp/x.sqlite3"


@pytest.mark.parametrize(
    ("toml", "environ", "named"),
    [
        ("[oidc]\nclient_ids = 'x'\n", {}, "[oidc] client_ids"),
        ("[odic]\nissuer = 'x'\n", {}, "[odic]"),
        ("[server]\nworkers = '2'\n", {}, "[server] workers"),
        ("", {"BENEFITS_OIDC_CLIENTID": "x"}, "BENEFITS_OIDC_CLIENTID"),
        ("", {"BENEFITS_SERVER_WORKERS": "many"}, "BENEFITS_SERVER_WORKERS"),
        ("", {"BENEFITS_OIDC_ISSUER": "http://127.0.0.1:5000/"}, "[oidc] issuer"),
        ("", {"BENEFITS_OIDC_ISSUER": "http://idp.example.id"}, "[oidc] issuer"),
        ("", {"BENEFITS_SERVER_BASE_URL": "manfaat.example.id"}, "[server] base_url"),
        ("", {"BENEFITS_SERVER_BASE_URL": "https://manfaat.example.id"}, "[server] secret_key"),
        ("", {"BENEFITS_SERVER_SESSION_LIFETIME": "0"}, "[server] session_lifetime"),
        ("[server\n", {}, "invalid TOML"),
    ],
)
def test_bad_settings_name_the_key(tmp_path, toml, environ, named):
    path = tmp_path / "benefits.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
        load_settings(path, environ=environ)


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_https_deployment_with_its_own_secret_is_accepted():
    settings = load_settings(
        environ={
            "BENEFITS_OIDC_ISSUER": "https://sso.example.id",
            "BENEFITS_SERVER_BASE_URL": "https://manfaat.example.id",
            "BENEFITS_SERVER_SECRET_KEY": "k" * 40,
        }
    )
    assert settings.is_https


def test_the_example_file_documents_every_key_and_loads():
    example = tomllib.loads(EXAMPLE.read_text())
    assert set(example) == set(SECTIONS)
    for section, cls in SECTIONS.items():
        assert set(example[section]) == {f.name for f in fields(cls)}, section
    assert load_settings(EXAMPLE, environ={}) == load_settings(environ={})
