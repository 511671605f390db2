"""Benefit claims, their supporting documents, and every status change with who and when."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UtcDateTime, db


class Claim(db.Model):
    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The membership the claim is about: the filer's own, or the deceased's (JKM, JP survivors).
    membership_number: Mapped[str] = mapped_column(String(32), index=True)
    program: Mapped[str] = mapped_column(String(8))  # JHT, JP, JKK or JKM
    status: Mapped[str] = mapped_column(String(16), index=True)
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Who filed it (the identity provider's sub), and how to tell them about changes.
    filed_by: Mapped[str | None] = mapped_column(String(255), index=True)
    filer_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    locale: Mapped[str | None] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(32))  # JHT reason, JP benefit kind
    bank_account: Mapped[str | None] = mapped_column(String(16))  # JHT, JP, JKM
    incident_date: Mapped[date | None] = mapped_column(Date)  # JKK
    description: Mapped[str | None] = mapped_column(Text)  # JKK
    kinship: Mapped[str | None] = mapped_column(String(16))  # heir to the member: JKM, JP
    date_of_death: Mapped[date | None] = mapped_column(Date)  # JKM, JP survivors
    events: Mapped[list[ClaimEvent]] = relationship(
        back_populates="claim", order_by="ClaimEvent.id", cascade="all, delete-orphan"
    )
    documents: Mapped[list[ClaimDocument]] = relationship(
        back_populates="claim", order_by="ClaimDocument.id", cascade="all, delete-orphan"
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
    actor_sub: Mapped[str | None] = mapped_column(String(255))  # None: recorded by the system
    actor_name: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)  # the reason given for a rejection
    claim: Mapped[Claim] = relationship(back_populates="events")


class ClaimDocument(db.Model):
    """A supporting document: the bytes live in the documents dir under a random name."""

    __tablename__ = "claim_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claim: Mapped[Claim] = relationship(back_populates="documents")
