"""The claims flows' proof of possession: private_key_jwt, pushed requests and DPoP.

With `[oidc] key_file` set the app holds a key instead of a client secret, and every sign-in
(the claims flows' step-up included) is done as the FAPI 2.0 Security Profile asks:
- the app authenticates with a JWT signed by its key (OIDC Core §9, RFC 7523), through
  Authlib's `PrivateKeyJWT`;
- the authorization request goes to the identity provider over the back channel (PAR,
  RFC 9126) and the browser carries only a `request_uri`;
- tokens are bound to a DPoP key (RFC 9449): each call to the identity provider carries a
  proof made with joserfc, and the server's `DPoP-Nonce` is used when it asks for one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign
from joserfc import jwt
from joserfc.jwk import ECKey
from requests.adapters import HTTPAdapter

CLIENT_KEY_ALG = "ES256"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class KeyFileError(Exception):
    """The configured key file is missing or not a private P-256 key; the message says which."""


# -- the app's own key (private_key_jwt) ---------------------------------------------------


def generate_key_file(path: Path) -> None:
    """Write a new private P-256 JWK, readable by its owner only, named by its thumbprint."""
    key = ECKey.generate_key("P-256")
    document = key.as_dict(private=True) | {"kid": key.thumbprint(), "use": "sig"}
    document["alg"] = CLIENT_KEY_ALG
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(document, handle)


def load_key_file(path: Path) -> ECKey:
    try:
        document = json.loads(path.read_text())
        key = ECKey.import_key(document)
    except FileNotFoundError as error:
        raise KeyFileError(f"{path}: no such file (run `benefits init`)") from error
    except (ValueError, TypeError) as error:
        raise KeyFileError(f"{path}: not a JWK") from error
    if not key.is_private or document.get("crv") != "P-256":
        raise KeyFileError(f"{path}: not a private P-256 key")
    return key


def public_jwks(key: ECKey) -> dict:
    """The JWK Set to register at the identity provider (`idp clients create --jwks`)."""
    public = key.as_dict(private=False) | {"kid": key.kid, "use": "sig", "alg": CLIENT_KEY_ALG}
    return {"keys": [public]}


class ShortLivedPrivateKeyJWT(PrivateKeyJWT):
    """Authlib's private_key_jwt, with the key's kid and a 60-second assertion (Authlib's
    default lives an hour, more than identity providers accept: RFC 7523 §3 item 4)."""

    alg = CLIENT_KEY_ALG

    def sign(self, auth, token_endpoint):
        key = auth.client_secret
        now = int(time.time())
        claims = {"jti": str(uuid.uuid4()), "iat": now, "exp": now + 60}
        return private_key_jwt_sign(
            key,
            auth.client_id,
            token_endpoint,
            alg=self.alg,
            claims=claims,
            header={"kid": key.kid},
        )


def client_assertion(key: ECKey, client_id: str, audience: str) -> dict:
    """A single-use client assertion's form fields (RFC 7523 §2.2), for the PAR endpoint."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 60,
    }
    header = {"alg": CLIENT_KEY_ALG, "kid": key.kid}
    return {
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": jwt.encode(header, claims, key),
    }


def push_authorization_request(
    session: requests.Session, endpoint: str, params: dict, assertion: dict, timeout: float
) -> str:
    """RFC 9126 §2: send the request over the back channel; return its request_uri.

    Through a DPoP session, the proof also binds the code to our DPoP key (RFC 9449 §10.1).
    """
    response = session.post(endpoint, data=params | assertion, timeout=timeout)
    if response.status_code != 201:
        raise PushRefused(response)
    return response.json()["request_uri"]


class PushRefused(OAuthError):
    """The identity provider refused the pushed request (RFC 9126 §2.3): its error code."""

    def __init__(self, response: requests.Response) -> None:
        try:
            error = str(response.json().get("error", "unknown"))
        except ValueError:
            error = f"http_{response.status_code}"
        super().__init__(error=error)


# -- DPoP proofs (RFC 9449 §4) --------------------------------------------------------------


def _b64_sha256(value: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(value.encode()).digest()).rstrip(b"=").decode()


class DpopKey:
    """This process's DPoP key and the last nonce the identity provider handed out."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256")
        self._lock = threading.Lock()
        self.nonce: str | None = None

    def proof(self, method: str, url: str, access_token: str | None = None) -> str:
        parts = urlsplit(url)
        claims = {
            "jti": str(uuid.uuid4()),
            "htm": method,
            "htu": urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),  # §4.2
            "iat": int(time.time()),
        }
        if access_token is not None:
            claims["ath"] = _b64_sha256(access_token)
        with self._lock:
            if self.nonce is not None:
                claims["nonce"] = self.nonce
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.as_dict(private=False)}
        return jwt.encode(header, claims, self.key)

    def remember_nonce(self, nonce: str) -> None:
        with self._lock:
            self.nonce = nonce


def _asks_for_nonce(response: requests.Response) -> bool:
    if "DPoP-Nonce" not in response.headers or response.status_code not in (400, 401):
        return False
    challenge = response.headers.get("WWW-Authenticate", "")
    return "use_dpop_nonce" in challenge or b'"use_dpop_nonce"' in (response.content or b"")


class DpopAdapter(HTTPAdapter):
    """Sign every request to the identity provider with a fresh DPoP proof (§4, §7.1);
    when it asks for a nonce (§8), remember it and send once more."""

    def __init__(self, dpop: DpopKey) -> None:
        super().__init__()
        self.dpop = dpop

    def _sign(self, request: requests.PreparedRequest) -> None:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        bound = token if scheme.lower() == "dpop" and token else None
        request.headers["DPoP"] = self.dpop.proof(request.method or "GET", request.url or "", bound)

    def send(self, request, *args, **kwargs):
        self._sign(request)
        response = super().send(request, *args, **kwargs)
        if "DPoP-Nonce" in response.headers:
            self.dpop.remember_nonce(response.headers["DPoP-Nonce"])
        if _asks_for_nonce(response):
            self._sign(request)
            response = super().send(request, *args, **kwargs)
        return response


def mount_dpop(session: requests.Session, issuer: str, dpop: DpopKey) -> requests.Session:
    """Let every call of `session` to the identity provider carry a DPoP proof."""
    session.mount(issuer.rstrip("/") + "/", DpopAdapter(dpop))
    return session
