"""RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6, RFC 9207: how /authorize refuses a request."""

from __future__ import annotations

import secrets
from datetime import date
from urllib.parse import urlencode

import pytest

from idp.db import db
from idp.models import AuthorizationCode

from .helpers import REDIRECT_URI, query_of
from .malformed import assert_page

ISSUER = "http://127.0.0.1:5000"


@pytest.fixture
def rp(actions):
    return actions.create_client(first_party=True)[0]


@pytest.fixture
def signed_in(actions, rp):
    member = actions.create_member()
    actions.sign_in(member["email"])
    return rp


def _codes(app) -> int:
    with app.app_context():
        return db.session.query(AuthorizationCode).count()


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "unknown"},
        {"client_id": None},
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": REDIRECT_URI + "/"},
        {"redirect_uri": REDIRECT_URI.upper()},
        {"redirect_uri": None},
        {"redirect_uri": 'https://rp.example.id/"quoted\\'},
    ],
    ids=["unknown-client", "no-client", "foreign", "trailing-slash", "case", "missing", "quotes"],
)
def test_untrusted_client_or_redirect_gets_a_page_never_a_redirect(actions, signed_in, change):
    params, _ = actions.authorize_params(signed_in, **change)
    response = actions.authorize(params)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "text/html" in response.headers["Content-Type"]


def test_repeated_client_id_or_redirect_uri_is_a_page(actions, client, signed_in):
    params, _ = actions.authorize_params(signed_in)
    query = urlencode(list(params.items()) + [("redirect_uri", "https://evil.example/cb")])
    response = client.get(f"/authorize?{query}")
    assert response.status_code == 400 and "Location" not in response.headers


def _redirected_error(response) -> dict:
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    query = query_of(location)
    assert query["iss"] == ISSUER
    return query


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "id_token token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"scope": "openid unknown_scope"}, "invalid_scope"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "invalid_request_object"),
        ({"request_uri": "https://rp.example.id/req"}, "request_uri_not_supported"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"prompt": "bogus"}, "invalid_request"),
        ({"max_age": "-1"}, "invalid_request"),
        ({"max_age": "ten"}, "invalid_request"),
        ({"id_token_hint": "not-a-jwt"}, "invalid_request"),
    ],
)
def test_invalid_requests_redirect_with_error_state_and_iss(app, actions, signed_in, change, error):
    params, _ = actions.authorize_params(signed_in, **change)
    query = _redirected_error(actions.authorize(params))
    assert query["error"] == error
    assert query["state"] == params["state"]
    assert _codes(app) == 0


def test_repeated_parameter_is_invalid_request(app, actions, client, signed_in):
    params, _ = actions.authorize_params(signed_in)
    query = urlencode(list(params.items()) + [("scope", "openid")])
    assert _redirected_error(client.get(f"/authorize?{query}"))["error"] == "invalid_request"
    assert _codes(app) == 0


def test_public_client_must_use_pkce(actions):
    actions.create_member()
    client_id, _ = actions.create_client(public=True, first_party=True)
    actions.sign_in("siti@example.id")
    params, _ = actions.authorize_params(client_id, code_challenge=None, code_challenge_method=None)
    assert _redirected_error(actions.authorize(params))["error"] == "invalid_request"


def test_confidential_client_may_skip_pkce(actions, signed_in):
    params, _ = actions.authorize_params(signed_in, code_challenge=None, code_challenge_method=None)
    assert "code" in _redirected_error(actions.authorize(params))


def test_unknown_parameters_are_ignored(actions, signed_in):
    params, _ = actions.authorize_params(signed_in, foo="bar", claims_locales="id")
    assert "code" in _redirected_error(actions.authorize(params))


def test_post_authorize_is_supported(actions, client, signed_in):
    params, _ = actions.authorize_params(signed_in)
    assert "code" in _redirected_error(client.post("/authorize", data=params))


def test_prompt_none_without_session_is_login_required(actions, rp):
    params, _ = actions.authorize_params(rp, prompt="none")
    assert _redirected_error(actions.authorize(params))["error"] == "login_required"


def test_prompt_none_needing_consent_is_consent_required(actions):
    actions.create_member()
    client_id, _ = actions.create_client()
    actions.sign_in("siti@example.id")
    params, _ = actions.authorize_params(client_id, prompt="none")
    assert _redirected_error(actions.authorize(params))["error"] == "consent_required"


def test_prompt_none_with_session_is_silent(actions, signed_in):
    params, _ = actions.authorize_params(signed_in, prompt="none")
    assert "code" in _redirected_error(actions.authorize(params))


def test_prompt_login_forces_sign_in_once(actions, client, signed_in):
    params, _ = actions.authorize_params(signed_in, prompt="login")
    first = actions.authorize(params)
    assert first.headers["Location"].startswith("/login?")
    next_url = query_of(first.headers["Location"])["next"]
    actions.sign_in("siti@example.id", next_url=next_url)
    assert "code" in _redirected_error(client.get(next_url))
    # The fresh sign-in served that one request; the next prompt=login asks again.
    again, _ = actions.authorize_params(signed_in, prompt="login")
    assert actions.authorize(again).headers["Location"].startswith("/login?")


def test_max_age_forces_reauthentication_when_auth_is_older(actions, clock, signed_in):
    clock.advance(seconds=120)
    fresh_enough, _ = actions.authorize_params(signed_in, max_age="300")
    assert "code" in _redirected_error(actions.authorize(fresh_enough))
    too_old, _ = actions.authorize_params(signed_in, max_age="60")
    assert actions.authorize(too_old).headers["Location"].startswith("/login?")
    silent, _ = actions.authorize_params(signed_in, max_age="60", prompt="none")
    assert _redirected_error(actions.authorize(silent))["error"] == "login_required"


def test_id_token_hint_for_another_member_is_login_required(actions, client, signed_in):
    other = actions.create_member(
        membership_number="99988877766",
        nik="3174051208850002",
        email="budi@example.id",
        birthdate=date(1985, 8, 12),
        name="Budi Santoso",
    )
    client_id, secret = actions.create_client(name="Hint RP", first_party=True)
    actions.sign_in(other["email"])
    hint = actions.tokens(client_id, secret)["id_token"]
    actions.sign_in("siti@example.id")
    params, _ = actions.authorize_params(signed_in, prompt="none", id_token_hint=hint)
    assert _redirected_error(actions.authorize(params))["error"] == "login_required"
    interactive, _ = actions.authorize_params(signed_in, id_token_hint=hint)
    assert actions.authorize(interactive).headers["Location"].startswith("/login?")


# -- /authorize garbage -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {"max_age": "99999999999999999999"},
        {"max_age": "-1"},
        {"max_age": "1e3"},
        {"max_age": "\uff11"},  # FULLWIDTH DIGIT ONE: isdigit() but not an integer to us
        {"prompt": "none login"},
        {"prompt": "\x01"},
        {"response_mode": "fragment"},
    ],
    ids=["max-age-huge", "max-age-negative", "max-age-float", "max-age-fullwidth",
         "prompt-none-login", "prompt-control", "response-mode"],
)  # fmt: skip
def test_absurd_values_redirect_invalid_request_to_registered_uri(app, actions, signed_in, extra):
    # RFC 6749 §4.1.2.1: the redirect URI is verified, so the error goes back to the client.
    params, _ = actions.authorize_params(signed_in, **extra)
    response = actions.authorize(params)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT_URI + "?")
    query = query_of(response.headers["Location"])
    assert query["error"] == "invalid_request" and query["state"] == params["state"]
    assert _codes(app) == 0


@pytest.mark.parametrize(
    "raw",
    ["state=%00", "nonce=a%00b", "prompt=%00", "scope=openid%00", "login_hint=%00"],
)
@pytest.mark.parametrize("known_client", [True, False], ids=["known-client", "unknown-client"])
def test_nul_bytes_at_authorize_are_a_page(app, actions, signed_in, raw, known_client):
    client_id = signed_in if known_client else "unknown-client"
    params, _ = actions.authorize_params(client_id)
    response = actions.client.get(f"/authorize?{urlencode(params)}&{raw}")
    assert_page(response, 400)
    assert _codes(app) == 0


@pytest.mark.parametrize(
    "extra",
    [
        {"max_age": "99999999999999999999"},
        {"state": "s" * 7000},
        {"nonce": "n" * 7000},
        {"prompt": "bogus"},
        {"scope": "openid " + "x" * 7000},
    ],
    ids=["max-age-huge", "long-state", "long-nonce", "prompt", "long-scope"],
)
def test_unknown_client_gets_a_page_never_a_redirect(app, actions, signed_in, extra):
    params, _ = actions.authorize_params("unknown-client", **extra)
    response = actions.authorize(params)
    assert_page(response, 400)
    assert _codes(app) == 0


def test_long_state_within_the_cap_is_echoed_intact(actions, signed_in):
    state = secrets.token_urlsafe(5000)[:6000]
    code, _, params = actions.get_code(signed_in, state=state)
    assert params["state"] == state and code
