"""The FAPI 2.0 Security Profile, per client: each rule refuses a request that breaks it."""

from __future__ import annotations

import jwt as pyjwt
import pytest
from joserfc.jwk import RSAKey

from idp.oidc.clients import ClientMetadataError

from .helpers import REDIRECT_URI, query_of
from .proofs import ISSUER, client_assertion, dpop_proof, ec_key, jwks_of

TOKEN_URL = f"{ISSUER}/token"


@pytest.fixture(scope="module")
def key():
    return ec_key("fapi")


@pytest.fixture(scope="module")
def rsa_key():
    return RSAKey.generate_key(2048, parameters={"kid": "rsa"})


@pytest.fixture
def now(clock) -> int:
    return int(clock.now().timestamp())


@pytest.fixture
def fapi(actions, key, rsa_key) -> str:
    member = actions.create_member()
    actions.sign_in(member["email"])
    client_id, secret = actions.create_client(
        first_party=True,
        profile="fapi2",
        token_endpoint_auth_method="private_key_jwt",
        jwks=jwks_of(key, rsa_key),
        id_token_signed_response_alg="ES256",
    )
    assert secret is None
    return client_id


def push(actions, key, rp_id, now, **extra):
    params, verifier = actions.authorize_params(rp_id, **extra)
    response = actions.client.post("/par", data=params | client_assertion(key, rp_id, now))
    return response, params, verifier


def code_for(actions, key, rp_id, now) -> tuple[str, str]:
    response, _, verifier = push(actions, key, rp_id, now)
    assert response.status_code == 201, response.text
    answer = actions.authorize(
        {"client_id": rp_id, "request_uri": response.get_json()["request_uri"]}
    )
    query = query_of(answer.headers["Location"])
    assert query["iss"] == ISSUER  # RFC 9207: the issuer names itself in the response
    return query["code"], verifier


def token_form(code: str, verifier: str | None) -> dict:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    return form | ({"code_verifier": verifier} if verifier else {})


def test_the_profiles_flow(actions, fapi, key, now):
    code, verifier = code_for(actions, key, fapi, now)
    form = token_form(code, verifier) | client_assertion(key, fapi, now)
    headers = {"DPoP": dpop_proof(key, "POST", TOKEN_URL, now)}
    response = actions.client.post("/token", data=form, headers=headers)
    assert response.status_code == 200, response.text
    body = response.get_json()
    assert body["token_type"] == "DPoP"
    assert pyjwt.get_unverified_header(body["id_token"])["alg"] == "ES256"


def test_par_is_required(actions, fapi):
    params, _ = actions.authorize_params(fapi)
    answer = actions.authorize(params)
    assert query_of(answer.headers["Location"])["error"] == "invalid_request"


def test_pkce_is_required(actions, fapi, key, now):
    response, _, _ = push(actions, key, fapi, now, code_challenge=None, code_challenge_method=None)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_dpop_is_required(actions, fapi, key, now):
    code, verifier = code_for(actions, key, fapi, now)
    form = token_form(code, verifier) | client_assertion(key, fapi, now)
    response = actions.client.post("/token", data=form)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_code_lives_60_seconds_at_most(actions, fapi, key, now, clock):
    code, verifier = code_for(actions, key, fapi, now)
    clock.advance(seconds=61)
    later = int(clock.now().timestamp())
    form = token_form(code, verifier) | client_assertion(key, fapi, later)
    headers = {"DPoP": dpop_proof(key, "POST", TOKEN_URL, later)}
    response = actions.client.post("/token", data=form, headers=headers)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_client_assertion_must_be_es256_or_ps256(actions, fapi, key, rsa_key, now):
    code, verifier = code_for(actions, key, fapi, now)
    form = token_form(code, verifier) | client_assertion(rsa_key, fapi, now, alg="RS256")
    headers = {"DPoP": dpop_proof(key, "POST", TOKEN_URL, now)}
    response = actions.client.post("/token", data=form, headers=headers)
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    # The same key signing PS256 is accepted.
    form = token_form(code, verifier) | client_assertion(rsa_key, fapi, now, alg="PS256")
    headers = {"DPoP": dpop_proof(key, "POST", TOKEN_URL, now)}
    assert actions.client.post("/token", data=form, headers=headers).status_code == 200


def test_a_secret_is_not_accepted(actions, fapi, key, now):
    code, verifier = code_for(actions, key, fapi, now)
    form = token_form(code, verifier) | {"client_id": fapi, "client_secret": "guess"}
    headers = {"DPoP": dpop_proof(key, "POST", TOKEN_URL, now)}
    response = actions.client.post("/token", data=form, headers=headers)
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"token_endpoint_auth_method": None, "jwks": None}, "private_key_jwt"),
        ({"id_token_signed_response_alg": "RS256"}, "ES256 or PS256"),
        ({"profile": "fapi1"}, "profile must be one of"),
    ],
    ids=["secret", "rs256-id-token", "unknown-profile"],
)
def test_registration_keeps_to_the_profile(actions, key, changes, message):
    values = {
        "profile": "fapi2",
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": jwks_of(key),
        "id_token_signed_response_alg": "ES256",
    } | changes
    with pytest.raises(ClientMetadataError, match=message):
        actions.create_client(**values)
