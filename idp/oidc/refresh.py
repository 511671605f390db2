"""The refresh token grant: rotation on every use, reuse detection, narrowing only.

RFC 6749 §6; RFC 9700 §4.14.2 (a rotated refresh token presented again revokes its family);
OIDC Core §11 (offline_access) and §12.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from authlib.oauth2.rfc6749 import InvalidGrantError, grants

from .. import audit
from ..clock import utcnow
from ..db import db
from ..extensions import settings
from ..hashing import secret_digest
from ..models import AuthorizationCode, Client, RefreshToken
from ..models.oauth import scope_list
from ..models.refresh import find_refresh_token, mark_rotated, revoke_family
from .client_auth import TOKEN_ENDPOINT_AUTH_METHODS
from .dpop import token_jkt
from .tokens import issue_access_token

OFFLINE_ACCESS = "offline_access"


def refresh_wanted(client: Client, scope: str) -> bool:
    """offline_access asked for and granted, or a confidential client where configured."""
    if not client.check_grant_type("refresh_token"):
        return False
    if OFFLINE_ACCESS in scope_list(scope):
        return True
    return not client.is_public and settings().tokens.refresh_for_confidential_clients


def issue_refresh_token(
    code: AuthorizationCode, scope: str, client: Client | None = None
) -> tuple[str, str]:
    """Start a family at the code exchange; return (refresh token, family)."""
    now = utcnow()
    conf = settings().tokens
    family = secrets.token_urlsafe(24)
    # offline_access outlives the sign-in; any other refresh token ends with its session.
    sid = None if OFFLINE_ACCESS in scope_list(scope) else code.sid
    token = _store(
        family=family,
        client_id=code.client_id,
        member_id=code.member_id,
        sid=sid,
        scope=scope,
        auth_time=code.auth_time,
        acr=code.acr,
        amr=code.amr,
        # RFC 9449 §5: a public client's refresh token is bound to its DPoP key.
        jkt=token_jkt() if client is not None and client.is_public else None,
        family_expires_at=now + timedelta(seconds=conf.refresh_token_lifetime),
    )
    return token, family


def rotate_refresh_token(spent: RefreshToken) -> str:
    """The next link of the chain: same family, scope and absolute limit."""
    return _store(
        family=spent.family,
        client_id=spent.client_id,
        member_id=spent.member_id,
        sid=spent.sid,
        scope=spent.scope,
        auth_time=spent.auth_time,
        acr=spent.acr,
        amr=spent.amr,
        jkt=spent.jkt,
        family_expires_at=spent.family_expires_at,
    )


def _store(*, family_expires_at, **fields) -> str:
    now = utcnow()
    idle = now + timedelta(seconds=settings().tokens.refresh_token_idle_lifetime)
    token = secrets.token_urlsafe(32)
    db.session.add(
        RefreshToken(
            token_hash=secret_digest(token),
            issued_at=now,
            expires_at=min(idle, family_expires_at),
            family_expires_at=family_expires_at,
            **fields,
        )
    )
    return token


def _reuse_detected(item: RefreshToken) -> None:
    revoked = revoke_family(item.family, utcnow())
    audit.record(
        "refresh_token_reused",
        member_id=item.member_id,
        client_id=item.client_id,
        detail={"revoked_tokens": revoked},
    )
    db.session.commit()


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        item = find_refresh_token(refresh_token)
        if item is None or item.revoked_at is not None:
            return None
        if item.rotated_at is not None:
            _reuse_detected(item)
            return None
        if item.expires_at <= utcnow() or item.member.status != "active":
            return None
        if item.jkt is not None and item.jkt != token_jkt():
            # RFC 9449 §5.0: only a proof from the bound key refreshes it.
            return None
        return item

    def authenticate_user(self, refresh_token):
        member = refresh_token.member
        return member if member.status == "active" else None

    def create_token_response(self):
        # Spend the token before minting, atomically: of two racing refreshes one wins and
        # the other is a reuse of a rotated token, which revokes the family.
        item = self.request.refresh_token
        if not mark_rotated(item, utcnow()):
            db.session.rollback()
            _reuse_detected(item)
            raise InvalidGrantError("The refresh token was already used.")
        response = super().create_token_response()
        db.session.commit()
        return response

    def generate_token(self, user=None, scope=None, include_refresh_token=True, **kwargs):
        spent = self.request.refresh_token
        token = issue_access_token(
            self.request.client, user, scope, grant=spent, refresh_family=spent.family
        )
        token["refresh_token"] = rotate_refresh_token(spent)
        return token

    def revoke_old_credential(self, refresh_token):
        # Already marked rotated in create_token_response; kept to detect reuse.
        pass
