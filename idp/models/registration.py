"""Dynamic registration credentials and spent client assertions.

RFC 7591 §3 (initial access tokens), RFC 7523 §3 (a client assertion's jti is single use).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, update
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, db, spend_once


class InitialAccessToken(db.Model):
    """A bearer credential an operator hands a developer to register clients with."""

    __tablename__ = "initial_access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    uses_left: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


def spend_initial_access_token(token_hash: str, now: datetime) -> bool:
    """Use one of the token's registrations, atomically."""
    result = db.session.execute(
        update(InitialAccessToken)
        .where(
            InitialAccessToken.token_hash == token_hash,
            InitialAccessToken.uses_left > 0,
            InitialAccessToken.expires_at > now,
        )
        .values(uses_left=InitialAccessToken.uses_left - 1)
    )
    return result.rowcount == 1


class SpentAssertion(db.Model):
    """A client assertion's jti, kept until the assertion expires, so it is used once."""

    __tablename__ = "spent_assertions"
    __table_args__ = (UniqueConstraint("client_id", "jti_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("clients.client_id", ondelete="CASCADE"), index=True
    )
    jti_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def spend_assertion(client_id: str, jti_hash: str, expires_at: datetime, now: datetime) -> bool:
    """Record a jti; False if this client already used it (a replay)."""
    values = {"client_id": client_id, "jti_hash": jti_hash, "expires_at": expires_at}
    return spend_once(SpentAssertion, values, ["client_id", "jti_hash"], now)
