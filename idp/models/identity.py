"""Members: the membership registry record and, once activated, the online account."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, db


def new_subject() -> str:
    """Return a fresh opaque `sub`: random, never derived from membership number or NIK."""
    return secrets.token_urlsafe(24)


class Member(db.Model):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), unique=True, default=new_subject)
    # Membership number, NIK and birthdate are empty only for an identity that is not a member
    # (an employer administrator invited by email, issue 20).
    membership_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    # NIK is kept only as a keyed hash for matching plus its last four digits for display.
    nik_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    nik_last4: Mapped[str | None] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(String(200))
    birthdate: Mapped[date | None] = mapped_column(Date)
    employer_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(20))
    phone_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[dict | None] = mapped_column(JSON)
    locale: Mapped[str] = mapped_column(String(8), default="id")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def has_online_access(self) -> bool:
        return self.password_hash is not None and self.status == "active"

    @property
    def nik_masked(self) -> str | None:
        return "*" * 12 + self.nik_last4 if self.nik_last4 else None

    @property
    def is_member(self) -> bool:
        """A registered worker (not only an identity such as an employer administrator)."""
        return self.membership_number is not None

    @property
    def sign_in_identifier(self) -> str:
        """The identifier lockout counts against: the membership number, else the email."""
        return self.membership_number or self.email or ""

    def get_user_id(self) -> int:
        return self.id


def find_by_identifier(identifier: str) -> Member | None:
    """Look a member up by normalised email or membership number."""
    column = Member.email if "@" in identifier else Member.membership_number
    return db.session.scalar(select(Member).where(column == identifier))


class AuditEvent(db.Model):
    """Security-relevant event; `detail` never holds passwords, tokens, codes or NIK."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    event: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict | None] = mapped_column(JSON)
