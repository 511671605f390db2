"""DPoP proofs of possession (RFC 9449), checked at /token and at /userinfo.

A proof is a JWT signed with the client's key and carrying its public half: it names the
request (`htm`, `htu`), is fresh (`iat`), used once (`jti`, remembered in the shared database
so every node refuses a replay) and, at a resource, names the access token (`ath`). Server
nonces (§8) are an HMAC of a time window under the secret key, so any node can check another's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import g, request
from joserfc import jwt
from joserfc.errors import JoseError

from ..clock import clock, utcnow
from ..db import db
from ..extensions import issuer, settings
from ..models.pushed import spend_proof
from .client_auth import JwksError, public_signing_keys

DPOP_SIGNING_ALGS = ["ES256", "PS256", "RS256"]
PROOF_TYP = "dpop+jwt"
MAX_PROOF_BYTES = 8192
LEEWAY = 5


class InvalidDpopProofError(OAuth2Error):
    """RFC 9449 §5.2: the proof at the token endpoint is missing something or wrong."""

    error = "invalid_dpop_proof"
    status_code = 400


class UseDpopNonceError(OAuth2Error):
    """RFC 9449 §8: the proof must carry the nonce this answer hands out."""

    error = "use_dpop_nonce"
    status_code = 400

    def get_headers(self):
        return [*super().get_headers(), ("DPoP-Nonce", current_nonce())]


def b64url_sha256(value: str) -> str:
    digest = hashlib.sha256(value.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# -- Server nonces (§8): stateless, shared by every node through the secret key ------------


def _nonce_for(window: int) -> str:
    key = settings().server.secret_key.encode()
    mac = hmac.new(key, f"dpop-nonce:{window}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def _window() -> int:
    return int(clock().timestamp()) // settings().dpop.nonce_lifetime


def current_nonce() -> str:
    return _nonce_for(_window())


def nonce_is_valid(nonce: object) -> bool:
    """This window's nonce or the previous one's (a nonce lives one to two windows)."""
    if not isinstance(nonce, str) or not nonce.isascii():  # compare_digest takes ASCII only
        return False
    window = _window()
    return any(hmac.compare_digest(nonce, _nonce_for(w)) for w in (window, window - 1))


# -- Proofs ---------------------------------------------------------------------------------


def _header(proof: str) -> dict:
    try:
        segment = proof.split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidDpopProofError("The DPoP proof is not a JWT.") from error
    if not isinstance(header, dict):
        raise InvalidDpopProofError("The DPoP proof is not a JWT.")
    return header


def _same_url(htu: object, expected: str) -> bool:
    # §4.3 item 9: compared without query and fragment, scheme and host case-insensitively.
    if not isinstance(htu, str):
        return False
    a, b = urlsplit(htu), urlsplit(expected)
    return (a.scheme.lower(), a.netloc.lower(), a.path) == (
        b.scheme.lower(),
        b.netloc.lower(),
        b.path,
    )


def verify_proof(proof: str, *, access_token: str | None = None) -> str:
    """Check the proof of this request (§4.3); spend its jti; return the key's thumbprint."""
    if not proof or len(proof) > MAX_PROOF_BYTES or proof.count(".") != 2:
        raise InvalidDpopProofError("The DPoP proof is not a JWT.")
    header = _header(proof)
    if header.get("typ") != PROOF_TYP:
        raise InvalidDpopProofError("The DPoP proof typ must be dpop+jwt.")
    alg = header.get("alg")
    if alg not in DPOP_SIGNING_ALGS:
        raise InvalidDpopProofError(f"The DPoP proof alg must be one of {DPOP_SIGNING_ALGS}.")
    try:
        key = public_signing_keys({"keys": [header.get("jwk")]}).keys[0]
    except JwksError as error:
        raise InvalidDpopProofError(f"The DPoP proof jwk: {error}.") from error
    try:
        claims = jwt.decode(proof, key, algorithms=[alg]).claims
    except (JoseError, ValueError) as error:
        raise InvalidDpopProofError("The DPoP proof signature does not verify.") from error
    _check_claims(claims, access_token)
    conf = settings().dpop
    if conf.require_nonce and not nonce_is_valid(claims.get("nonce")):
        raise UseDpopNonceError("A DPoP nonce is required; use the one in DPoP-Nonce.")
    # §11.1: single use, on every node; kept while the iat could still pass the window.
    now = utcnow()
    until = now + timedelta(seconds=2 * conf.proof_max_age + LEEWAY)
    if not spend_proof(b64url_sha256(claims["jti"]), until, now):
        db.session.rollback()
        raise InvalidDpopProofError("The DPoP proof was already used.")
    db.session.commit()
    return key.thumbprint()


def _check_claims(claims: dict, access_token: str | None) -> None:
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 16 <= len(jti) <= 256:
        raise InvalidDpopProofError("The DPoP proof needs a jti of 16 to 256 characters.")
    if claims.get("htm") != request.method:
        raise InvalidDpopProofError("The DPoP proof htm does not match the request method.")
    if not _same_url(claims.get("htu"), f"{issuer()}{request.path}"):
        raise InvalidDpopProofError("The DPoP proof htu does not match the request URL.")
    iat = claims.get("iat")
    max_age = settings().dpop.proof_max_age
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise InvalidDpopProofError("The DPoP proof needs an iat.")
    if abs(clock().timestamp() - iat) > max_age + LEEWAY:
        raise InvalidDpopProofError(f"The DPoP proof iat must be within {max_age}s of now.")
    if access_token is not None:
        ath = claims.get("ath")
        expected = b64url_sha256(access_token)
        if not (isinstance(ath, str) and ath.isascii() and hmac.compare_digest(ath, expected)):
            raise InvalidDpopProofError("The DPoP proof ath does not match the access token.")


def request_proof() -> str | None:
    """The DPoP header of this request: None if absent; refused if sent twice (§4.3 item 1)."""
    proofs = request.headers.getlist("DPoP")
    if len(proofs) > 1:
        raise InvalidDpopProofError("Send one DPoP header.")
    return proofs[0] if proofs else None


# -- The token and PAR endpoints -----------------------------------------------------------


def check_request_proof() -> None:
    """Verify the proof of a /token or /par request, if any, before the client is
    authenticated (a use_dpop_nonce answer then spends no client assertion); its key then
    binds what is issued."""
    proof = request_proof()
    g.dpop_jkt = verify_proof(proof) if proof is not None else None


def token_jkt() -> str | None:
    """The thumbprint of the key this request proved (None: no proof, a Bearer token)."""
    return g.get("dpop_jkt")
