"""The claims flows with a key: private_key_jwt, PAR and DPoP against the live identity provider,
for a client held to the FAPI 2.0 profile there."""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.serving import make_server

from clients.benefits.cli import main as benefits_cli
from clients.benefits.pop import generate_key_file, load_key_file, public_jwks
from idp.db import db as idp_db
from idp.models import Client, PushedRequest, Token

from .conftest import DEMO_PASSWORD, LiveBenefits, _LazyApp, make_benefits_app


@pytest.fixture
def keyed_benefits(live_server, tmp_path, benefits_clock):
    """Our app with its own key, registered at the live IdP under the FAPI 2.0 profile."""
    proxy = _LazyApp()
    server = make_server("127.0.0.1", 0, proxy, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    key_file = tmp_path / "benefits-key.json"
    generate_key_file(key_file)
    client_id, secret = live_server.create_client(
        name="Benefits (FAPI 2.0)",
        redirect_uris=[f"{url}/auth/callback"],
        post_logout_redirect_uris=[f"{url}/"],
        scope="openid profile email membership",
        first_party=True,
        profile="fapi2",
        token_endpoint_auth_method="private_key_jwt",
        jwks=public_jwks(load_key_file(key_file)),
        id_token_signed_response_alg="ES256",
    )
    assert secret is None
    member = live_server.create_member(password=DEMO_PASSWORD)
    proxy.app = make_benefits_app(
        tmp_path, benefits_clock, issuer=live_server.url, base_url=url, client_id=client_id,
        client_secret="", oidc={"key_file": str(key_file)},
    )  # fmt: skip
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    live = LiveBenefits(url, proxy.app, live_server, client_id, "", member)
    live.browser.headers["Accept-Language"] = "en"
    yield live
    live.browser.close()
    server.shutdown()
    thread.join(timeout=5)


def _idp_rows(live, model) -> list:
    with live.idp.app.app_context():
        return list(idp_db.session.scalars(idp_db.select(model)))


def test_sign_in_pushes_the_request_and_binds_the_tokens(keyed_benefits):
    start = keyed_benefits.get("/login", allow_redirects=False)
    assert start.status_code == 302
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    # The browser carries only the client_id and the request_uri of the pushed request.
    assert set(query) == {"client_id", "request_uri"}
    assert query["request_uri"][0].startswith("urn:ietf:params:oauth:request_uri:")

    keyed_benefits.idp_sign_in()
    dashboard = keyed_benefits.browser.get(start.headers["Location"], timeout=10)
    assert dashboard.status_code == 200, dashboard.text
    assert dashboard.url.startswith(keyed_benefits.url)
    assert keyed_benefits.member_sessions(), "the member is signed in at the benefits app"

    (pushed,) = _idp_rows(keyed_benefits, PushedRequest)
    assert pushed.consumed_at is not None
    (token,) = _idp_rows(keyed_benefits, Token)
    assert token.jkt is not None  # DPoP-bound, and userinfo accepted it with a proof


def test_step_up_for_a_claim_is_pushed_too(keyed_benefits):
    start = keyed_benefits.get("/login", params={"acr": "mfa"}, allow_redirects=False)
    assert set(parse_qs(urlsplit(start.headers["Location"]).query)) == {"client_id", "request_uri"}
    (pushed,) = _idp_rows(keyed_benefits, PushedRequest)
    assert pushed.parameters["acr_values"] == "mfa"
    assert pushed.parameters["code_challenge_method"] == "S256"
    # The proof sent with the push binds the code to the app's DPoP key (RFC 9449 §10.1).
    dpop = keyed_benefits.app.extensions["benefits.dpop"]
    assert pushed.parameters["dpop_jkt"] == dpop.key.thumbprint()


def test_refused_push_is_a_clear_page(keyed_benefits, live_server, tmp_path):
    # The IdP now holds another key for us: our assertions no longer verify.
    other = tmp_path / "other-key.json"
    generate_key_file(other)
    with live_server.app.app_context():
        client = idp_db.session.scalar(
            idp_db.select(Client).where(Client.client_id == keyed_benefits.client_id)
        )
        client.jwks = public_jwks(load_key_file(other))
        idp_db.session.commit()
    page = keyed_benefits.get("/login", allow_redirects=False)
    assert page.status_code == 400
    assert "could not identify itself" in page.text
    assert not _idp_rows(keyed_benefits, PushedRequest)


def test_init_creates_the_key_and_jwks_prints_its_public_half(tmp_path):
    from click.testing import CliRunner

    config = tmp_path / "benefits.toml"
    key_file = tmp_path / "keys" / "benefits.json"
    database = tmp_path / "benefits.sqlite3"
    config.write_text(
        f'[database]\nurl = "sqlite:///{database}"\n[oidc]\nkey_file = "{key_file}"\n'
    )
    runner = CliRunner()
    done = runner.invoke(benefits_cli, ["--config", str(config), "init"], obj={}, env={})
    assert done.exit_code == 0, done.output
    assert key_file.stat().st_mode & 0o777 == 0o600
    printed = runner.invoke(benefits_cli, ["--config", str(config), "jwks"], obj={}, env={})
    assert printed.exit_code == 0, printed.output
    (public,) = json.loads(printed.output)["keys"]
    assert public["kty"] == "EC" and "d" not in public
    assert public["kid"] == load_key_file(key_file).kid
    # Run again: the key is kept, not replaced.
    runner.invoke(benefits_cli, ["--config", str(config), "init"], obj={}, env={})
    assert json.loads(
        runner.invoke(benefits_cli, ["--config", str(config), "jwks"], obj={}, env={}).output
    ) == {"keys": [public]}
