"""The contribution ledger, keyed by the membership_number claim. Totals are never stored."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import db

# JHT old-age savings, JP pension, JKK work accident, JKM death.
PROGRAMS = ("JHT", "JP", "JKK", "JKM")


class Contribution(db.Model):
    """One program's contribution for one month: shares in whole rupiah."""

    __tablename__ = "contributions"
    __table_args__ = (UniqueConstraint("membership_number", "month", "program"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_number: Mapped[str] = mapped_column(String(32), index=True)
    month: Mapped[date] = mapped_column(Date)  # the first day of the month it pays for
    program: Mapped[str] = mapped_column(String(8))
    employer_name: Mapped[str] = mapped_column(String(200))
    wage: Mapped[int | None] = mapped_column(Integer)  # unknown for imported rows
    employer_share: Mapped[int] = mapped_column(Integer)
    employee_share: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    paid_date: Mapped[date | None] = mapped_column(Date)

    @property
    def total(self) -> int:
        return self.employer_share + self.employee_share

    @property
    def status(self) -> str:
        """paid, late (paid after the due date) or unpaid."""
        if self.paid_date is None:
            return "unpaid"
        return "late" if self.paid_date > self.due_date else "paid"


class Development(db.Model):
    """Yearly development (interest) credited to a savings program on 31 December."""

    __tablename__ = "developments"
    __table_args__ = (UniqueConstraint("membership_number", "year", "program"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_number: Mapped[str] = mapped_column(String(32), index=True)
    year: Mapped[int] = mapped_column(Integer)
    program: Mapped[str] = mapped_column(String(8))
    rate_bp: Mapped[int] = mapped_column(Integer)  # basis points: 550 = 5.50 %
    amount: Mapped[int] = mapped_column(Integer)
    credited_on: Mapped[date] = mapped_column(Date)
