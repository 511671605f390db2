"""OIDC Core §3.1: the authorization code flow in-process, token contents checked independently."""

from __future__ import annotations

import base64
import hashlib

import jwt as pyjwt
import pytest

from .helpers import REDIRECT_URI, csrf_from, query_of


def _decode(app_client, id_token: str, audience: str) -> dict:
    jwks = app_client.get("/jwks").get_json()
    kid = pyjwt.get_unverified_header(id_token)["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    return pyjwt.decode(
        id_token,
        pyjwt.PyJWK(key).key,
        algorithms=[key["alg"]],
        audience=audience,
        issuer="http://127.0.0.1:5000",
    )


@pytest.fixture
def member(actions):
    return actions.create_member()


@pytest.fixture
def rp(actions):
    return actions.create_client(first_party=True)


def test_signed_in_member_gets_code_then_tokens(actions, client, member, rp):
    client_id, secret = rp
    actions.sign_in(member["email"])
    code, verifier, params = actions.get_code(client_id)
    response = actions.redeem(client_id, secret, code, verifier)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid profile email membership"
    claims = _decode(client, body["id_token"], client_id)
    assert claims["sub"] == member["sub"]
    assert claims["nonce"] == params["nonce"]
    assert claims["acr"] == "pwd" and claims["amr"] == ["pwd"]
    assert {"iat", "exp", "auth_time", "sid", "at_hash"} <= claims.keys()
    assert claims["aud"] == client_id
    digest = hashlib.sha256(body["access_token"].encode()).digest()
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def test_sub_is_opaque_and_stable(actions, client, member, rp):
    client_id, secret = rp
    actions.sign_in(member["membership_number"])
    first = _decode(client, actions.tokens(client_id, secret)["id_token"], client_id)["sub"]
    second = _decode(client, actions.tokens(client_id, secret)["id_token"], client_id)["sub"]
    assert first == second == member["sub"]
    assert member["membership_number"] not in first and "3174051507900001" not in first


def test_es256_client_gets_es256_id_token(actions, client, member):
    client_id, secret = actions.create_client(
        first_party=True, id_token_signed_response_alg="ES256"
    )
    actions.sign_in(member["email"])
    token = actions.tokens(client_id, secret)["id_token"]
    assert pyjwt.get_unverified_header(token)["alg"] == "ES256"
    assert _decode(client, token, client_id)["sub"] == member["sub"]


def test_anonymous_authorize_redirects_to_login_then_back(actions, client, member, rp):
    client_id, _ = rp
    params, _ = actions.authorize_params(client_id, login_hint=member["email"])
    first = actions.authorize(params)
    assert first.status_code == 302
    login_url = first.headers["Location"]
    assert login_url.startswith("/login?")
    page = client.get(login_url)
    assert member["email"] in page.text  # login_hint prefills the identifier
    next_url = query_of(login_url)["next"]
    signed_in = actions.sign_in(member["email"], next_url=next_url)
    assert signed_in.headers["Location"] == next_url
    final = client.get(next_url)
    query = query_of(final.headers["Location"])
    assert final.headers["Location"].startswith(REDIRECT_URI)
    assert query["state"] == params["state"]
    assert query["iss"] == "http://127.0.0.1:5000"
    assert "code" in query


def test_third_party_client_asks_consent_once(actions, client, member):
    client_id, secret = actions.create_client(name="Aplikasi Mitra")
    actions.sign_in(member["email"])
    params, verifier = actions.authorize_params(client_id)
    to_consent = actions.authorize(params)
    assert to_consent.headers["Location"].startswith("/consent?")
    page = client.get(to_consent.headers["Location"])
    assert page.status_code == 200
    assert "Aplikasi Mitra" in page.text
    assert 'name="decision" value="allow"' in page.text
    assert "3174051507900001" not in page.text
    allowed = client.post(
        to_consent.headers["Location"],
        data={"decision": "allow", "csrf_token": csrf_from(page.text)},
    )
    code = query_of(allowed.headers["Location"])["code"]
    assert actions.redeem(client_id, secret, code, verifier).status_code == 200

    # Remembered: the same scopes go straight through; a new scope asks again.
    assert "code" in query_of(actions.authorize(actions.authorize_params(client_id)[0]).location)
    wider, _ = actions.authorize_params(client_id, scope="openid profile phone")
    assert actions.authorize(wider).headers["Location"].startswith("/consent?")


def test_consent_deny_returns_access_denied(actions, client, member):
    client_id, _ = actions.create_client()
    actions.sign_in(member["email"])
    params, _ = actions.authorize_params(client_id)
    consent_url = actions.authorize(params).headers["Location"]
    page = client.get(consent_url)
    denied = client.post(consent_url, data={"decision": "deny", "csrf_token": csrf_from(page.text)})
    query = query_of(denied.headers["Location"])
    assert query["error"] == "access_denied"
    assert query["state"] == params["state"]
    assert query["iss"] == "http://127.0.0.1:5000"


def test_consent_without_csrf_changes_nothing(actions, client, member):
    client_id, _ = actions.create_client()
    actions.sign_in(member["email"])
    consent_url = actions.authorize(actions.authorize_params(client_id)[0]).headers["Location"]
    response = client.post(consent_url, data={"decision": "allow"})
    assert response.status_code == 400
    again = actions.authorize(actions.authorize_params(client_id)[0])
    assert again.headers["Location"].startswith("/consent?")


def test_public_client_with_pkce(actions, member):
    client_id, secret = actions.create_client(public=True, first_party=True)
    assert secret is None
    actions.sign_in(member["email"])
    body = actions.tokens(client_id, None)
    assert "id_token" in body and "access_token" in body


def test_client_secret_post_works(actions, member, rp):
    client_id, secret = rp
    actions.sign_in(member["email"])
    code, verifier, _ = actions.get_code(client_id)
    response = actions.client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": client_id,
            "client_secret": secret,
        },
    )
    assert response.status_code == 200, response.text


def test_userinfo_returns_claims_of_granted_scopes(actions, client, member, rp):
    client_id, secret = rp
    actions.sign_in(member["email"])
    body = actions.tokens(client_id, secret, scope="openid profile email membership")
    response = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert response.status_code == 200
    claims = response.get_json()
    assert claims == {
        "sub": member["sub"],
        "name": "Siti Rahayu",
        "birthdate": "1990-07-15",
        "locale": "id",
        "updated_at": claims["updated_at"],
        "email": "siti@example.id",
        "email_verified": True,
        "membership_number": "12345678901",
        "employer_name": "PT Sinar Jaya",
    }
    # No claim is named after the NIK, and its value appears nowhere (the random `sub` may
    # happen to contain the letters "nik", so the names are checked, not the raw text).
    assert not any("nik" in name.lower() for name in claims)
    assert "3174051507900001" not in response.text


def test_openid_only_releases_sub(actions, client, member, rp):
    client_id, secret = rp
    actions.sign_in(member["email"])
    body = actions.tokens(client_id, secret, scope="openid")
    response = client.post("/userinfo", data={"access_token": body["access_token"]})
    assert response.get_json() == {"sub": member["sub"]}
