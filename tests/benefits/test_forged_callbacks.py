"""Forged or replayed callbacks end on an error page (400) and open no session.

OIDC Core §3.1.3.7 (ID token validation), RFC 6749 §10.12 (state), RFC 9207 (iss), RFC 7636
(the code is bound to our verifier) and RFC 6749 §4.1.2 (a code works once).
"""

from __future__ import annotations

import base64
import json
import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from idp.extensions import keystore

from .conftest import TIMEOUT


def _with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | changes
    return parts._replace(
        query=urlencode({k: v for k, v in query.items() if v is not None})
    ).geturl()


def _claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _resign(live, token: str, **changes) -> str:
    """The ID token with changed claims, signed with the identity provider's real key."""
    with live.idp.app.app_context():
        return keystore().sign(_claims_of(token) | changes, alg="RS256")


def _tamper(live, token: str, **changes) -> str:
    """The ID token with changed claims and its original signature."""
    header, _payload, signature = token.split(".")
    payload = json.dumps(_claims_of(token) | changes).encode()
    return f"{header}.{base64.urlsafe_b64encode(payload).rstrip(b'=').decode()}.{signature}"


def _drop(live, token: str) -> None:
    return None


def _unsigned(live, token: str) -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    return f"{header}.{token.split('.')[1]}."


# Each forgery of the token response, and what the log says refused it.
TOKEN_FORGERIES = {
    "wrong nonce": (lambda live, t: _resign(live, t, nonce="not-ours"), "claim: 'nonce'"),
    "tampered ID token": (lambda live, t: _tamper(live, t, sub="someone-else"), "BadSignature"),
    "another issuer": (lambda live, t: _resign(live, t, iss="http://127.0.0.1:1"), "claim: 'iss'"),
    "another audience": (lambda live, t: _resign(live, t, aud="another-client"), "claim: 'aud'"),
    "expired": (lambda live, t: _resign(live, t, exp=_claims_of(t)["iat"] - 3600), "expired"),
    "alg none": (_unsigned, "UnsupportedAlgorithm"),
    "no ID token": (_drop, "no ID token"),
}


def _assert_refused(live, answer) -> None:
    assert answer.status_code == 400, answer.text
    assert "Sign-in failed" in answer.text
    assert live.member_sessions() == []
    assert "Sign in with your member account" in live.get("/").text  # still signed out


@pytest.fixture
def at_idp(live_benefits):
    """A browser already signed in at the identity provider, none of our sessions yet."""
    assert live_benefits.idp_sign_in().status_code == 200
    return live_benefits


@pytest.mark.parametrize("forgery", TOKEN_FORGERIES)
def test_forged_token_responses_are_refused(at_idp, monkeypatch, caplog, forgery):
    """The token endpoint's answer replaced on its way in (a compromised network or IdP)."""
    forge, reason = TOKEN_FORGERIES[forgery]
    client = at_idp.app.extensions["authlib.integrations.flask_client"].idp
    genuine = client.fetch_access_token

    def forged_fetch(**kwargs):
        token = genuine(**kwargs)
        replaced = forge(at_idp, token.pop("id_token"))
        return token | ({"id_token": replaced} if replaced else {})

    monkeypatch.setattr(client, "fetch_access_token", forged_fetch)
    _assert_refused(at_idp, at_idp.browser.get(at_idp.callback_url(), timeout=TIMEOUT))
    assert reason in caplog.text


def test_wrong_state_is_refused(at_idp):
    forged = _with_query(at_idp.callback_url(), state=secrets.token_urlsafe(16))
    _assert_refused(at_idp, at_idp.browser.get(forged, timeout=TIMEOUT))


def test_missing_state_is_refused(at_idp):
    forged = _with_query(at_idp.callback_url(), state=None)
    _assert_refused(at_idp, at_idp.browser.get(forged, timeout=TIMEOUT))


def test_callback_naming_another_issuer_is_refused(at_idp):
    forged = _with_query(at_idp.callback_url(), iss="http://127.0.0.1:1")
    _assert_refused(at_idp, at_idp.browser.get(forged, timeout=TIMEOUT))


def test_callback_without_iss_is_refused(at_idp):
    """The identity provider advertises RFC 9207, so an answer without iss is not its own."""
    forged = _with_query(at_idp.callback_url(), iss=None)
    _assert_refused(at_idp, at_idp.browser.get(forged, timeout=TIMEOUT))


def test_error_response_is_refused(at_idp):
    forged = _with_query(at_idp.callback_url(), code=None, error="access_denied")
    _assert_refused(at_idp, at_idp.browser.get(forged, timeout=TIMEOUT))


def test_replayed_callback_is_refused(at_idp):
    """The same callback twice: the state was spent by the first."""
    callback = at_idp.callback_url()
    assert at_idp.browser.get(callback, timeout=TIMEOUT).status_code == 200
    at_idp.post_form("/logout", {}, page="/", allow_redirects=False)
    _assert_refused(at_idp, at_idp.browser.get(callback, timeout=TIMEOUT))


def test_reused_code_is_refused(at_idp):
    """An old code delivered with a fresh, valid state: the IdP refuses it (invalid_grant)."""
    first = at_idp.callback_url()
    assert at_idp.browser.get(first, timeout=TIMEOUT).status_code == 200
    at_idp.post_form("/logout", {}, page="/", allow_redirects=False)
    old_code = dict(parse_qsl(urlsplit(first).query))["code"]
    forged = _with_query(at_idp.callback_url(), code=old_code)
    _assert_refused(at_idp, at_idp.browser.get(forged, timeout=TIMEOUT))


def test_code_from_another_sign_in_is_refused(at_idp):
    """A code minted for another browser's request fails PKCE: its verifier is not ours."""
    stolen = dict(parse_qsl(urlsplit(at_idp.callback_url()).query))["code"]
    forged = _with_query(at_idp.callback_url(), code=stolen)
    _assert_refused(at_idp, at_idp.browser.get(forged, timeout=TIMEOUT))


def test_userinfo_about_someone_else_is_refused(at_idp, monkeypatch):
    client = at_idp.app.extensions["authlib.integrations.flask_client"].idp
    genuine = client.userinfo
    monkeypatch.setattr(client, "userinfo", lambda **kw: genuine(**kw) | {"sub": "someone-else"})
    _assert_refused(at_idp, at_idp.browser.get(at_idp.callback_url(), timeout=TIMEOUT))
