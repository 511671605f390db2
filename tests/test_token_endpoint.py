"""RFC 6749 §4.1.3/§5.2 and security invariant 2: codes are single use, short-lived and bound.

A malformed token request (RFC 6749 §2.3.1, §3.2) is invalid_request and leaves the code unused.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import pytest

from .helpers import REDIRECT_URI, pkce_pair
from .malformed import BAD_BYTES, URLENCODED, assert_oauth_error, stored_rows


@pytest.fixture
def rp(actions):
    return actions.create_client(first_party=True)


@pytest.fixture
def signed_in(actions, rp):
    member = actions.create_member()
    actions.sign_in(member["email"])
    return rp


def _error(response) -> str:
    assert response.headers["Content-Type"].startswith("application/json")
    return response.get_json()["error"]


def test_code_replay_fails_and_revokes_tokens(actions, client, signed_in):
    client_id, secret = signed_in
    code, verifier, _ = actions.get_code(client_id)
    first = actions.redeem(client_id, secret, code, verifier).get_json()
    bearer = {"Authorization": f"Bearer {first['access_token']}"}
    assert client.get("/userinfo", headers=bearer).status_code == 200

    replay = actions.redeem(client_id, secret, code, verifier)
    assert replay.status_code == 400 and _error(replay) == "invalid_grant"
    revoked = client.get("/userinfo", headers=bearer)
    assert revoked.status_code == 401
    assert 'error="invalid_token"' in revoked.headers["WWW-Authenticate"]


def test_code_expires_after_60_seconds(actions, clock, signed_in):
    client_id, secret = signed_in
    code, verifier, _ = actions.get_code(client_id)
    clock.advance(seconds=61)
    response = actions.redeem(client_id, secret, code, verifier)
    assert _error(response) == "invalid_grant"


def test_code_is_bound_to_its_client(actions, signed_in):
    client_id, secret = signed_in
    other_id, other_secret = actions.create_client(name="Other", first_party=True)
    code, verifier, _ = actions.get_code(client_id)
    assert _error(actions.redeem(other_id, other_secret, code, verifier)) == "invalid_grant"
    # The rightful client can still redeem it: a foreign attempt does not burn the code.
    assert actions.redeem(client_id, secret, code, verifier).status_code == 200


def test_code_is_bound_to_redirect_uri(actions, signed_in):
    client_id, secret = signed_in
    code, verifier, _ = actions.get_code(client_id)
    response = actions.redeem(
        client_id, secret, code, verifier, redirect_uri="https://rp.example.id/other"
    )
    assert _error(response) == "invalid_grant"


def test_code_is_bound_to_pkce_verifier(actions, signed_in):
    client_id, secret = signed_in
    code, _, _ = actions.get_code(client_id)
    wrong, _ = pkce_pair()
    assert _error(actions.redeem(client_id, secret, code, wrong)) == "invalid_grant"


def test_missing_verifier_is_refused(actions, signed_in):
    client_id, secret = signed_in
    code, _, _ = actions.get_code(client_id)
    response = actions.redeem(client_id, secret, code, "", code_verifier=None)
    assert _error(response) == "invalid_request"


@pytest.mark.parametrize(
    "auth",
    [None, ("unknown-client", "secret"), ("__client__", "wrong-secret")],
    ids=["no-auth", "unknown-client", "wrong-secret"],
)
def test_client_authentication_failures(actions, client, signed_in, auth):
    client_id, _ = signed_in
    code, verifier, _ = actions.get_code(client_id)
    if auth and auth[0] == "__client__":
        auth = (client_id, auth[1])
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    response = client.post("/token", data=form, auth=auth)
    assert response.status_code in (400, 401)
    assert _error(response) == "invalid_client"
    if response.status_code == 401:
        assert "WWW-Authenticate" in response.headers


def test_confidential_client_cannot_skip_its_secret(actions, client, signed_in):
    client_id, _ = signed_in
    code, verifier, _ = actions.get_code(client_id)
    response = client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": client_id,
        },
    )
    assert _error(response) == "invalid_client"


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"grant_type": "password", "username": "x", "password": "y"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, "invalid_request"),
        ({"grant_type": "authorization_code", "code": "garbage"}, "invalid_grant"),
        ({"code": "x"}, "invalid_request"),
    ],
)
def test_bad_token_requests(actions, client, signed_in, form, expected):
    client_id, secret = signed_in
    response = client.post("/token", data=form, auth=(client_id, secret))
    assert response.status_code == 400
    assert _error(response) == expected


def test_token_endpoint_refuses_json_body(client, signed_in):
    client_id, secret = signed_in
    response = client.post("/token", json={"grant_type": "authorization_code"}, auth=signed_in)
    assert response.status_code == 400
    assert _error(response) == "invalid_request"


def test_token_endpoint_refuses_get(client):
    response = client.get("/token")
    assert response.status_code == 405
    assert _error(response) == "invalid_request"
    assert "POST" in response.headers["Allow"]


# -- non-UTF-8 and NUL bytes in the token request ---------------------------------------------


@pytest.mark.parametrize("bad", BAD_BYTES)
def test_bad_bytes_in_token_request_are_400(app, actions, signed_in, bad):
    client_id, secret = signed_in
    code, verifier, _ = actions.get_code(client_id)
    before = stored_rows(app)
    form = urlencode(
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    ).encode()
    response = actions.client.post(
        "/token",
        data=form + b"&redirect_uri=" + bad,
        content_type=URLENCODED,
        auth=(client_id, secret),
    )
    assert_oauth_error(response, 400)
    assert stored_rows(app) == before
    assert actions.redeem(client_id, secret, code, verifier).status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [b"\xff\xfe:secret", b"client%00:secret", b"client:%ff"],
    ids=["not-utf8", "nul-client-id", "percent-encoded-not-utf8"],
)
def test_unreadable_basic_credentials_are_invalid_request(app, client, rp, credentials):
    # RFC 6749 §2.3.1: client_id and secret are form-encoded UTF-8 inside the Basic header.
    before = stored_rows(app)
    headers = {"Authorization": "Basic " + base64.b64encode(credentials).decode()}
    response = client.post("/token", data={"grant_type": "authorization_code"}, headers=headers)
    assert_oauth_error(response, 400)
    assert stored_rows(app) == before


def test_latin1_charset_label_does_not_bypass_utf8_check(client):
    response = client.post(
        "/token",
        data=b"grant_type=authorization_code&code=\xe9",
        content_type=URLENCODED + "; charset=ISO-8859-1",
    )
    assert_oauth_error(response, 400)


# -- repeated parameters, wrong content types -------------------------------------------------


@pytest.mark.parametrize("name", ["grant_type", "code", "redirect_uri", "code_verifier"])
def test_repeated_token_parameter_is_invalid_request(app, actions, signed_in, name):
    # RFC 6749 §3.2: request parameters MUST NOT be included more than once.
    client_id, secret = signed_in
    code, verifier, _ = actions.get_code(client_id)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    form[name] = [form[name], form[name]]
    before = stored_rows(app)
    response = actions.client.post("/token", data=form, auth=(client_id, secret))
    assert_oauth_error(response, 400)
    assert name in response.get_json()["error_description"]
    assert stored_rows(app) == before
    assert actions.redeem(client_id, secret, code, verifier).status_code == 200


@pytest.mark.parametrize(
    "content_type, encode",
    [
        ("application/json", json.dumps),
        ("text/plain", urlencode),
        ("multipart/form-data", None),
        ("", urlencode),
    ],
    ids=["json", "text-plain", "multipart", "none"],
)
def test_token_request_in_another_content_type_is_invalid_request(
    app, actions, signed_in, content_type, encode
):
    client_id, secret = signed_in
    code, verifier, _ = actions.get_code(client_id)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    before = stored_rows(app)
    body = encode(form) if encode else form
    response = actions.client.post(
        "/token", data=body, content_type=content_type or None, auth=(client_id, secret)
    )
    assert_oauth_error(response, 400)
    assert stored_rows(app) == before
    assert actions.redeem(client_id, secret, code, verifier).status_code == 200
