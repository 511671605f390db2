"""Client authentication at /token: secrets, public clients and private_key_jwt (RFC 7523 §3).

Assertions are signed with PyJWT, a library independent of the server's joserfc.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
import requests
from joserfc.jwk import ECKey, RSAKey

from .helpers import REDIRECT_URI

ISSUER = "http://127.0.0.1:5000"
TOKEN_URL = f"{ISSUER}/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(scope="module")
def keys() -> dict:
    """Client keys, generated once (RSA generation is slow): two RSA and one P-256."""
    return {
        "rsa": RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}),
        "other": RSAKey.generate_key(2048, parameters={"kid": "rsa-2"}),
        "ec": ECKey.generate_key("P-256", parameters={"kid": "ec-1"}),
    }


def jwks_of(*keys) -> dict:
    return {"keys": [key.as_dict(private=False) for key in keys]}


def sign(key, claims: dict, alg: str = "RS256", kid: str | None = None) -> str:
    pem = key.as_pem(private=True)
    return jwt.encode(claims, pem, algorithm=alg, headers={"kid": kid or key.kid})


def claims_for(client_id: str, now: int, **changes) -> dict:
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": TOKEN_URL,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 60,
    }
    return {k: v for k, v in (claims | changes).items() if v is not None}


def _error(response) -> str:
    assert response.headers["Content-Type"].startswith("application/json")
    return response.get_json()["error"]


@pytest.fixture
def member(actions):
    member = actions.create_member()
    actions.sign_in(member["email"])
    return member


@pytest.fixture
def now(clock) -> int:
    return int(clock.now().timestamp())


@pytest.fixture
def jwt_client(actions, keys, member) -> str:
    client_id, secret = actions.create_client(
        first_party=True, token_endpoint_auth_method="private_key_jwt", jwks=jwks_of(keys["rsa"])
    )
    assert secret is None
    return client_id


def redeem_with_assertion(actions, client_id: str, assertion: str, **extra):
    code, verifier, _ = actions.get_code(client_id)
    return actions.redeem(
        client_id,
        None,  # no secret: client_id in the body, and the assertion authenticates
        code,
        verifier,
        client_assertion_type=ASSERTION_TYPE,
        client_assertion=assertion,
        **extra,
    )


# -- client secrets and public clients (RFC 6749 §2.3.1, §2.1) ------------------------------


def test_client_secret_basic(actions, member):
    client_id, secret = actions.create_client(first_party=True)
    code, verifier, _ = actions.get_code(client_id)
    response = actions.redeem(client_id, secret, code, verifier)  # HTTP Basic
    assert response.status_code == 200 and "id_token" in response.get_json()


def test_client_secret_post(actions, member):
    client_id, secret = actions.create_client(
        first_party=True, token_endpoint_auth_method="client_secret_post"
    )
    code, verifier, _ = actions.get_code(client_id)
    # secret None: client_id in the body, no Authorization header
    response = actions.redeem(client_id, None, code, verifier, client_secret=secret)
    assert response.status_code == 200 and "id_token" in response.get_json()


def test_public_client_uses_none_with_pkce(actions, member):
    client_id, secret = actions.create_client(public=True, first_party=True)
    assert secret is None
    code, verifier, _ = actions.get_code(client_id)
    response = actions.redeem(client_id, None, code, verifier)  # client_id only, no secret
    assert response.status_code == 200


def test_confidential_client_cannot_use_none(actions, member):
    client_id, _ = actions.create_client(first_party=True)
    code, verifier, _ = actions.get_code(client_id)
    response = actions.redeem(client_id, None, code, verifier)
    assert response.status_code == 401 and _error(response) == "invalid_client"


# -- private_key_jwt (OIDC Core §9, RFC 7523 §2.2 and §3) -----------------------------------


@pytest.mark.parametrize("aud", [TOKEN_URL, ISSUER, [ISSUER, "https://elsewhere.example"]])
def test_private_key_jwt_with_inline_jwks(actions, keys, jwt_client, now, aud):
    assertion = sign(keys["rsa"], claims_for(jwt_client, now, aud=aud))
    response = redeem_with_assertion(actions, jwt_client, assertion)
    assert response.status_code == 200, response.text
    assert "id_token" in response.get_json()


@pytest.mark.parametrize(("kind", "alg"), [("rsa", "PS256"), ("ec", "ES256")])
def test_private_key_jwt_other_algorithms(actions, keys, member, now, kind, alg):
    client_id, _ = actions.create_client(
        first_party=True, token_endpoint_auth_method="private_key_jwt", jwks=jwks_of(keys[kind])
    )
    assertion = sign(keys[kind], claims_for(client_id, now), alg=alg)
    assert redeem_with_assertion(actions, client_id, assertion).status_code == 200


def test_replayed_assertion_is_refused(actions, keys, jwt_client, now):
    assertion = sign(keys["rsa"], claims_for(jwt_client, now))
    assert redeem_with_assertion(actions, jwt_client, assertion).status_code == 200
    replay = redeem_with_assertion(actions, jwt_client, assertion)
    assert replay.status_code == 401 and _error(replay) == "invalid_client"
    assert "jti" in replay.get_json()["error_description"]


def test_jti_is_single_use_even_when_the_grant_fails(actions, client, keys, jwt_client, now):
    assertion = sign(keys["rsa"], claims_for(jwt_client, now))
    form = {
        "grant_type": "authorization_code",
        "code": "no-such-code",
        "redirect_uri": REDIRECT_URI,
    }
    base = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    assert _error(client.post("/token", data=form | base)) == "invalid_grant"
    assert _error(redeem_with_assertion(actions, jwt_client, assertion)) == "invalid_client"


# (claims changed, signing key, reason given); exp and iat are seconds from now.
BAD_ASSERTIONS = {
    "wrong-aud": ({"aud": "https://other-idp.example/token"}, "rsa", "'aud'"),
    "other-endpoint-aud": ({"aud": f"{ISSUER}/userinfo"}, "rsa", "'aud'"),
    "no-aud": ({"aud": None}, "rsa", "'aud'"),
    "expired": ({"exp": -120, "iat": -180}, "rsa", "expired"),  # beyond the 60 s leeway
    "exp-too-far": ({"exp": 3600}, "rsa", "300s"),  # its jti would have to be kept an hour
    "no-exp": ({"exp": None}, "rsa", "'exp'"),
    "no-jti": ({"jti": None}, "rsa", "'jti'"),
    "iss-not-sub": ({"iss": "someone-else"}, "rsa", "iss and sub"),
    "other-key": ({}, "other", "not valid"),  # a key the client never registered, same kid
}


@pytest.mark.parametrize(
    ("change", "signer", "reason"), BAD_ASSERTIONS.values(), ids=BAD_ASSERTIONS
)
def test_bad_assertions_are_refused(actions, keys, jwt_client, now, change, signer, reason):
    timed = ("exp", "iat")
    changes = {k: now + v if k in timed and v is not None else v for k, v in change.items()}
    assertion = sign(keys[signer], claims_for(jwt_client, now, **changes), kid="rsa-1")
    response = redeem_with_assertion(actions, jwt_client, assertion)
    assert response.status_code == 401, response.text
    assert _error(response) == "invalid_client"
    assert reason in response.get_json()["error_description"]
    assert "WWW-Authenticate" in response.headers


def test_symmetric_and_unsigned_assertions_are_refused(actions, jwt_client, now):
    hs256 = jwt.encode(claims_for(jwt_client, now), "a-shared-secret-of-32-bytes-long!", "HS256")
    unsigned = jwt.encode(claims_for(jwt_client, now), None, algorithm="none")
    for assertion in (hs256, unsigned, "not-a-jwt"):
        response = redeem_with_assertion(actions, jwt_client, assertion)
        assert response.status_code == 401 and _error(response) == "invalid_client"


def test_secret_client_cannot_send_an_assertion(actions, keys, member, now):
    client_id, _ = actions.create_client(first_party=True)
    assertion = sign(keys["rsa"], claims_for(client_id, now))
    response = redeem_with_assertion(actions, client_id, assertion)
    assert response.status_code == 401 and _error(response) == "invalid_client"


def test_jwt_client_cannot_skip_its_assertion(actions, jwt_client):
    code, verifier, _ = actions.get_code(jwt_client)
    response = actions.redeem(jwt_client, None, code, verifier)  # method none
    assert response.status_code == 401 and _error(response) == "invalid_client"
    code, verifier, _ = actions.get_code(jwt_client)
    guessed = actions.redeem(jwt_client, "guessed-secret", code, verifier)  # client_secret_basic
    assert guessed.status_code == 401 and _error(guessed) == "invalid_client"


def test_assertion_for_unknown_client(actions, client, keys, member, now):
    form = {
        "grant_type": "authorization_code",
        "code": "x",
        "redirect_uri": REDIRECT_URI,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": sign(keys["rsa"], claims_for("nobody", now)),
    }
    response = client.post("/token", data=form)
    assert response.status_code == 401 and _error(response) == "invalid_client"


@pytest.mark.parametrize(
    ("path", "aud", "status"),
    [
        ("/revoke", f"{ISSUER}/revoke", 200),
        ("/revoke", TOKEN_URL, 200),  # client libraries send the token endpoint everywhere
        ("/revoke", ISSUER, 200),
        ("/introspect", f"{ISSUER}/introspect", 200),
        ("/introspect", f"{ISSUER}/revoke", 401),  # another endpoint's audience
    ],
)
def test_assertions_at_revocation_and_introspection(
    client, keys, jwt_client, now, path, aud, status
):
    form = {
        "token": "not-a-token",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": sign(keys["rsa"], claims_for(jwt_client, now, aud=aud)),
    }
    response = client.post(path, data=form)
    assert response.status_code == status, response.text


# -- keys fetched from the client's jwks_uri -------------------------------------------------


class JwksServer:
    """The client's own HTTP server on loopback, serving its JWK Set and counting requests."""

    def __init__(self, jwks: dict) -> None:
        self.jwks = jwks
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                owner.requests += 1
                body = json.dumps(owner.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def jwks_server(keys):
    server = JwksServer(jwks_of(keys["rsa"]))
    yield server
    server.stop()


def test_private_key_jwt_with_jwks_uri(actions, keys, member, now, jwks_server):
    client_id, _ = actions.create_client(
        first_party=True, token_endpoint_auth_method="private_key_jwt", jwks_uri=jwks_server.url
    )
    for _ in range(2):
        assertion = sign(keys["rsa"], claims_for(client_id, now))
        assert redeem_with_assertion(actions, client_id, assertion).status_code == 200
    assert jwks_server.requests == 1  # cached


def test_jwks_uri_is_refetched_for_a_new_kid(actions, clock, keys, member, now, jwks_server):
    client_id, _ = actions.create_client(
        first_party=True, token_endpoint_auth_method="private_key_jwt", jwks_uri=jwks_server.url
    )
    assertion = sign(keys["rsa"], claims_for(client_id, now))
    assert redeem_with_assertion(actions, client_id, assertion).status_code == 200
    jwks_server.jwks = jwks_of(keys["rsa"], keys["other"])  # the client rotates in a new key

    # Right after a fetch an unknown kid is refused without refetching (no fetch amplification).
    early = sign(keys["other"], claims_for(client_id, now))
    assert _error(redeem_with_assertion(actions, client_id, early)) == "invalid_client"
    assert jwks_server.requests == 1

    clock.advance(seconds=31)
    later = int(clock.now().timestamp())
    rotated = sign(keys["other"], claims_for(client_id, later))
    assert redeem_with_assertion(actions, client_id, rotated).status_code == 200
    assert jwks_server.requests == 2


def test_unreachable_jwks_uri_is_invalid_client(actions, keys, member, now, jwks_server):
    client_id, _ = actions.create_client(
        first_party=True, token_endpoint_auth_method="private_key_jwt", jwks_uri=jwks_server.url
    )
    jwks_server.stop()
    assertion = sign(keys["rsa"], claims_for(client_id, now))
    response = redeem_with_assertion(actions, client_id, assertion)
    assert response.status_code == 401 and _error(response) == "invalid_client"


# -- discovery --------------------------------------------------------------------------------


def test_discovery_lists_exactly_the_methods(client):
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert metadata["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    ]
    assert metadata["token_endpoint_auth_signing_alg_values_supported"] == [
        "RS256",
        "PS256",
        "ES256",
    ]


# -- the integration guide's example, run as written ------------------------------------------


def token_with_private_key_jwt(issuer: str, client_id: str, private_key_pem: bytes, kid: str):
    """docs/integration.md: a service client gets an access token with private_key_jwt."""
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": client_id,
            "sub": client_id,
            "aud": f"{issuer}/token",
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + 60,
        },
        private_key_pem,
        algorithm="RS256",
        headers={"kid": kid},
    )
    response = requests.post(
        f"{issuer}/token",
        data={
            "grant_type": "client_credentials",
            "scope": "membership",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def test_integration_guide_example(live_server, keys):
    client_id, _ = live_server.create_client(
        redirect_uris=[],
        scope="membership",
        grant_types=["client_credentials"],
        token_endpoint_auth_method="private_key_jwt",
        jwks=jwks_of(keys["rsa"]),
    )
    pem = keys["rsa"].as_pem(private=True)
    token = token_with_private_key_jwt(live_server.url, client_id, pem, "rsa-1")
    assert token["token_type"] == "Bearer" and token["access_token"]
