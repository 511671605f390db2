"""Benefit claims a member files, and every status change with its time."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UtcDateTime, db


class Claim(db.Model):
    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_number: Mapped[str] = mapped_column(String(32), index=True)
    program: Mapped[str] = mapped_column(String(8))  # JHT or JKK
    status: Mapped[str] = mapped_column(String(16))
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(String(32))  # JHT
    bank_account: Mapped[str | None] = mapped_column(String(16))  # JHT
    incident_date: Mapped[date | None] = mapped_column(Date)  # JKK
    description: Mapped[str | None] = mapped_column(Text)  # JKK
    events: Mapped[list[ClaimEvent]] = relationship(
        back_populates="claim", order_by="ClaimEvent.id", cascade="all, delete-orphan"
    )

    @property
    def masked_bank_account(self) -> str:
        return "•" * (len(self.bank_account) - 4) + self.bank_account[-4:]


class ClaimEvent(db.Model):
    __tablename__ = "claim_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    claim: Mapped[Claim] = relationship(back_populates="events")
