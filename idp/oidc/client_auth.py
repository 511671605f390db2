"""Client authentication at the token, revocation and introspection endpoints.

RFC 6749 §2.3 (client_secret_basic, client_secret_post), OIDC Core §9 and RFC 7523 §2.2/§3
(private_key_jwt: a JWT signed with a key the client registered inline or at its jwks_uri),
RFC 7591 §2 (the method names; `none` for public clients).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from flask import current_app, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from ..clock import clock, utcnow
from ..db import db
from ..extensions import issuer
from ..hashing import secret_digest
from ..models import Client
from ..models.registration import spend_assertion
from . import outbound
from .profiles import assertion_signing_algs

TOKEN_ENDPOINT_AUTH_METHODS = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
]
# Asymmetric only: a shared-secret HMAC (client_secret_jwt) would need the secret in clear.
ASSERTION_SIGNING_ALGS = ["RS256", "PS256", "ES256"]
# RFC 7523 §3 item 4: jti is remembered until exp, so exp may not lie far ahead.
MAX_ASSERTION_LIFETIME = 300
LEEWAY = 60
MAX_KEYS = 10
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

JWKS_FETCH_TIMEOUT = 5.0
JWKS_MAX_BYTES = 64 * 1024
JWKS_CACHE_SECONDS = 300
# An unknown kid refetches the document, but not more often than this (a stranger can send one).
JWKS_MIN_REFETCH_SECONDS = 30


class JwksError(ValueError):
    """A client's key set is unusable; the message says why, for the client's developer."""


def _modulus_bits(n: object) -> int:
    if not isinstance(n, str):
        return 0
    try:
        return len(base64.urlsafe_b64decode(n + "=" * (-len(n) % 4)).lstrip(b"\0")) * 8
    except (binascii.Error, ValueError):
        return 0


def _check_public_key(key: object) -> None:
    if not isinstance(key, dict):
        raise JwksError("every key must be a JSON object")
    if PRIVATE_MEMBERS & key.keys():
        raise JwksError("the key set must hold public keys only (no private members)")
    if key.get("kty") == "RSA":
        # Also keeps joserfc's small-key SecurityWarning from firing on import.
        if _modulus_bits(key.get("n")) < 2048:
            raise JwksError("RSA keys must be at least 2048 bits")
    elif not (key.get("kty") == "EC" and key.get("crv") == "P-256"):
        raise JwksError("keys must be RSA (RS256, PS256) or EC P-256 (ES256)")
    if key.get("use", "sig") != "sig":
        raise JwksError("keys must be signing keys (use=sig)")


def public_signing_keys(jwks: object) -> KeySet:
    """Import a client's JWK Set (RFC 7517 §5): public RSA/P-256 signing keys only."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_KEYS:
        raise JwksError(f'a JWK Set is an object with "keys": 1 to {MAX_KEYS} keys')
    for key in keys:
        _check_public_key(key)
    if len(keys) > 1 and not all(isinstance(k.get("kid"), str) and k["kid"] for k in keys):
        raise JwksError("with more than one key, every key needs a kid")
    try:
        return KeySet.import_key_set({"keys": keys})
    except (JoseError, ValueError, TypeError) as error:
        raise JwksError("a key could not be read") from error


# One answer for every way a fetch fails, so the error tells nothing of what is behind the
# URL (a closed port, an open one, a refused address): no probing internal hosts through us.
UNUSABLE_JWKS_URI = "the jwks_uri did not give a usable key set"


def fetch_jwks(uri: str) -> KeySet:
    """GET a client's jwks_uri: outbound policy, short timeout, no redirects, size cap."""
    if not outbound.check_destination(uri):
        raise JwksError(UNUSABLE_JWKS_URI)
    fetch = urllib.request.Request(uri, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with outbound.opener().open(fetch, timeout=JWKS_FETCH_TIMEOUT) as response:
            body = response.read(JWKS_MAX_BYTES + 1)
        if len(body) > JWKS_MAX_BYTES:
            raise ValueError("too large")
        return public_signing_keys(json.loads(body))
    except (urllib.error.URLError, OSError, ValueError, JwksError) as error:
        raise JwksError(UNUSABLE_JWKS_URI) from error


class JwksCache:
    """Per-app cache of fetched client key sets, by URL, with a short lifetime."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[datetime, KeySet]] = {}

    def get(self, uri: str, kid: str | None) -> KeySet:
        now = utcnow()
        with self._lock:
            entry = self._entries.get(uri)
        if entry is not None:
            fetched_at, keys = entry
            age = now - fetched_at
            if age < timedelta(seconds=JWKS_CACHE_SECONDS) and (
                _has_kid(keys, kid) or age < timedelta(seconds=JWKS_MIN_REFETCH_SECONDS)
            ):
                return keys
        keys = fetch_jwks(uri)
        with self._lock:
            self._entries[uri] = (now, keys)
        return keys


def _has_kid(keys: KeySet, kid: str | None) -> bool:
    return kid is None or any(key.kid == kid for key in keys.keys)


def _jwks_cache() -> JwksCache:
    return current_app.extensions.setdefault("idp.client_jwks", JwksCache())


def client_key_set(client: Client, kid: str | None) -> KeySet:
    """The client's registered public keys, inline or fetched (and cached) from its jwks_uri."""
    if client.jwks_uri:
        return _jwks_cache().get(client.jwks_uri, kid)
    return public_signing_keys(client.jwks)


def _client_key(client: Client, token) -> Key:
    """The key named by the assertion's header, from the client's registered key set."""
    headers = token.headers()
    kid = headers.get("kid")
    try:
        keys = client_key_set(client, kid)
    except JwksError as error:
        raise InvalidClientError(description=f"Client keys: {error}") from error
    try:
        return keys.get_by_kid(kid, {"alg": headers.get("alg")})
    except JoseError as error:
        raise InvalidClientError(description="No registered key matches the assertion.") from error


class PrivateKeyJwt(JWTBearerClientAssertion):
    """private_key_jwt (OIDC Core §9): an asymmetrically signed, single-use client assertion."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self) -> None:
        super().__init__(leeway=LEEWAY)

    def __call__(self, query_client, oauth_request):
        try:
            return super().__call__(query_client, oauth_request)
        except InvalidClientError as error:
            # RFC 6749 §5.2 allows 401 for any invalid_client: answer as a failed secret does.
            error.status_code = 401
            raise

    def get_audiences(self) -> list[str]:
        # RFC 7523 §3 item 3: the issuer or the endpoint URL identifies us; the token
        # endpoint is also accepted at /revoke and /introspect, as client libraries send it.
        base = issuer()
        return list(dict.fromkeys([base, f"{base}/token", f"{base}{request.path}"]))

    def resolve_client_public_key(self, client: Client) -> Callable[..., Key]:
        # Checked before any key is fetched: only private_key_jwt clients have keys to use.
        if client.token_endpoint_auth_method != self.CLIENT_AUTH_METHOD:
            raise InvalidClientError(description="The client does not use private_key_jwt.")
        return partial(_client_key, client)

    def process_assertion_claims(self, assertion, resolve_key):
        # FAPI 2.0 §5.4.1: a profile's client signs with its algorithms only.
        algorithms = assertion_signing_algs(resolve_key.args[0], ASSERTION_SIGNING_ALGS)
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=algorithms)
        except (JoseError, ValueError) as error:
            raise InvalidClientError(description="The client assertion is not valid.") from error
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims) -> None:
        registry = jwt.JWTClaimsRegistry(
            now=clock().timestamp,
            leeway=self.leeway,
            iss={"essential": True},
            sub={"essential": True},
            aud={"essential": True, "values": self.get_audiences()},
            exp={"essential": True},
            jti={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            raise InvalidClientError(
                description=f"Client assertion: {error.description}"
            ) from error
        # RFC 7523 §3 items 1-2: iss and sub are both the client_id.
        if claims["iss"] != claims["sub"]:
            raise InvalidClientError(description="Client assertion: iss and sub must match.")
        if claims["exp"] > clock().timestamp() + MAX_ASSERTION_LIFETIME + self.leeway:
            raise InvalidClientError(
                description=f"Client assertion: exp is more than {MAX_ASSERTION_LIFETIME}s ahead."
            )
        if not self.validate_jti(claims, claims["jti"]):
            raise InvalidClientError(description="Client assertion: jti was already used.")

    def validate_jti(self, claims, jti) -> bool:
        # RFC 7523 §3 item 7: single use. Kept until the assertion could no longer pass the exp
        # check, and committed at once, so a failure later in the request cannot un-spend it.
        now = utcnow()
        until = datetime.fromtimestamp(int(claims["exp"]) + self.leeway, tz=now.tzinfo)
        spent = spend_assertion(claims["sub"], secret_digest(jti), until, now)
        db.session.commit()
        return spent


def init_client_auth(server) -> None:
    """Register private_key_jwt with the Authlib server (the other methods are built in)."""
    server.register_client_auth_method(PrivateKeyJwt.CLIENT_AUTH_METHOD, PrivateKeyJwt())
