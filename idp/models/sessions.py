"""Server-side SSO sessions, referenced from the browser by an opaque cookie."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, db
from .identity import Member


def new_sid() -> str:
    return secrets.token_urlsafe(24)


class SsoSession(db.Model):
    __tablename__ = "sso_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True, default=new_sid)
    # The cookie carries a random token; only its SHA-256 is stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    acr: Mapped[str] = mapped_column(String(16))
    amr: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    member: Mapped[Member] = relationship(lazy="joined")


class SessionClient(db.Model):
    """A client that received tokens from a session: whom to tell when the session ends."""

    __tablename__ = "session_clients"
    __table_args__ = (UniqueConstraint("session_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sso_sessions.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(
        ForeignKey("clients.client_id", ondelete="CASCADE"), index=True
    )
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
