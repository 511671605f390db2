"""Passkeys (WebAuthn credentials) and the challenges already answered, so each works once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, db, spend_once
from .identity import Member


class Passkey(db.Model):
    """One WebAuthn credential of a member (W3C WebAuthn Level 3 §7.1 step 27)."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    # The authenticator's credential id, base64url without padding (at most 1023 bytes).
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    # The COSE-encoded public key the authenticator gave at registration.
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    # The signature counter (32 bits unsigned); one that goes backwards is refused.
    sign_count: Mapped[int] = mapped_column(BigInteger)
    transports: Mapped[list] = mapped_column(JSON)  # "internal", "usb", "hybrid", ...
    name: Mapped[str] = mapped_column(String(64))  # chosen by the member
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship()


class SpentChallenge(db.Model):
    """A WebAuthn challenge already answered, kept until it would have expired anyway."""

    __tablename__ = "spent_webauthn_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def spend_challenge(challenge_hash: str, expires_at: datetime, now: datetime) -> bool:
    """Record an answered challenge; False if it was answered before (a replay)."""
    values = {"challenge_hash": challenge_hash, "expires_at": expires_at}
    return spend_once(SpentChallenge, values, ["challenge_hash"], now)
