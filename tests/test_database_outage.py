"""A database outage is a 503 with Retry-After, never a 500, and the service recovers alone."""

from __future__ import annotations

import pytest

from idp.db import upgrade

from .conftest import _adopt_keys
from .helpers import csrf_from


@pytest.fixture
def outage(make_app, tmp_path, template_keys):
    """An app whose SQLite database sits in a folder that is not there yet (the outage);
    restore() brings the database (migrated, with keys) back. SQLite on both passes."""
    folder = tmp_path / "db-volume"
    url = f"sqlite:///{folder / 'idp.sqlite3'}"
    app = make_app(database={"url": url})

    def restore() -> None:
        folder.mkdir()
        upgrade(url)
        _adopt_keys(url, template_keys)

    return app, restore


@pytest.mark.parametrize(
    ("method", "path", "form", "authorization"),
    [
        ("POST", "/token", {"grant_type": "client_credentials"}, "Basic eDp5"),
        ("POST", "/introspect", {"token": "x"}, "Basic eDp5"),
        ("GET", "/userinfo", None, "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"),
        ("GET", "/jwks", None, ""),
    ],
)
def test_protocol_endpoints_answer_503_json(outage, method, path, form, authorization):
    app, _restore = outage
    headers = {"Authorization": authorization} if authorization else {}
    response = app.test_client().open(path, method=method, data=form, headers=headers)
    assert response.status_code == 503
    assert response.get_json()["error"] == "temporarily_unavailable"
    assert int(response.headers["Retry-After"]) > 0


def test_people_get_a_page_in_their_language_and_service_comes_back(outage):
    app, restore = outage
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = browser.get("/login")
    form = {
        "identifier": "siti@example.id",
        "password": "x" * 12,
        "csrf_token": csrf_from(page.text),
    }
    down = browser.post("/login", data=form)
    assert down.status_code == 503 and "briefly unavailable" in down.text
    assert down.headers["Retry-After"]
    indonesian = app.test_client().post("/login", data=form, headers={"Accept-Language": "id"})
    assert indonesian.status_code in (400, 503)  # CSRF first, or the outage: never a 500
    restore()
    assert browser.post("/login", data=form).status_code == 400  # a wrong password, served
    assert app.test_client().get("/jwks").status_code == 200


def test_serve_says_the_database_cannot_be_reached(make_config):
    from click.testing import CliRunner

    from idp.cli import main

    config = make_config(database={"url": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    result = CliRunner().invoke(main, ["--config", str(config), "serve"], obj={}, env={})
    assert result.exit_code != 0
    assert "cannot be reached" in result.output and "idp init" not in result.output
