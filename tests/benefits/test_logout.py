"""Signing out: RP-Initiated Logout 1.0 at the identity provider, and Back-Channel Logout 1.0
§2.5–2.8 (the identity provider ends our session; tokens forged here with its real keys)."""

from __future__ import annotations

import base64
import json
import secrets
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from idp.extensions import keystore

from .conftest import TIMEOUT

EVENT = "http://schemas.openid.net/event/backchannel-logout"


def _metadata(live) -> dict:
    client = live.app.extensions["authlib.integrations.flask_client"].idp
    with live.app.app_context():
        return client.load_server_metadata()


def test_sign_out_redirects_to_the_end_session_endpoint(live_benefits):
    live_benefits.sign_in()
    (row,) = live_benefits.member_sessions()
    id_token = row.data["member"]["id_token"]
    _metadata(live_benefits)["end_session_endpoint"] = f"{live_benefits.idp.url}/end-session"

    answer = live_benefits.post_form("/logout", {}, page="/", allow_redirects=False)
    assert answer.status_code == 302
    target = urlsplit(answer.headers["Location"])
    assert (
        f"{target.scheme}://{target.netloc}{target.path}" == f"{live_benefits.idp.url}/end-session"
    )
    query = dict(parse_qsl(target.query))
    assert query["id_token_hint"] == id_token
    assert query["post_logout_redirect_uri"] == f"{live_benefits.url}/"
    assert query["client_id"] == live_benefits.client_id
    assert query["state"]
    assert live_benefits.member_sessions() == []

    # Back from the identity provider with our state: the landing page says so.
    landing = live_benefits.get(f"/?state={query['state']}")
    assert "You are signed out" in landing.text
    assert "Sign in with your member account" in landing.text
    assert "You are signed out" not in live_benefits.get(f"/?state={query['state']}").text


def test_without_an_end_session_endpoint_sign_out_is_local(live_benefits):
    live_benefits.sign_in()
    _metadata(live_benefits).pop("end_session_endpoint", None)
    answer = live_benefits.post_form("/logout", {}, page="/", allow_redirects=False)
    assert (answer.status_code, answer.headers["Location"]) == (302, "/")
    assert live_benefits.member_sessions() == []
    assert "Sign in with your member account" in live_benefits.get("/").text


def test_sign_out_needs_the_csrf_token(live_benefits):
    live_benefits.sign_in()
    answer = live_benefits.browser.post(f"{live_benefits.url}/logout", timeout=TIMEOUT)
    assert answer.status_code == 400
    assert len(live_benefits.member_sessions()) == 1


# -- Back-channel logout ---------------------------------------------------------------------


def _logout_claims(live, row) -> dict:
    now = int(time.time())
    return {
        "iss": live.idp.url,
        "aud": live.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": secrets.token_urlsafe(16),
        "sub": row.subject,
        "sid": row.idp_sid,
        "events": {EVENT: {}},
    }


def _sign(live, claims: dict, typ: str | None = "logout+jwt", alg: str = "RS256") -> str:
    with live.idp.app.app_context():
        return keystore().sign(claims, alg=alg, typ=typ)


def _post_logout(live, token: str) -> requests.Response:
    # The identity provider calls us directly: a fresh HTTP client, no cookies.
    return requests.post(
        f"{live.url}/auth/backchannel-logout", data={"logout_token": token}, timeout=TIMEOUT
    )


def _signed_in(live):
    live.sign_in()
    (row,) = live.member_sessions()
    return row


def test_back_channel_logout_ends_the_session(live_benefits):
    row = _signed_in(live_benefits)
    token = _sign(live_benefits, _logout_claims(live_benefits, row))
    answer = _post_logout(live_benefits, token)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    assert live_benefits.member_sessions() == []
    assert "Sign in with your member account" in live_benefits.get("/").text

    replay = _post_logout(live_benefits, token)  # §2.6 step 8: a jti works once
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_request"
    assert replay.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("kept", ["sid", "sub"])
def test_back_channel_logout_by_sid_or_by_sub_alone(live_benefits, kept):
    row = _signed_in(live_benefits)
    claims = _logout_claims(live_benefits, row)
    del claims["sub" if kept == "sid" else "sid"]
    assert _post_logout(live_benefits, _sign(live_benefits, claims)).status_code == 200
    assert live_benefits.member_sessions() == []


def test_back_channel_logout_for_another_session_keeps_ours(live_benefits):
    row = _signed_in(live_benefits)
    claims = _logout_claims(live_benefits, row) | {"sid": "another-sid"}
    assert _post_logout(live_benefits, _sign(live_benefits, claims)).status_code == 200
    assert len(live_benefits.member_sessions()) == 1


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _tampered(live, claims: dict) -> str:
    header, _payload, signature = _sign(live, claims).split(".")
    return f"{header}.{_b64(claims | {'sub': 'someone-else'})}.{signature}"


def _without(claims: dict, *names: str) -> dict:
    return {k: v for k, v in claims.items() if k not in names}


# Each invalid logout token, and the rule its refusal names.
BAD_TOKENS = {
    "no events": (lambda live, c: _sign(live, _without(c, "events")), "events"),
    "other event": (lambda live, c: _sign(live, c | {"events": {"urn:x": {}}}), "events"),
    "with nonce": (lambda live, c: _sign(live, c | {"nonce": "n"}), "nonce"),
    "other audience": (lambda live, c: _sign(live, c | {"aud": "another"}), "claim: 'aud'"),
    "other issuer": (lambda live, c: _sign(live, c | {"iss": "http://127.0.0.1:1"}), "'iss'"),
    "expired": (lambda live, c: _sign(live, c | {"exp": c["iat"] - 600}), "expired"),
    "no jti": (lambda live, c: _sign(live, _without(c, "jti")), "claim: 'jti'"),
    "no sub or sid": (lambda live, c: _sign(live, _without(c, "sub", "sid")), "sub or sid"),
    "ID token typ": (lambda live, c: _sign(live, c, typ="JWT"), "typ"),
    "no typ": (lambda live, c: _sign(live, c, typ=None), "typ"),
    "tampered": (_tampered, "bad_signature"),
    "alg none": (lambda live, c: f"{_b64({'alg': 'none'})}.{_b64(c)}.", "'none' is not allowed"),
    "not a JWT": (lambda live, c: "not-a-jwt", "decode_error"),
    "empty": (lambda live, c: "", "decode_error"),
}


@pytest.mark.parametrize("case", BAD_TOKENS)
def test_invalid_logout_tokens_are_refused(live_benefits, case):
    row = _signed_in(live_benefits)
    forge, reason = BAD_TOKENS[case]
    answer = _post_logout(live_benefits, forge(live_benefits, _logout_claims(live_benefits, row)))
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert reason in answer.json()["error_description"]
    assert answer.headers["Cache-Control"] == "no-store"
    assert len(live_benefits.member_sessions()) == 1
