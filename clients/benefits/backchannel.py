"""Back-channel logout receiver: OpenID Connect Back-Channel Logout 1.0 §2.5–2.8.

The identity provider POSTs `logout_token`, a JWT signed with its ID-token keys; we validate it
like an ID token plus the logout rules, refuse a replayed jti, and end the sessions it names.
"""

from __future__ import annotations

from datetime import UTC, datetime

import requests
from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from .clock import utcnow
from .db import db
from .models import SpentLogoutToken
from .oidc import idp
from .security import csrf_exempt
from .sessions import end_member_sessions

EVENT = "http://schemas.openid.net/event/backchannel-logout"
LEEWAY = 60  # seconds of clock skew allowed on iat and exp
bp = Blueprint("backchannel", __name__)


class LogoutTokenError(Exception):
    """The logout token fails validation; the message says which rule."""


def _decode(token: str) -> jwt.Token:
    """§2.6 steps 2-3: a signature by the identity provider's keys, in an advertised alg."""
    metadata = idp().load_server_metadata()
    algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    try:
        return jwt.decode(token, KeySet.import_key_set(idp().fetch_jwk_set()), algorithms)
    except InvalidKeyIdError:  # a key published since we last fetched the JWKS
        return jwt.decode(token, KeySet.import_key_set(idp().fetch_jwk_set(force=True)), algorithms)


def validate_logout_token(token: str) -> dict:
    """Return the claims of a valid logout token, or raise LogoutTokenError."""
    conf = current_app.extensions["benefits.settings"].oidc
    try:
        decoded = _decode(token)
        # §2.6 step 4: iss, aud, iat and exp as for an ID token; jti for the replay check.
        jwt.JWTClaimsRegistry(
            now=int(utcnow().timestamp()),
            leeway=LEEWAY,
            iss={"essential": True, "value": conf.issuer},
            aud={"essential": True, "value": conf.client_id},
            iat={"essential": True},
            exp={"essential": True},
            jti={"essential": True},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as error:
        raise LogoutTokenError(f"invalid logout token: {error}") from error
    claims = decoded.claims
    # §2.4: explicit typing keeps an ID token or access token from passing as a logout token.
    if decoded.header.get("typ") != "logout+jwt":
        raise LogoutTokenError("typ must be logout+jwt")
    if not (isinstance(claims.get("sub"), str) or isinstance(claims.get("sid"), str)):
        raise LogoutTokenError("a sub or sid claim is required")  # §2.6 step 5
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(EVENT), dict):
        raise LogoutTokenError("events must hold the back-channel logout event")  # step 6
    if "nonce" in claims:
        raise LogoutTokenError("a logout token must not carry a nonce")  # step 7
    return claims


def spend_jti(claims: dict) -> None:
    """§2.6 step 8: each logout token works once; its jti is kept until it expires."""
    now = utcnow()
    db.session.execute(delete(SpentLogoutToken).where(SpentLogoutToken.expires_at <= now))
    expires_at = datetime.fromtimestamp(claims["exp"] + LEEWAY, UTC)
    db.session.add(SpentLogoutToken(jti=claims["jti"], expires_at=expires_at))
    try:
        db.session.flush()
    except IntegrityError as error:
        raise LogoutTokenError("this logout token was already used") from error


def _answer(body: dict, status: int) -> ResponseReturnValue:
    response = jsonify(body) if body else current_app.response_class(status=status)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"  # §2.8
    return response


@bp.post("/auth/backchannel-logout")
@csrf_exempt  # no browser sends this: the identity provider does, with no cookie
def backchannel_logout() -> ResponseReturnValue:
    try:
        claims = validate_logout_token(request.form.get("logout_token", ""))
        spend_jti(claims)
    except LogoutTokenError as error:
        db.session.rollback()
        return _answer({"error": "invalid_request", "error_description": str(error)}, 400)
    except requests.RequestException:
        db.session.rollback()
        unreachable = "the identity provider's keys are unreachable"
        return _answer({"error": "temporarily_unavailable", "error_description": unreachable}, 400)
    ended = end_member_sessions(sub=claims.get("sub"), sid=claims.get("sid"))
    db.session.commit()
    current_app.logger.info("back-channel logout ended %d session(s)", ended)
    return _answer({}, 200)
