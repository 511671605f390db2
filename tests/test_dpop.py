"""DPoP (RFC 9449): proofs at /token bind access tokens (and public clients' refresh tokens)
to the client's key; /userinfo accepts such a token only with a fresh proof from that key."""

from __future__ import annotations

import jwt as pyjwt
import pytest

from idp.db import db
from idp.models import PushedRequest

from .helpers import REDIRECT_URI, query_of
from .proofs import ISSUER, ath, dpop_proof, ec_key

TOKEN_URL = f"{ISSUER}/token"
USERINFO_URL = f"{ISSUER}/userinfo"


@pytest.fixture(scope="module")
def key():
    return ec_key("dpop")


@pytest.fixture(scope="module")
def other_key():
    return ec_key("other")


@pytest.fixture
def now(clock) -> int:
    return int(clock.now().timestamp())


@pytest.fixture
def public_rp(actions) -> str:
    member = actions.create_member()
    actions.sign_in(member["email"])
    client_id, _ = actions.create_client(
        public=True,
        first_party=True,
        grant_types=["authorization_code", "refresh_token"],
        scope="openid profile email membership offline_access",
    )
    return client_id


def code_form(client_id, code, verifier, *, public: bool = True) -> dict:
    """The token request that redeems a code (a public client names itself in the form)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    return form | {"client_id": client_id} if public else form


def redeem(actions, client_id, key, now, secret=None, **extra):
    code, verifier, _ = actions.get_code(client_id, scope="openid profile offline_access")
    headers = {"DPoP": dpop_proof(key, "POST", TOKEN_URL, now)} if key is not None else {}
    form = code_form(client_id, code, verifier, public=False) | extra
    auth = (client_id, secret) if secret else None
    if secret is None:
        form["client_id"] = client_id
    return actions.client.post("/token", data=form, headers=headers, auth=auth)


def userinfo(actions, token, proof=None, scheme="DPoP"):
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return actions.client.get("/userinfo", headers=headers)


def test_proof_at_token_endpoint_binds_the_access_token(actions, public_rp, key, now):
    response = redeem(actions, public_rp, key, now)
    assert response.status_code == 200, response.text
    body = response.get_json()
    assert body["token_type"] == "DPoP"
    claims = pyjwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["cnf"] == {"jkt": key.thumbprint()}

    token = body["access_token"]
    proof = dpop_proof(key, "GET", USERINFO_URL, now, ath=ath(token))
    answer = userinfo(actions, token, proof)
    assert answer.status_code == 200, answer.text
    assert answer.get_json()["sub"]


def test_without_a_proof_tokens_stay_bearer(actions, public_rp, now):
    body = redeem(actions, public_rp, None, now).get_json()
    assert body["token_type"] == "Bearer"
    assert "cnf" not in pyjwt.decode(body["access_token"], options={"verify_signature": False})


def test_bound_token_presented_as_bearer_is_refused(actions, public_rp, key, now):
    token = redeem(actions, public_rp, key, now).get_json()["access_token"]
    answer = userinfo(actions, token, scheme="Bearer")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("DPoP ")
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    "bad",
    [
        {"ath": None},
        {"ath": "d3Jvbmc"},
        {"ath": "ätḧ"},
        {"htm": "POST"},
        {"htu": f"{ISSUER}/token"},
        {"iat": -600},
        {"key": "other"},
        {"proof": None},
    ],
    ids=["no-ath", "wrong-ath", "non-ascii-ath", "htm", "htu", "stale", "other-key", "missing"],
)
def test_userinfo_checks_the_proof(actions, public_rp, key, other_key, now, bad):
    token = redeem(actions, public_rp, key, now).get_json()["access_token"]
    claims = {"ath": ath(token)} | {k: v for k, v in bad.items() if k in ("ath", "htm", "htu")}
    if "iat" in bad:
        claims["iat"] = now + bad["iat"]
    signer = other_key if bad.get("key") == "other" else key
    method, url = claims.pop("htm", "GET"), claims.pop("htu", USERINFO_URL)
    proof = None if "proof" in bad else dpop_proof(signer, method, url, now, **claims)
    answer = userinfo(actions, token, proof)
    assert answer.status_code == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith("DPoP ") and 'error="invalid_dpop_proof"' in challenge


def test_a_proof_is_used_once(actions, public_rp, key, now):
    token = redeem(actions, public_rp, key, now).get_json()["access_token"]
    proof = dpop_proof(key, "GET", USERINFO_URL, now, ath=ath(token))
    assert userinfo(actions, token, proof).status_code == 200
    replay = userinfo(actions, token, proof)
    assert replay.status_code == 401 and "invalid_dpop_proof" in replay.headers["WWW-Authenticate"]


def test_replay_is_refused_by_another_node(make_app, actions, public_rp, key, now):
    token = redeem(actions, public_rp, key, now).get_json()["access_token"]
    proof = dpop_proof(key, "GET", USERINFO_URL, now, ath=ath(token))
    assert userinfo(actions, token, proof).status_code == 200
    other_node = make_app().test_client()
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
    assert other_node.get("/userinfo", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "proof",
    [
        "not-a-jwt",
        "a.b.c",
        "typ",
        "none",
        "private",
    ],
)
def test_malformed_proofs_are_refused_at_the_token_endpoint(actions, public_rp, key, now, proof):
    body = {"jti": "j" * 20, "htm": "POST", "htu": TOKEN_URL, "iat": now}
    public = key.as_dict(private=False)
    if proof == "typ":
        proof = pyjwt.encode(body, key.as_pem(private=True), "ES256", headers={"jwk": public})
    elif proof == "none":
        proof = pyjwt.encode(body, None, "none", headers={"typ": "dpop+jwt", "jwk": public})
    elif proof == "private":
        headers = {"typ": "dpop+jwt", "jwk": key.as_dict(private=True)}
        proof = pyjwt.encode(body, key.as_pem(private=True), "ES256", headers=headers)
    code, verifier, _ = actions.get_code(public_rp)
    form = code_form(public_rp, code, verifier)
    response = actions.client.post("/token", data=form, headers={"DPoP": proof})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_dpop_proof"
    # Nothing was spent: the code still works with a good proof.
    headers = {"DPoP": dpop_proof(key, "POST", TOKEN_URL, now)}
    assert actions.client.post("/token", data=form, headers=headers).status_code == 200


def test_stale_proof_is_refused_at_the_token_endpoint(actions, public_rp, key, now):
    code, verifier, _ = actions.get_code(public_rp)
    form = code_form(public_rp, code, verifier)
    headers = {"DPoP": dpop_proof(key, "POST", TOKEN_URL, now - 300)}
    response = actions.client.post("/token", data=form, headers=headers)
    assert response.get_json()["error"] == "invalid_dpop_proof"


def test_public_clients_refresh_token_is_bound_to_the_key(actions, public_rp, key, other_key, now):
    body = redeem(actions, public_rp, key, now).get_json()
    form = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    form["client_id"] = public_rp
    stolen = {"DPoP": dpop_proof(other_key, "POST", TOKEN_URL, now)}
    refused = actions.client.post("/token", data=form, headers=stolen)
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_grant"
    assert actions.client.post("/token", data=form).status_code == 400  # no proof at all

    own = {"DPoP": dpop_proof(key, "POST", TOKEN_URL, now)}
    refreshed = actions.client.post("/token", data=form, headers=own)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.get_json()["token_type"] == "DPoP"


def test_introspection_reports_the_key(actions, key, now):
    member = actions.create_member()
    actions.sign_in(member["email"])
    client_id, secret = actions.create_client(first_party=True)
    token = redeem(actions, client_id, key, now, secret=secret).get_json()["access_token"]
    answer = actions.client.post("/introspect", data={"token": token}, auth=(client_id, secret))
    body = answer.get_json()
    assert body["active"] is True
    assert body["token_type"] == "DPoP" and body["cnf"] == {"jkt": key.thumbprint()}


def test_client_that_requires_dpop_is_refused_without_a_proof(actions, key, now):
    member = actions.create_member()
    actions.sign_in(member["email"])
    client_id, secret = actions.create_client(first_party=True, dpop_bound_access_tokens=True)
    code, verifier, _ = actions.get_code(client_id)
    refused = actions.redeem(client_id, secret, code, verifier)
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_request"
    form = code_form(client_id, code, verifier, public=False)
    headers = {"DPoP": dpop_proof(key, "POST", TOKEN_URL, now)}
    accepted = actions.client.post("/token", data=form, headers=headers, auth=(client_id, secret))
    assert accepted.status_code == 200, accepted.text
    assert accepted.get_json()["token_type"] == "DPoP"


def test_discovery_lists_dpop_algorithms(client):
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert "ES256" in metadata["dpop_signing_alg_values_supported"]
    assert "none" not in metadata["dpop_signing_alg_values_supported"]


class TestServerNonce:
    @pytest.fixture
    def app(self, make_app):
        return make_app(dpop={"require_nonce": True})

    def test_token_endpoint_hands_out_a_nonce(self, actions, public_rp, key, now):
        code, verifier, _ = actions.get_code(public_rp)
        form = code_form(public_rp, code, verifier)
        first = actions.client.post(
            "/token", data=form, headers={"DPoP": dpop_proof(key, "POST", TOKEN_URL, now)}
        )
        assert first.status_code == 400 and first.get_json()["error"] == "use_dpop_nonce"
        nonce = first.headers["DPoP-Nonce"]
        proof = dpop_proof(key, "POST", TOKEN_URL, now, nonce=nonce)
        second = actions.client.post("/token", data=form, headers={"DPoP": proof})
        assert second.status_code == 200, second.text
        token = second.get_json()["access_token"]

        bare = dpop_proof(key, "GET", USERINFO_URL, now, ath=ath(token))
        answer = userinfo(actions, token, bare)
        assert answer.status_code == 401
        assert 'error="use_dpop_nonce"' in answer.headers["WWW-Authenticate"]
        assert answer.headers["DPoP-Nonce"] == nonce
        good = dpop_proof(key, "GET", USERINFO_URL, now, ath=ath(token), nonce=nonce)
        assert userinfo(actions, token, good).status_code == 200

    def test_non_ascii_nonce_is_refused(self, actions, public_rp, key, now):
        code, verifier, _ = actions.get_code(public_rp)
        form = code_form(public_rp, code, verifier)
        proof = dpop_proof(key, "POST", TOKEN_URL, now, nonce="nönce")
        response = actions.client.post("/token", data=form, headers={"DPoP": proof})
        assert response.status_code == 400
        assert response.get_json()["error"] == "use_dpop_nonce"

    def test_stale_nonce_is_refused(self, actions, public_rp, key, now, clock):
        code, verifier, _ = actions.get_code(public_rp)
        form = code_form(public_rp, code, verifier)
        first = actions.client.post(
            "/token", data=form, headers={"DPoP": dpop_proof(key, "POST", TOKEN_URL, now)}
        )
        nonce = first.headers["DPoP-Nonce"]
        clock.advance(seconds=700)
        later = int(clock.now().timestamp())
        proof = dpop_proof(key, "POST", TOKEN_URL, later, nonce=nonce)
        response = actions.client.post("/token", data=form, headers={"DPoP": proof})
        assert response.get_json()["error"] == "use_dpop_nonce"


# -- RFC 9449 §10: the authorization code bound to the DPoP key ------------------------------


def test_dpop_jkt_binds_the_code_to_the_key(actions, public_rp, key, other_key, now):
    code, verifier, _ = actions.get_code(public_rp, dpop_jkt=key.thumbprint())
    form = code_form(public_rp, code, verifier)
    stolen = actions.client.post(
        "/token", data=form, headers={"DPoP": dpop_proof(other_key, "POST", TOKEN_URL, now)}
    )
    assert stolen.status_code == 400 and stolen.get_json()["error"] == "invalid_grant"
    assert actions.client.post("/token", data=form).get_json()["error"] == "invalid_grant"
    own = actions.client.post(
        "/token", data=form, headers={"DPoP": dpop_proof(key, "POST", TOKEN_URL, now)}
    )
    assert own.status_code == 200, own.text


def test_malformed_dpop_jkt_is_refused(actions, public_rp):
    params, _ = actions.authorize_params(public_rp, dpop_jkt="not a thumbprint")
    answer = actions.authorize(params)
    assert query_of(answer.headers["Location"])["error"] == "invalid_request"


def test_proof_at_par_binds_the_code(app, actions, public_rp, key, now):
    params, verifier = actions.authorize_params(public_rp)
    headers = {"DPoP": dpop_proof(key, "POST", f"{ISSUER}/par", now)}
    pushed = actions.client.post("/par", data=params, headers=headers)
    assert pushed.status_code == 201, pushed.text
    with app.app_context():
        (stored,) = db.session.query(PushedRequest).all()
        assert stored.parameters["dpop_jkt"] == key.thumbprint()
    answer = actions.authorize(
        {"client_id": public_rp, "request_uri": pushed.get_json()["request_uri"]}
    )
    code = query_of(answer.headers["Location"])["code"]
    form = code_form(public_rp, code, verifier)
    assert actions.client.post("/token", data=form).get_json()["error"] == "invalid_grant"
    headers = {"DPoP": dpop_proof(key, "POST", TOKEN_URL, now)}
    assert actions.client.post("/token", data=form, headers=headers).status_code == 200


def test_proof_at_par_must_match_dpop_jkt(app, actions, public_rp, key, other_key, now):
    params, _ = actions.authorize_params(public_rp, dpop_jkt=other_key.thumbprint())
    headers = {"DPoP": dpop_proof(key, "POST", f"{ISSUER}/par", now)}
    pushed = actions.client.post("/par", data=params, headers=headers)
    assert pushed.status_code == 400 and pushed.get_json()["error"] == "invalid_dpop_proof"
    with app.app_context():
        assert db.session.query(PushedRequest).count() == 0


def test_nonce_at_par_spends_no_client_assertion(make_app, key, now):
    """use_dpop_nonce comes before client authentication, so the same push can be resent."""
    from .helpers import Actions
    from .proofs import client_assertion, ec_key, jwks_of

    app = make_app(dpop={"require_nonce": True})
    actions = Actions(app, app.test_client())
    client_key = ec_key("client")
    client_id, _ = actions.create_client(
        first_party=True, token_endpoint_auth_method="private_key_jwt", jwks=jwks_of(client_key)
    )
    params, _ = actions.authorize_params(client_id)
    form = params | client_assertion(client_key, client_id, now)
    first = actions.client.post(
        "/par", data=form, headers={"DPoP": dpop_proof(key, "POST", f"{ISSUER}/par", now)}
    )
    assert first.status_code == 400 and first.get_json()["error"] == "use_dpop_nonce"
    proof = dpop_proof(key, "POST", f"{ISSUER}/par", now, nonce=first.headers["DPoP-Nonce"])
    again = actions.client.post("/par", data=form, headers={"DPoP": proof})
    assert again.status_code == 201, again.text
