"""RFC 6750 §2 and §3, RFC 9068 §4: /userinfo takes one genuine bearer token, sent once.

Anything else gets a Bearer challenge: no error code without credentials, invalid_request for
malformed ones, invalid_token for a token we did not issue, and never a stored change.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from .helpers import Actions
from .malformed import b64url, stored_rows

# -- helpers ----------------------------------------------------------------------------------


def assert_challenge(response, status: int, error: str | None) -> None:
    """RFC 6750 §3: a Bearer challenge, with an error code only when a token was presented."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="')
    if error is None:
        assert "error=" not in challenge
    else:
        assert f'error="{error}"' in challenge
        assert response.get_json()["error"] == error


def jwt_parts(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def member(actions):
    return actions.create_member()


@pytest.fixture
def rp(actions):
    return actions.create_client(first_party=True)


@pytest.fixture
def signed_in(actions, member, rp):
    actions.sign_in(member["email"])
    return rp


@pytest.fixture
def issued(actions, signed_in) -> dict:
    return actions.tokens(*signed_in)


# -- bearer tokens at /userinfo (RFC 6750) ----------------------------------------------------


def _alg_none(token: str) -> str:
    header, claims = jwt_parts(token)
    return f"{b64url(header | {'alg': 'none'})}.{b64url(claims)}."


def _foreign_key(token: str) -> str:
    header, claims = jwt_parts(token)  # same kid, typ and claims; not our key
    return jwt.encode(header, claims, RSAKey.generate_key(2048), algorithms=["RS256"])


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = jwt_parts(token)[1] | {"scope": "openid profile email phone address membership"}
    return f"{header}.{b64url(claims)}.{signature}"


def _hs256_with_public_key(token: str, jwks: dict) -> str:
    # Key confusion: HMAC keyed with our public key, which anyone can fetch from /jwks.
    header, claims = jwt_parts(token)
    public = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    secret = RSAKey.import_key(public).as_pem(private=False)
    signing_input = f"{b64url(header | {'alg': 'HS256'})}.{b64url(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


GARBAGE_TOKENS = {
    "random": lambda issued, jwks: secrets.token_urlsafe(32),
    "10-kb": lambda issued, jwks: "a" * 10240,
    "three-dots": lambda issued, jwks: "a.b.c",
    "not-json-header": lambda issued, jwks: "eyJ.eyJ.sig",
    "array-header": lambda issued, jwks: f"{b64url(b'[]')}.{b64url(b'{}')}.x",
    "object-kid": lambda issued, jwks: f"{b64url({'kid': {}, 'alg': 'RS256'})}.e30.x",
    "latin-1": lambda issued, jwks: "\xff\xfe\xe9",
    "alg-none": lambda issued, jwks: _alg_none(issued["access_token"]),
    "foreign-key": lambda issued, jwks: _foreign_key(issued["access_token"]),
    "tampered-claims": lambda issued, jwks: _tampered(issued["access_token"]),
    "hs256-key-confusion": lambda issued, jwks: _hs256_with_public_key(
        issued["access_token"], jwks
    ),
    # RFC 9068 §4: an ID token is typ JWT, not at+jwt, so it is not an access token.
    "id-token": lambda issued, jwks: issued["id_token"],
}


@pytest.mark.parametrize("make_token", GARBAGE_TOKENS.values(), ids=GARBAGE_TOKENS.keys())
def test_garbage_bearer_token_is_invalid_token(app, client, issued, make_token):
    token = make_token(issued, client.get("/jwks").get_json())
    before = stored_rows(app)
    response = client.get("/userinfo", headers=bearer(token))
    assert_challenge(response, 401, "invalid_token")
    assert response.mimetype == "application/json"
    assert stored_rows(app) == before
    # The genuine token still works: refusing garbage revoked nothing.
    assert client.get("/userinfo", headers=bearer(issued["access_token"])).status_code == 200


def test_expired_access_token_is_invalid_token(client, clock, issued):
    clock.advance(seconds=301)
    response = client.get("/userinfo", headers=bearer(issued["access_token"]))
    assert_challenge(response, 401, "invalid_token")


def test_access_token_from_another_issuer_is_invalid_token(client, make_app, member, rp):
    # Another deployment sharing our keys and database: only its iss tells its tokens apart.
    other = make_app(issuer="https://other.example.id")
    elsewhere = Actions(other, other.test_client())
    elsewhere.sign_in(member["email"])
    token = elsewhere.tokens(*rp)["access_token"]
    assert jwt_parts(token)[1]["iss"] == "https://other.example.id"
    response = client.get("/userinfo", headers=bearer(token))
    assert_challenge(response, 401, "invalid_token")


@pytest.mark.parametrize(
    "headers, status, error",
    [
        # RFC 6750 §3.1: no credentials, or another scheme, get a challenge without an error.
        ({}, 401, None),
        ({"Authorization": "Basic abc"}, 401, None),
        ({"Authorization": "Digest username=x"}, 401, None),
        ({"Authorization": ""}, 401, None),
        # RFC 6750 §2.1: "Bearer" needs a b64token after one space; without one it is malformed.
        ({"Authorization": "Bearer "}, 400, "invalid_request"),
        ({"Authorization": "Bearer"}, 400, "invalid_request"),
        ({"Authorization": "Bearer    "}, 400, "invalid_request"),
    ],
    ids=["none", "basic", "digest", "empty-header", "bearer-space", "bearer-only", "spaces"],
)
def test_missing_or_malformed_credentials(client, headers, status, error):
    assert_challenge(client.get("/userinfo", headers=headers), status, error)


def test_token_in_header_and_body_is_invalid_request(client, issued):
    # RFC 6750 §2: clients MUST NOT use more than one method to transmit the token.
    token = issued["access_token"]
    response = client.post("/userinfo", headers=bearer(token), data={"access_token": token})
    assert_challenge(response, 400, "invalid_request")


def test_token_twice_in_body_is_invalid_request(client, issued):
    token = issued["access_token"]
    response = client.post("/userinfo", data={"access_token": [token, token]})
    assert_challenge(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "request_kwargs",
    [
        # RFC 6750 §2.2: form-encoded bodies only; a JSON body carries no credentials.
        lambda token: {"method": "POST", "json": {"access_token": token}},
        # RFC 6750 §2.3 (URI query parameter) is not supported: tokens in URLs leak.
        lambda token: {"method": "GET", "query_string": {"access_token": token}},
        lambda token: {
            "method": "POST",
            "data": {"access_token": token},
            "content_type": "multipart/form-data",
        },
    ],
    ids=["json-body", "query", "multipart-body"],
)
def test_token_outside_header_or_form_body_is_not_accepted(client, issued, request_kwargs):
    response = client.open("/userinfo", **request_kwargs(issued["access_token"]))
    assert_challenge(response, 401, None)
