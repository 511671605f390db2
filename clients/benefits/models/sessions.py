"""Browser sessions kept server-side, findable by the identity provider's sid and sub."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UtcDateTime, db


class BrowserSession(db.Model):
    __tablename__ = "browser_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # HMAC of the cookie value
    data: Mapped[dict] = mapped_column(JSON)
    subject: Mapped[str | None] = mapped_column(String(255), index=True)  # the IdP's sub
    idp_sid: Mapped[str | None] = mapped_column(String(255), index=True)  # the IdP's sid
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class SpentLogoutToken(db.Model):
    """A logout token's jti, kept until the token expires, so a replay is refused."""

    __tablename__ = "spent_logout_tokens"

    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
