"""Signing keys, shared by every node: state, and the private JWK sealed with a KEK."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
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
    # Security invariant 6: the private JWK as a JWE sealed with a KEK (idp/kek.py); cleared
    # when the key is removed. kek_id names the KEK that sealed it, for `idp keys rewrap`.
    private_jwk: Mapped[str | None] = mapped_column(Text)
    kek_id: Mapped[str | None] = mapped_column(String(16))
