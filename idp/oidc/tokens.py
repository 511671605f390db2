"""JWT access tokens per RFC 9068, recorded by jti so revocation can be honoured."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import insert

from ..clock import utcnow
from ..db import db
from ..extensions import issuer, keystore, settings
from ..keys import InvalidSignature
from ..models import Client, Member, Token
from ..models.oauth import find_token
from .dpop import token_jkt

ACCESS_TOKEN_TYP = "at+jwt"


class GrantContext(Protocol):
    """What an access token repeats of the sign-in behind it (a code or a refresh token)."""

    auth_time: datetime
    acr: str
    sid: str | None


def issue_access_token(
    client: Client,
    member: Member | None,
    scope: str,
    *,
    grant: GrantContext | None = None,
    code_id: int | None = None,
    refresh_family: str | None = None,
) -> dict:
    """Mint and record an access token; return the RFC 6749 §5.1 token response fields."""
    now = utcnow()
    lifetime = settings().tokens.access_token_lifetime
    jti = secrets.token_urlsafe(24)
    claims = {
        "iss": issuer(),
        "aud": issuer(),
        "client_id": client.client_id,
        "scope": scope,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + lifetime,
        "jti": jti,
        # RFC 9068 §2.2: with no resource owner, sub names the client itself.
        "sub": member.subject if member else client.client_id,
    }
    jkt = token_jkt()
    if jkt is not None:
        claims["cnf"] = {"jkt": jkt}  # RFC 9449 §6.1: bound to the DPoP key
    if grant is not None:
        claims |= {"auth_time": int(grant.auth_time.timestamp()), "acr": grant.acr}
        if grant.sid:
            claims["sid"] = grant.sid
    alg = client.access_token_alg or settings().tokens.access_token_alg
    token = keystore().sign(claims, alg=alg, typ=ACCESS_TOKEN_TYP)
    # Signed first, then one INSERT without the ORM's unit of work: a writer on SQLite holds
    # the database lock from its first write to its commit, so no CPU work in between.
    db.session.execute(
        insert(Token).values(
            jti=jti,
            client_id=client.client_id,
            member_id=member.id if member else None,
            code_id=code_id,
            sid=grant.sid if grant else None,
            refresh_family=refresh_family,
            jkt=jkt,
            scope=scope,
            issued_at=now,
            expires_at=now + timedelta(seconds=lifetime),
        )
    )
    token_type = "DPoP" if jkt is not None else "Bearer"
    return {"access_token": token, "token_type": token_type, "expires_in": lifetime, "scope": scope}


def issued_token(token_string: str) -> tuple[Token, dict] | None:
    """The stored record and claims of an access token we signed, live or not."""
    if not token_string or len(token_string) > 8192:
        return None
    try:
        header, claims = keystore().verify(token_string)
    except InvalidSignature:
        return None
    # RFC 9068 §4: the typ header keeps ID tokens from being replayed as access tokens.
    if header.get("typ", "").lower() not in (ACCESS_TOKEN_TYP, "application/at+jwt"):
        return None
    if claims.get("iss") != issuer() or not isinstance(claims.get("exp"), int):
        return None
    stored = find_token(str(claims.get("jti", "")))
    return (stored, claims) if stored is not None else None


def is_active(token: Token) -> bool:
    if token.revoked_at is not None or token.expires_at <= utcnow():
        return False
    return token.member is None or token.member.status == "active"


def active_token(token_string: str) -> Token | None:
    """Return the stored token behind a presented access token if it is valid right now."""
    found = issued_token(token_string)
    return found[0] if found is not None and is_active(found[0]) else None
