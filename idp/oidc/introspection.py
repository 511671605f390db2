"""Token revocation (RFC 7009) and introspection (RFC 7662) for our two kinds of token."""

from __future__ import annotations

from authlib.oauth2.rfc7009 import RevocationEndpoint as BaseRevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as BaseIntrospectionEndpoint

from ..clock import utcnow
from ..db import db
from ..extensions import issuer
from ..models import RefreshToken, Token
from ..models.refresh import find_refresh_token, revoke_family
from .client_auth import TOKEN_ENDPOINT_AUTH_METHODS
from .tokens import is_active, issued_token

CONFIDENTIAL_METHODS = [m for m in TOKEN_ENDPOINT_AUTH_METHODS if m != "none"]


def find_any_token(token_string: str, hint: str | None) -> Token | RefreshToken | None:
    """RFC 7009 §2.1: try the hinted type first, then every other type."""
    lookups = [_access_token, find_refresh_token]
    if hint == "refresh_token":
        lookups.reverse()
    for lookup in lookups:
        found = lookup(token_string)
        if found is not None:
            return found
    return None


def _access_token(token_string: str) -> Token | None:
    found = issued_token(token_string)
    return found[0] if found is not None else None


def _refresh_active(item: RefreshToken) -> bool:
    return (
        item.revoked_at is None
        and item.rotated_at is None
        and item.expires_at > utcnow()
        and item.member.status == "active"
    )


class RevocationEndpoint(BaseRevocationEndpoint):
    # Public clients may revoke their own tokens (RFC 7009 §5), identified by client_id.
    CLIENT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        return find_any_token(token_string, token_type_hint)

    def revoke_token(self, token, request):
        now = utcnow()
        if isinstance(token, RefreshToken):
            # RFC 7009 §2.1: revoking a refresh token revokes its grant's access tokens too.
            revoke_family(token.family, now)
        elif token.revoked_at is None:
            token.revoked_at = now
        db.session.commit()


class IntrospectionEndpoint(BaseIntrospectionEndpoint):
    # RFC 7662 §2.1: the caller must authenticate; resource servers are confidential clients.
    CLIENT_AUTH_METHODS = CONFIDENTIAL_METHODS

    def query_token(self, token_string, token_type_hint):
        return find_any_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        # RFC 7662 §4: a token is described only to the client it was issued to (our access
        # tokens name no resource server in `aud` but the issuer itself); to anyone else it
        # is `active: false`, so no client learns another's subjects, scopes or sessions.
        return token.client_id == client.client_id

    def create_introspection_payload(self, token):
        if token is None:
            return {"active": False}
        if isinstance(token, RefreshToken):
            if not _refresh_active(token):
                return {"active": False}
            return _describe(token, token.expires_at, "refresh_token")
        if not is_active(token):
            return {"active": False}
        payload = _describe(token, token.expires_at, "DPoP" if token.jkt else "Bearer")
        if token.jkt:
            payload["cnf"] = {"jkt": token.jkt}  # RFC 9449 §6.2
        return payload | {"jti": token.jti, "aud": issuer()}


def _describe(token: Token | RefreshToken, expires_at, token_type: str) -> dict:
    issued_at = token.issued_at
    subject = token.member.subject if token.member is not None else token.client_id
    payload = {
        "active": True,
        "scope": token.scope,
        "client_id": token.client_id,
        "sub": subject,
        "iss": issuer(),
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
        "token_type": token_type,
    }
    if token.sid:
        payload["sid"] = token.sid
    return payload
