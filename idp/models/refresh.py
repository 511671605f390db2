"""Refresh tokens: opaque, stored hashed, rotated on every use, revoked by family.

RFC 6749 §6; RFC 9700 §4.14 (rotation and reuse detection).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, db
from ..hashing import secret_digest
from .identity import Member
from .oauth import Token


class RefreshToken(db.Model):
    """One link of a rotation chain; every link of one grant shares its `family`."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("clients.client_id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    sid: Mapped[str | None] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(Text)
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    acr: Mapped[str] = mapped_column(String(16))
    amr: Mapped[list] = mapped_column(JSON)
    # RFC 9449 §5: a public client's refresh token is bound to its DPoP key.
    jkt: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The sooner of the idle limit from this link and the family's absolute limit.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    family_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(lazy="joined")

    def check_client(self, client) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope


def find_refresh_token(token: str) -> RefreshToken | None:
    if not token or len(token) > 256:
        return None
    return db.session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == secret_digest(token))
    )


def mark_rotated(item: RefreshToken, now: datetime) -> bool:
    """Spend a refresh token, atomically: of two racing refreshes exactly one wins."""
    result = db.session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == item.id,
            RefreshToken.rotated_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(rotated_at=now)
    )
    return result.rowcount == 1


def _revoke(now: datetime, refresh_tokens, access_tokens) -> int:
    """Revoke the live refresh and access tokens matching each condition."""
    result = db.session.execute(
        update(RefreshToken)
        .where(refresh_tokens, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.execute(
        update(Token).where(access_tokens, Token.revoked_at.is_(None)).values(revoked_at=now)
    )
    return result.rowcount


def revoke_family(family: str, now: datetime) -> int:
    """Revoke every refresh token of a grant and the access tokens minted from it."""
    return _revoke(now, RefreshToken.family == family, Token.refresh_family == family)


def revoke_code_grant(code_id: int, now: datetime) -> int:
    """RFC 9700 §4.14, RFC 6749 §4.1.2: a replayed code revokes every token issued from it,
    the refresh tokens of its grant and the access tokens they minted included."""
    families = db.session.scalars(
        select(Token.refresh_family)
        .where(Token.code_id == code_id, Token.refresh_family.is_not(None))
        .distinct()
    ).all()
    revoked = db.session.execute(
        update(Token)
        .where(Token.code_id == code_id, Token.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
    for family in families:
        revoked += revoke_family(family, now)
    return revoked


def revoke_session_tokens(sid: str, now: datetime) -> None:
    """An ended SSO session takes its refresh tokens and access tokens with it."""
    _revoke(now, RefreshToken.sid == sid, Token.sid == sid)


def revoke_member_tokens(member_id: int, now: datetime) -> None:
    """A new password or an operator's revocation ends every grant, offline ones too."""
    _revoke(now, RefreshToken.member_id == member_id, Token.member_id == member_id)
