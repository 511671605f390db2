"""Client-side JWTs for PAR, JAR, DPoP and private_key_jwt tests, signed with PyJWT.

PyJWT is independent of the server's joserfc, so a test cannot pass by sharing its bugs.
"""

from __future__ import annotations

import base64
import hashlib
import uuid

import jwt
from joserfc.jwk import ECKey

ISSUER = "http://127.0.0.1:5000"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def ec_key(kid: str = "ec-1") -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid})


def jwks_of(*keys) -> dict:
    return {"keys": [key.as_dict(private=False) for key in keys]}


def sign(key, claims: dict, *, alg: str = "ES256", headers: dict | None = None) -> str:
    return jwt.encode(
        claims, key.as_pem(private=True), algorithm=alg, headers={"kid": key.kid} | (headers or {})
    )


def client_assertion(key, client_id: str, now: int, *, alg: str = "ES256", aud=ISSUER) -> dict:
    """private_key_jwt form fields (RFC 7523 §2.2)."""
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 60,
    }
    return {
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": sign(key, claims, alg=alg),
    }


def request_object(key, rp_id: str, now: int, params: dict, **changes) -> str:
    """A signed authorization request (RFC 9101 §4)."""
    claims = {"iss": rp_id, "aud": ISSUER, "exp": now + 300, "nbf": now, "iat": now}
    claims = {k: v for k, v in (claims | params | changes).items() if v is not None}
    return sign(key, claims)


def ath(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def dpop_proof(key, method: str, url: str, now: int, **claims) -> str:
    """A DPoP proof (RFC 9449 §4.2) carrying the key's public half."""
    body = {"jti": str(uuid.uuid4()), "htm": method, "htu": url, "iat": now} | claims
    body = {k: v for k, v in body.items() if v is not None}
    header = {"typ": "dpop+jwt", "jwk": key.as_dict(private=False)}
    return jwt.encode(body, key.as_pem(private=True), algorithm="ES256", headers=header)


def thumbprint(key) -> str:
    return key.thumbprint()
