"""One-time proofs: signed links (email verification, reset) and SMS codes; single use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, db
from .identity import Member


class ActionToken(db.Model):
    __tablename__ = "action_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    # Only the SHA-256 of the random nonce inside the signed link is stored.
    # For an SMS code: "<salt>$<keyed digest of salt and code>".
    nonce_hash: Mapped[str] = mapped_column(String(128), unique=True)
    # What the proof confirms: the email address or phone number being verified.
    target: Mapped[str | None] = mapped_column(String(320))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(lazy="joined")


def use_once(token: ActionToken, now: datetime) -> bool:
    """Mark a live token used, atomically: of two racing clicks exactly one wins."""
    result = db.session.execute(
        update(ActionToken)
        .where(
            ActionToken.id == token.id,
            ActionToken.used_at.is_(None),
            ActionToken.expires_at > now,
        )
        .values(used_at=now)
    )
    return result.rowcount == 1


def revoke_unused(member_id: int, purpose: str, now: datetime) -> None:
    """A newer link (or a password change) kills the older ones."""
    db.session.execute(
        update(ActionToken)
        .where(
            ActionToken.member_id == member_id,
            ActionToken.purpose == purpose,
            ActionToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
