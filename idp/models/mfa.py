"""Second factors (TOTP app, email code, SMS code) and single-use recovery codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, db
from .passkeys import Passkey

FACTOR_KINDS = ("totp", "email", "sms")


class SecondFactor(db.Model):
    __tablename__ = "second_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    # One confirmed factor per kind; a new authenticator waits unconfirmed beside the old one.
    kind: Mapped[str] = mapped_column(String(16))
    # TOTP only: the shared secret, encrypted with [mfa] secret_keys (Fernet).
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    # TOTP only: the last time step accepted; a code of that step or earlier is a replay.
    last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # None while enrolment waits for the first correct code.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(db.Model):
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    # Keyed digest of the normalised code; the code itself is shown once and never stored.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def has_confirmed_factor(member_id: int) -> bool:
    """Whether the member has finished adding any second factor (a passkey included)."""
    confirmed = select(SecondFactor.id).where(
        SecondFactor.member_id == member_id, SecondFactor.confirmed_at.is_not(None)
    )
    passkey = select(Passkey.id).where(Passkey.member_id == member_id)
    return db.session.scalar(confirmed.union_all(passkey).limit(1)) is not None
