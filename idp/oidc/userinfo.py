"""UserInfo endpoint: OIDC Core §5.3 with bearer tokens per RFC 6750 §2."""

from __future__ import annotations

from flask import jsonify, request

from ..models.oauth import scope_list
from .claims import claims_for_scope
from .tokens import active_token

REALM = "userinfo"


def _challenge(status: int, error: str | None = None, description: str | None = None):
    # RFC 6750 §3: a request without a token gets a bare challenge, no error code.
    attributes = [f'realm="{REALM}"']
    if error:
        attributes += [f'error="{error}"', f'error_description="{description}"']
    body = {"error": error, "error_description": description} if error else {}
    response = jsonify(body)
    response.status_code = status
    response.headers["WWW-Authenticate"] = "Bearer " + ", ".join(attributes)
    response.headers["Cache-Control"] = "no-store"
    return response


def _presented_tokens() -> list[str]:
    """Bearer tokens from the header and the form body; other schemes count as none."""
    tokens = []
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        tokens.append(value.strip())
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        tokens.extend(request.form.getlist("access_token"))
    return tokens


def userinfo_response():
    tokens = _presented_tokens()
    if not tokens:
        # RFC 6750 §3.1: no credentials, or another scheme: a challenge without an error code.
        return _challenge(401)
    if not all(tokens):
        return _challenge(400, "invalid_request", "The bearer token is empty.")
    if len(tokens) > 1:
        # RFC 6750 §2: clients MUST NOT use more than one method to transmit the token.
        return _challenge(400, "invalid_request", "The access token was sent more than once.")
    token = active_token(tokens[0])
    if token is None or token.member is None:
        return _challenge(401, "invalid_token", "The access token is invalid or expired.")
    if "openid" not in scope_list(token.scope):
        return _challenge(403, "insufficient_scope", "The access token lacks the openid scope.")
    response = jsonify(claims_for_scope(token.member, token.scope))
    response.headers["Cache-Control"] = "no-store"
    return response
