"""Pushed authorization requests (RFC 9126): /par, then /authorize with a request_uri."""

from __future__ import annotations

import pytest

from idp.db import db
from idp.models import AuthorizationCode, PushedRequest

from .helpers import REDIRECT_URI, csrf_from, query_of
from .proofs import client_assertion, ec_key, jwks_of, request_object

PREFIX = "urn:ietf:params:oauth:request_uri:"


@pytest.fixture(scope="module")
def key():
    return ec_key()


@pytest.fixture
def now(clock) -> int:
    return int(clock.now().timestamp())


@pytest.fixture
def member(actions):
    member = actions.create_member()
    actions.sign_in(member["email"])
    return member


@pytest.fixture
def rp(actions, key) -> str:
    client_id, _ = actions.create_client(
        first_party=True, token_endpoint_auth_method="private_key_jwt", jwks=jwks_of(key)
    )
    return client_id


def push(actions, key, rp_id, now, **extra):
    params, verifier = actions.authorize_params(rp_id, **extra)
    form = params | client_assertion(key, rp_id, now)
    return actions.client.post("/par", data=form), params, verifier


def _codes(app) -> int:
    with app.app_context():
        return db.session.query(AuthorizationCode).count()


def test_pushed_request_gives_a_single_use_request_uri(actions, member, rp, key, now):
    response, params, verifier = push(actions, key, rp, now)
    assert response.status_code == 201, response.text
    body = response.get_json()
    assert body["request_uri"].startswith(PREFIX) and body["expires_in"] == 60
    assert response.headers["Cache-Control"] == "no-store"

    # Anything else in the query is ignored: the pushed parameters are the request.
    query = {"client_id": rp, "request_uri": body["request_uri"], "scope": "openid phone"}
    first = actions.authorize(query)
    assert first.status_code == 302, first.text
    answer = query_of(first.headers["Location"])
    assert first.headers["Location"].startswith(REDIRECT_URI)
    assert answer["state"] == params["state"] and answer["iss"] == "http://127.0.0.1:5000"

    form = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    } | client_assertion(key, rp, now)
    tokens = actions.client.post("/token", data=form)
    assert tokens.status_code == 200, tokens.text
    assert tokens.get_json()["scope"] == params["scope"]

    again = actions.authorize({"client_id": rp, "request_uri": body["request_uri"]})
    assert again.status_code == 400 and "invalid_request_uri" in again.text


def test_request_uri_expires_after_60_seconds(actions, member, rp, key, now, clock):
    response, _, _ = push(actions, key, rp, now)
    clock.advance(seconds=61)
    answer = actions.authorize({"client_id": rp, "request_uri": response.get_json()["request_uri"]})
    assert answer.status_code == 400 and "invalid_request_uri" in answer.text


def test_sign_in_comes_back_to_the_same_request_uri(app, actions, rp, key, now):
    member = actions.create_member()
    response, params, _ = push(actions, key, rp, now)
    query = {"client_id": rp, "request_uri": response.get_json()["request_uri"]}
    first = actions.authorize(query)
    login_url = first.headers["Location"]
    assert login_url.startswith("/login?")
    next_url = query_of(login_url)["next"]
    assert "request_uri" in next_url and "code_challenge" not in next_url
    clock_skip = actions.sign_in(member["email"], next_url=next_url)
    assert clock_skip.headers["Location"] == next_url
    final = actions.client.get(next_url)
    assert "code" in query_of(final.headers["Location"])
    assert query_of(final.headers["Location"])["state"] == params["state"]


def test_another_browser_cannot_use_a_claimed_request_uri(app, actions, rp, key, now):
    member = actions.create_member()
    response, _, _ = push(actions, key, rp, now)
    query = {"client_id": rp, "request_uri": response.get_json()["request_uri"]}
    assert actions.authorize(query).headers["Location"].startswith("/login?")
    other = app.test_client()
    other_page = other.get("/authorize", query_string=query)
    assert other_page.status_code == 400 and "invalid_request_uri" in other_page.text
    assert member and _codes(app) == 0


def test_request_uri_of_another_client_is_refused(actions, member, rp, key, now):
    response, _, _ = push(actions, key, rp, now)
    other, _ = actions.create_client(first_party=True)
    answer = actions.authorize(
        {"client_id": other, "request_uri": response.get_json()["request_uri"]}
    )
    assert answer.status_code == 400 and "invalid_request_uri" in answer.text


def test_par_needs_client_authentication(actions, rp):
    params, _ = actions.authorize_params(rp)
    response = actions.client.post("/par", data=params)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"redirect_uri": "https://evil.example/cb"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "openid nonsense"}, "invalid_scope"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"request_uri": PREFIX + "abc"}, "invalid_request"),
        ({"client_id": "someone-else"}, "invalid_request"),
    ],
)
def test_invalid_pushed_request_is_refused_as_json_and_stores_nothing(
    app, actions, rp, key, now, change, error
):
    response, _, _ = push(actions, key, rp, now, **change)
    assert response.status_code == 400, response.text
    assert "Location" not in response.headers
    assert response.get_json()["error"] == error
    with app.app_context():
        assert db.session.query(PushedRequest).count() == 0


def test_signed_request_object_can_be_pushed(actions, member, rp, key, now):
    params, verifier = actions.authorize_params(rp)
    form = {"client_id": rp, "request": request_object(key, rp, now, params)}
    response = actions.client.post("/par", data=form | client_assertion(key, rp, now))
    assert response.status_code == 201, response.text
    answer = actions.authorize({"client_id": rp, "request_uri": response.get_json()["request_uri"]})
    assert query_of(answer.headers["Location"])["state"] == params["state"]


def test_client_that_requires_par_is_refused_a_plain_request(actions, member, key):
    client_id, _ = actions.create_client(
        first_party=True,
        token_endpoint_auth_method="private_key_jwt",
        jwks=jwks_of(key),
        require_pushed_authorization_requests=True,
    )
    params, _ = actions.authorize_params(client_id)
    answer = actions.authorize(params)
    assert answer.status_code == 302
    assert query_of(answer.headers["Location"])["error"] == "invalid_request"


def test_request_uri_from_another_host_is_not_supported(actions, member, rp):
    params, _ = actions.authorize_params(rp, request_uri="https://rp.example.id/request.jwt")
    answer = actions.authorize(params)
    assert query_of(answer.headers["Location"])["error"] == "request_uri_not_supported"


def test_discovery_names_the_par_endpoint(client):
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert metadata["pushed_authorization_request_endpoint"] == "http://127.0.0.1:5000/par"
    assert metadata["require_pushed_authorization_requests"] is False


def test_client_credentials_are_not_kept_with_the_pushed_request(app, actions, member):
    client_id, secret = actions.create_client(first_party=True)
    params, _ = actions.authorize_params(client_id)
    form = params | {"client_secret": secret}
    response = actions.client.post("/par", data=form)
    assert response.status_code == 201, response.text
    with app.app_context():
        (pushed,) = db.session.query(PushedRequest).all()
        assert "client_secret" not in pushed.parameters
        assert pushed.parameters["state"] == params["state"]


def test_consent_screen_keeps_the_pushed_request(actions, key, now):
    member = actions.create_member()
    actions.sign_in(member["email"])
    client_id, secret = actions.create_client(name="Aplikasi Mitra")  # third party: consent
    params, _ = actions.authorize_params(client_id)
    pushed = actions.client.post("/par", data=params, auth=(client_id, secret))
    query = {"client_id": client_id, "request_uri": pushed.get_json()["request_uri"]}
    consent_url = actions.authorize(query).headers["Location"]
    assert consent_url.startswith("/consent?") and "request_uri" in consent_url
    page = actions.client.get(consent_url)
    assert "Aplikasi Mitra" in page.text
    form = {"decision": "allow", "csrf_token": csrf_from(page.text)}
    answer = actions.client.post(consent_url, data=form)
    assert answer.status_code == 302, answer.text
    assert query_of(answer.headers["Location"])["state"] == params["state"]
    assert "code" in query_of(answer.headers["Location"])


def test_a_denied_request_uri_is_spent_too(actions, key, now):
    member = actions.create_member()
    actions.sign_in(member["email"])
    client_id, secret = actions.create_client(name="Aplikasi Mitra")
    params, _ = actions.authorize_params(client_id)
    pushed = actions.client.post("/par", data=params, auth=(client_id, secret))
    query = {"client_id": client_id, "request_uri": pushed.get_json()["request_uri"]}
    consent_url = actions.authorize(query).headers["Location"]
    page = actions.client.get(consent_url)
    form = {"decision": "deny", "csrf_token": csrf_from(page.text)}
    answer = actions.client.post(consent_url, data=form)
    assert query_of(answer.headers["Location"])["error"] == "access_denied"
    again = actions.authorize(query)
    assert again.status_code == 400 and "invalid_request_uri" in again.text
