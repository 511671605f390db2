"""Signing-key lifecycle: rotation without breaking relying parties that cache the JWKS."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import jwt as pyjwt
import pytest
import requests

from idp.db import db
from idp.keyring import initialise_keys, prune_keys, retire_key, rotate_keys
from idp.keys import KeyStoreError, generate_key, load_key_file
from idp.models import SigningKey

from .helpers import REDIRECT_URI, csrf_from, pkce_pair, query_of

MAX_AGE = 120  # [keys] jwks_max_age here: short enough that sessions and tokens outlive it


@pytest.fixture
def app(make_app):
    return make_app(keys={"jwks_max_age": MAX_AGE})


@pytest.fixture
def rp(app, actions):
    with app.app_context():
        initialise_keys()  # an active and a published next key per algorithm
    member = actions.create_member()
    client_id, secret = actions.create_client(first_party=True)
    actions.sign_in(member["email"])
    return client_id, secret


def _kid(token: str) -> str:
    return pyjwt.get_unverified_header(token)["kid"]


def _verify(token: str, jwks: dict, audience: str):
    key = next(k for k in jwks["keys"] if k["kid"] == _kid(token))
    # The test clock runs ahead of the wall clock PyJWT reads, hence the leeway.
    return pyjwt.decode(
        token, pyjwt.PyJWK(key).key, algorithms=[key["alg"]], audience=audience, leeway=3600
    )


def _states(app) -> dict[str, tuple[str, str]]:
    with app.app_context():
        return {k.kid: (k.alg, k.state) for k in db.session.scalars(db.select(SigningKey))}


def _kid_in(app, alg: str, state: str) -> str:
    return next(kid for kid, value in _states(app).items() if value == (alg, state))


def test_cached_jwks_keeps_validating_after_rotation(app, client, actions, clock, rp):
    client_id, secret = rp
    cached = client.get("/jwks").get_json()  # what a relying party caches
    upcoming = _kid_in(app, "RS256", "next")
    assert upcoming in {k["kid"] for k in cached["keys"]}

    clock.advance(seconds=MAX_AGE + 1)
    with app.app_context():
        result = {r["alg"]: r for r in rotate_keys()}
    assert result["RS256"]["active"] == upcoming

    token = actions.tokens(client_id, secret)["id_token"]
    assert _kid(token) == upcoming
    assert _verify(token, cached, client_id)["aud"] == client_id


def test_rotate_refuses_a_next_key_younger_than_max_age(app, clock, rp):
    active = _kid_in(app, "RS256", "active")
    clock.advance(seconds=MAX_AGE - 10)
    with app.app_context(), pytest.raises(Exception, match="--force"):
        rotate_keys("RS256")
    assert _kid_in(app, "RS256", "active") == active
    with app.app_context():
        rotate_keys("RS256", force=True)
    assert _states(app)[active] == ("RS256", "retired")


def test_tokens_signed_by_a_retired_key_validate_until_pruned(app, client, actions, clock, rp):
    client_id, secret = rp
    before = actions.tokens(client_id, secret)
    old_kid = _kid(before["id_token"])
    clock.advance(seconds=MAX_AGE + 1)
    with app.app_context():
        rotate_keys()
    bearer = {"Authorization": f"Bearer {before['access_token']}"}
    clock.advance(seconds=60)
    assert client.get("/userinfo", headers=bearer).status_code == 200
    jwks = client.get("/jwks").get_json()
    assert _verify(before["id_token"], jwks, client_id)

    with app.app_context():
        assert prune_keys() == []  # not expired yet: nothing removed
    clock.advance(seconds=600 + MAX_AGE)
    with app.app_context():
        removed = prune_keys()
    assert old_kid in removed
    assert old_kid not in {k["kid"] for k in client.get("/jwks").get_json()["keys"]}
    with app.app_context():
        assert db.session.get(SigningKey, old_kid).private_jwk is None  # the key is destroyed
    states = _states(app)
    assert {state for kid, (_, state) in states.items() if kid not in removed} == {
        "active",
        "next",
    }


def test_emergency_retire_stops_signing_and_publishing_at_once(app, client, actions, rp):
    client_id, secret = rp
    before = actions.tokens(client_id, secret)
    compromised = _kid(before["id_token"])
    with app.app_context():
        outcome = retire_key(compromised)
    after = actions.tokens(client_id, secret)
    assert _kid(after["id_token"]) == outcome["active"] != compromised
    assert compromised not in {k["kid"] for k in client.get("/jwks").get_json()["keys"]}
    bearer = {"Authorization": f"Bearer {before['access_token']}"}
    assert client.get("/userinfo", headers=bearer).status_code == 401
    assert _kid_in(app, "RS256", "next")  # a new next key is published


def test_retire_keep_publishing_still_validates_old_tokens(app, client, actions, rp):
    client_id, secret = rp
    before = actions.tokens(client_id, secret)
    with app.app_context():
        retire_key(_kid(before["id_token"]), keep_publishing=True)
    bearer = {"Authorization": f"Bearer {before['access_token']}"}
    assert client.get("/userinfo", headers=bearer).status_code == 200
    assert _kid(actions.tokens(client_id, secret)["id_token"]) != _kid(before["id_token"])


def test_retire_refuses_unknown_kid(app, rp):
    with app.app_context(), pytest.raises(Exception, match="no next or active key"):
        retire_key("nope")


def test_jwks_cache_headers_follow_config(client):
    response = client.get("/jwks")
    assert response.headers["Cache-Control"] == f"public, max-age={MAX_AGE}"
    assert response.headers["ETag"]


def test_discovery_lists_algorithms_with_an_active_key(app, client):
    with app.app_context():
        retire_key(_kid_in(app, "ES256", "active"))
    algs = client.get("/.well-known/openid-configuration").get_json()
    # The ES256 next key took over at once, so ES256 is still offered.
    assert set(algs["id_token_signing_alg_values_supported"]) == {"RS256", "ES256"}


def test_cli_rotate_list_retire_prune(cli, app):
    with app.app_context():
        initialise_keys()
    refused = cli("keys", "rotate", "--alg", "ES256")
    assert refused.exit_code != 0 and "--force" in refused.output
    rotated = json.loads(cli("keys", "rotate", "--alg", "ES256", "--force", "--json").output)
    assert rotated[0]["alg"] == "ES256" and rotated[0]["retired"]
    listed = json.loads(cli("keys", "list", "--json").output)
    assert {(r["alg"], r["state"]) for r in listed} >= {("ES256", "retired"), ("ES256", "next")}
    retired = json.loads(cli("keys", "retire", rotated[0]["active"], "--json").output)
    assert retired["published"] is False
    pruned = json.loads(cli("keys", "prune", "--json").output)
    assert rotated[0]["active"] in pruned  # unpublished keys go at once


def test_encrypted_key_files(tmp_path):
    passphrase = "correct horse battery staple"
    kid = generate_key(tmp_path, "ES256", passphrase=passphrase)
    text = (tmp_path / f"{kid}.json").read_text()
    assert not text.startswith("{") and '"d"' not in text
    assert load_key_file(tmp_path / f"{kid}.json", passphrase)[1].kid == kid
    with pytest.raises(KeyStoreError, match="passphrase"):
        load_key_file(tmp_path / f"{kid}.json")
    with pytest.raises(KeyStoreError, match="wrong passphrase"):
        load_key_file(tmp_path / f"{kid}.json", "another long passphrase")


# -- Two server processes over one database ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_node(config, port: int) -> subprocess.Popen:
    idp = os.path.join(os.path.dirname(sys.executable), "idp")
    process = subprocess.Popen(
        [idp, "--config", str(config), "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90  # a loaded machine boots a server slowly
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/jwks", timeout=5)
            return process
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"node on port {port} did not start")


def _id_token_kid(browser: requests.Session, node: str, client_id: str, secret: str) -> str:
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    response = browser.get(f"{node}/authorize", params=params, allow_redirects=False, timeout=10)
    code = query_of(response.headers["Location"])["code"]
    token = requests.post(
        f"{node}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(client_id, secret),
        timeout=10,
    ).json()
    return _kid(token["id_token"])


@pytest.mark.slow
def test_two_nodes_sign_with_the_new_key_after_rotate_on_one(cli, make_config, app):
    ports = [_free_port(), _free_port()]
    config = make_config(issuer=f"http://127.0.0.1:{ports[0]}", server={"workers": 1})
    assert cli("init", config=config).exit_code == 0
    made = cli(
        "members", "create", "--membership-number", "12345678901", "--nik", "3174051507900001",
        "--name", "Siti Rahayu", "--birthdate", "1990-07-15", "--email", "siti@example.id",
        "--password", "correct horse battery staple", config=config,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    created = json.loads(
        cli(
            "clients",
            "create",
            "--name",
            "RP",
            "--redirect-uri",
            REDIRECT_URI,
            "--first-party",
            "--json",
            config=config,
        ).output  # fmt: skip
    )
    client_id, secret = created["client_id"], created["client_secret"]
    # One node on each HTTP server `idp serve` offers ([server] engine).
    gunicorn = config.with_name("config-gunicorn.toml")
    gunicorn.write_text(config.read_text().replace("[server]\n", '[server]\nengine = "gunicorn"\n'))
    nodes = [_start_node(config, ports[0]), _start_node(gunicorn, ports[1])]
    try:
        a, b = (f"http://127.0.0.1:{port}" for port in ports)
        browser = requests.Session()
        page = browser.get(f"{a}/login", timeout=10)
        browser.post(
            f"{a}/login",
            data={
                "identifier": "siti@example.id",
                "password": "correct horse battery staple",
                "csrf_token": csrf_from(page.text),
            },
            timeout=10,
        )
        first = _id_token_kid(browser, a, client_id, secret)
        assert _id_token_kid(browser, b, client_id, secret) == first

        rotated = json.loads(cli("keys", "rotate", "--force", "--json", config=config).output)
        new_rs256 = next(r["active"] for r in rotated if r["alg"] == "RS256")
        assert new_rs256 != first
        assert _id_token_kid(browser, a, client_id, secret) == new_rs256
        assert _id_token_kid(browser, b, client_id, secret) == new_rs256
    finally:
        for node in nodes:
            node.terminate()
            node.wait(timeout=10)


@pytest.mark.parametrize("alg", ["PS256"])
def test_more_algorithms_when_configured(make_app, alg):
    from .helpers import Actions

    app = make_app(keys={"algorithms": ["RS256", alg]})
    with app.app_context():
        initialise_keys()
    client = app.test_client()
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert alg in metadata["id_token_signing_alg_values_supported"]
    actions = Actions(app, client)
    member = actions.create_member()
    client_id, secret = actions.create_client(first_party=True, id_token_signed_response_alg=alg)
    actions.sign_in(member["email"])
    token = actions.tokens(client_id, secret)["id_token"]
    assert pyjwt.get_unverified_header(token)["alg"] == alg
    assert _verify(token, client.get("/jwks").get_json(), client_id)["sub"] == member["sub"]
