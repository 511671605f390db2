"""Signing-key metadata, shared by every node: which key is next, active or retired."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, db

KEY_STATES = ("next", "active", "retired", "removed")


class SigningKey(db.Model):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    # False after an emergency retirement: the key is neither published nor trusted.
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a retired key may be pruned: every token it signed has expired, plus a margin.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
