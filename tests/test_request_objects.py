"""Signed authorization request objects by value (RFC 9101 §5.1) at /authorize."""

from __future__ import annotations

import jwt as pyjwt
import pytest

from idp.db import db
from idp.models import AuthorizationCode

from .helpers import REDIRECT_URI, query_of
from .proofs import ISSUER, ec_key, jwks_of, request_object


@pytest.fixture(scope="module")
def key():
    return ec_key()


@pytest.fixture(scope="module")
def stranger():
    return ec_key("stranger")


@pytest.fixture
def now(clock) -> int:
    return int(clock.now().timestamp())


@pytest.fixture
def rp(actions, key) -> str:
    member = actions.create_member()
    actions.sign_in(member["email"])
    client_id, _ = actions.create_client(
        first_party=True, token_endpoint_auth_method="private_key_jwt", jwks=jwks_of(key)
    )
    return client_id


def _page_error(app, response) -> str:
    """The error shown (no redirect: the object's redirect_uri was never trusted)."""
    assert response.status_code == 400, response.text
    assert "Location" not in response.headers
    with app.app_context():
        assert db.session.query(AuthorizationCode).count() == 0
    return response.text


def test_signed_request_object_is_the_whole_request(actions, rp, key, now):
    params, _ = actions.authorize_params(rp)
    # The query's own scope and state are ignored: only the object's parameters count.
    query = {
        "client_id": rp,
        "request": request_object(key, rp, now, params),
        "scope": "openid phone",
        "state": "from-the-query",
    }
    answer = actions.authorize(query)
    assert answer.status_code == 302, answer.text
    assert answer.headers["Location"].startswith(REDIRECT_URI)
    assert query_of(answer.headers["Location"])["state"] == params["state"]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"aud": "https://another.example"}, "invalid_request_object"),
        ({"iss": "someone-else"}, "invalid_request_object"),
        ({"exp": -120}, "invalid_request_object"),
        ({"nbf": 600, "exp": 900}, "invalid_request_object"),
        ({"exp": 7300}, "invalid_request_object"),
        ({"exp": None}, "invalid_request_object"),
        ({"aud": None}, "invalid_request_object"),
        ({"client_id": "someone-else"}, "invalid_request"),
        ({"request_uri": "https://rp.example.id/r"}, "invalid_request"),
    ],
    ids=["aud", "iss", "expired", "not-yet", "too-long", "no-exp", "no-aud", "client_id", "nested"],
)
def test_request_object_claims_are_checked(app, actions, rp, key, now, changes, error):
    params, _ = actions.authorize_params(rp)
    timed = {k: now + v for k, v in changes.items() if k in ("exp", "nbf") and v is not None}
    claims = changes | timed
    answer = actions.authorize(
        {"client_id": rp, "request": request_object(key, rp, now, params, **claims)}
    )
    assert f"<code>{error}</code>" in _page_error(app, answer)


def test_request_object_signed_by_another_key_is_refused(app, actions, rp, stranger, now):
    params, _ = actions.authorize_params(rp)
    answer = actions.authorize(
        {"client_id": rp, "request": request_object(stranger, rp, now, params)}
    )
    assert "<code>invalid_request_object</code>" in _page_error(app, answer)


def test_unsigned_request_object_is_refused(app, actions, rp, now):
    params, _ = actions.authorize_params(rp)
    claims = params | {"iss": rp, "aud": ISSUER, "exp": now + 60}
    unsigned = pyjwt.encode(claims, None, algorithm="none")
    answer = actions.authorize({"client_id": rp, "request": unsigned})
    assert "invalid_request" in _page_error(app, answer)


def test_client_without_keys_cannot_sign_requests(app, actions, key, now):
    client_id, _ = actions.create_client(first_party=True)
    params, _ = actions.authorize_params(client_id)
    query = {"client_id": client_id, "request": request_object(key, client_id, now, params)}
    assert "<code>invalid_request_object</code>" in _page_error(app, actions.authorize(query))


def test_request_and_request_uri_together_are_refused(app, actions, rp, key, now):
    params, _ = actions.authorize_params(rp)
    query = {
        "client_id": rp,
        "request": request_object(key, rp, now, params),
        "request_uri": "urn:ietf:params:oauth:request_uri:x",
    }
    assert "<code>invalid_request</code>" in _page_error(app, actions.authorize(query))


def test_discovery_lists_request_objects(client):
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert metadata["request_parameter_supported"] is True
    assert metadata["request_uri_parameter_supported"] is False
    assert "none" not in metadata["request_object_signing_alg_values_supported"]
    assert {"ES256", "PS256"} <= set(metadata["request_object_signing_alg_values_supported"])


def test_request_object_verified_with_keys_from_jwks_uri(actions, key, now):
    from .test_client_auth import JwksServer

    server = JwksServer(jwks_of(key))
    try:
        member = actions.create_member()
        actions.sign_in(member["email"])
        client_id, _ = actions.create_client(
            first_party=True, token_endpoint_auth_method="private_key_jwt", jwks_uri=server.url
        )
        params, _ = actions.authorize_params(client_id)
        query = {"client_id": client_id, "request": request_object(key, client_id, now, params)}
        answer = actions.authorize(query)
        assert answer.status_code == 302, answer.text
        assert query_of(answer.headers["Location"])["state"] == params["state"]
        assert server.requests == 1
    finally:
        server.stop()
