"""Two `idp serve` nodes with separate working directories share nothing but PostgreSQL.

Sign in on A, redeem the code on B, refresh on A, userinfo on B, lock out on A and be refused
on B, rotate keys on A and see B publish and sign with the new state; each node's metrics and
readiness. Runs in the PostgreSQL pass of scripts/test (TEST_DATABASE_URL=postgresql...).
"""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest
import requests

from .conftest import TEST_DATABASE_URL
from .helpers import PASSWORD, REDIRECT_URI, csrf_from, pkce_pair, query_of
from .nodes import Node, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not TEST_DATABASE_URL.startswith("postgresql"),
        reason="two nodes need a shared PostgreSQL database: runs when TEST_DATABASE_URL is a "
        "postgresql URL (the PostgreSQL pass of scripts/test)",
    ),
]


def _sign_in(browser: requests.Session, node: Node, email: str, password: str = PASSWORD):
    page = browser.get(f"{node.url}/login", timeout=10)
    return browser.post(
        f"{node.url}/login",
        data={"identifier": email, "password": password, "csrf_token": csrf_from(page.text)},
        allow_redirects=False,
        timeout=10,
    )


def _code(browser: requests.Session, node: Node, client_id: str) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI,
              "scope": "openid profile offline_access", "code_challenge": challenge,
              "code_challenge_method": "S256"}  # fmt: skip
    response = browser.get(f"{node.url}/authorize", params=params, allow_redirects=False,
                           timeout=10)  # fmt: skip
    return query_of(response.headers["Location"])["code"], verifier


def _token(node: Node, client: tuple[str, str], **form) -> dict:
    response = requests.post(f"{node.url}/token", data=form, auth=client, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _kid(token: str) -> str:
    return pyjwt.get_unverified_header(token)["kid"]


@pytest.fixture
def nodes(tmp_path, make_config, cli):
    make_config()  # a fresh, migrated database for this test
    port_a, port_b = free_port(), free_port()
    issuer = f"http://127.0.0.1:{port_a}"
    sections = {"lockout": {"max_failures": 3}}
    a = Node(tmp_path, "node-a", issuer, port_a, TEST_DATABASE_URL, **sections)
    b = Node(tmp_path, "node-b", issuer, port_b, TEST_DATABASE_URL, **sections)
    assert cli("init", config=a.config).exit_code == 0
    yield a, b
    a.stop()
    b.stop()


def test_two_nodes_share_sessions_tokens_lockouts_and_keys(nodes, cli):
    a, b = nodes
    for number, nik, email in (("12345678901", "3174051507900001", "siti@example.id"),
                               ("12345678902", "3174051507900002", "budi@example.id")):  # fmt: skip
        made = cli("members", "create", "--membership-number", number, "--nik", nik, "--name",
                   "Anggota", "--birthdate", "1990-07-15", "--email", email, "--password",
                   PASSWORD, config=a.config)  # fmt: skip
        assert made.exit_code == 0, made.output
    created = cli("clients", "create", "--name", "RP", "--redirect-uri", REDIRECT_URI,
                  "--scope", "openid profile offline_access", "--first-party", "--json",
                  config=a.config)  # fmt: skip
    rp = (json.loads(created.output)["client_id"], json.loads(created.output)["client_secret"])
    a.start()
    b.start()

    # Sign in on A; the code is redeemed on B, refreshed on A, userinfo read on B.
    browser = requests.Session()
    assert _sign_in(browser, a, "siti@example.id").status_code == 302
    code, verifier = _code(browser, a, rp[0])
    tokens = _token(b, rp, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI,
                    code_verifier=verifier)  # fmt: skip
    refreshed = _token(a, rp, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    bearer = {"Authorization": f"Bearer {refreshed['access_token']}"}
    userinfo = requests.get(f"{b.url}/userinfo", headers=bearer, timeout=10)
    assert userinfo.status_code == 200 and userinfo.json()["sub"]
    # The spent refresh token is spent on every node.
    replay = requests.post(f"{b.url}/token", auth=rp, timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})  # fmt: skip
    assert replay.status_code == 400

    # Lock out on A; B refuses the right password.
    other = requests.Session()
    statuses = [_sign_in(other, a, "budi@example.id", "a wrong password").status_code
                for _ in range(3)]  # fmt: skip
    assert statuses == [400, 400, 403]  # the third failure locks
    assert _sign_in(requests.Session(), b, "budi@example.id").status_code == 403

    # Rotate on A; B publishes the new next key and signs with the new active key.
    first_kid = _kid(tokens["id_token"])
    rotated = json.loads(cli("keys", "rotate", "--force", "--json", config=a.config).output)
    new = next(r for r in rotated if r["alg"] == "RS256")
    assert new["active"] != first_kid
    published = {k["kid"] for k in requests.get(f"{b.url}/jwks", timeout=10).json()["keys"]}
    assert {new["active"], new["next"], first_kid} <= published
    code, verifier = _code(browser, b, rp[0])
    after = _token(b, rp, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI,
                   code_verifier=verifier)  # fmt: skip
    assert _kid(after["id_token"]) == new["active"]

    # Each node is ready, and its metrics add up its gunicorn workers (multiprocess mode).
    for node in (a, b):
        assert requests.get(f"{node.url}/readyz", timeout=10).status_code == 200
        metrics = requests.get(f"{node.url}/metrics", timeout=10)
        assert metrics.status_code == 200 and "idp_tokens_issued_total" in metrics.text
    assert 'idp_signins_total{factor="password",result="failure"} 3.0' in requests.get(
        f"{a.url}/metrics", timeout=10).text  # fmt: skip

    # No private key on either node's disk.
    for node in (a, b):
        assert not (node.dir / "keys").exists()
        assert not [p for p in node.dir.rglob("*.json")]
