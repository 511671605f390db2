"""Balances, coverage and statements, each computed from the ledger rows when asked.

Only paid contributions count. A contribution belongs to the month it pays for; development is
credited on 31 December. Savings programs (JHT, JP) have balances; JKK and JKM give coverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from .db import db
from .models import Contribution, Development

SAVINGS = ("JHT", "JP")
COVERAGE = ("JKK", "JKM")
COVERAGE_GRACE_MONTHS = 3  # coverage lapses when the last paid month is further back


@dataclass(frozen=True)
class Balance:
    program: str
    contributions: int
    development: int

    @property
    def total(self) -> int:
        return self.contributions + self.development


@dataclass(frozen=True)
class Coverage:
    program: str
    last_paid_month: date | None
    active: bool


@dataclass(frozen=True)
class Statement:
    """One savings program over one year; `closing` is summed from the ledger on its own."""

    program: str
    year: int
    opening: int
    contributions: int
    development: int
    closing: int


def _contributions(number: str, program: str, start: date | None, end: date) -> int:
    query = select(
        func.coalesce(func.sum(Contribution.employer_share + Contribution.employee_share), 0)
    ).where(
        Contribution.membership_number == number,
        Contribution.program == program,
        Contribution.paid_date.is_not(None),
        Contribution.month < end,
    )
    if start is not None:
        query = query.where(Contribution.month >= start)
    return db.session.scalar(query)


def _development(number: str, program: str, start: date | None, end: date) -> int:
    query = select(func.coalesce(func.sum(Development.amount), 0)).where(
        Development.membership_number == number,
        Development.program == program,
        Development.credited_on < end,
    )
    if start is not None:
        query = query.where(Development.credited_on >= start)
    return db.session.scalar(query)


def balance(number: str, program: str, *, before: date = date.max) -> Balance:
    """A savings program's balance from everything booked before a date (default: all)."""
    return Balance(
        program,
        _contributions(number, program, None, before),
        _development(number, program, None, before),
    )


def coverage(number: str, program: str, today: date) -> Coverage:
    last = db.session.scalar(
        select(func.max(Contribution.month)).where(
            Contribution.membership_number == number,
            Contribution.program == program,
            Contribution.paid_date.is_not(None),
        )
    )
    months_behind = (today.year - last.year) * 12 + today.month - last.month if last else None
    return Coverage(
        program, last, months_behind is not None and months_behind <= COVERAGE_GRACE_MONTHS
    )


def statement(number: str, program: str, year: int) -> Statement:
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    return Statement(
        program=program,
        year=year,
        opening=balance(number, program, before=start).total,
        contributions=_contributions(number, program, start, end),
        development=_development(number, program, start, end),
        closing=balance(number, program, before=end).total,
    )


def years(number: str) -> list[int]:
    """The years this member has contributions in, newest first."""
    months = db.session.scalars(
        select(Contribution.month).where(Contribution.membership_number == number).distinct()
    )
    return sorted({m.year for m in months}, reverse=True)


def contributions(number: str, year: int) -> list[Contribution]:
    """A year's contributions, month by month, programs in their usual order."""
    rows = db.session.scalars(
        select(Contribution).where(
            Contribution.membership_number == number,
            Contribution.month >= date(year, 1, 1),
            Contribution.month < date(year + 1, 1, 1),
        )
    )
    order = {"JHT": 0, "JP": 1, "JKK": 2, "JKM": 3}
    return sorted(rows, key=lambda r: (r.month, order.get(r.program, 9)))


def balance_history(number: str, program: str) -> list[tuple[date, int]]:
    """Month by month, the balance at each month's end: the points of the balance chart."""
    rows = db.session.execute(
        select(
            Contribution.month,
            Contribution.employer_share + Contribution.employee_share,
            Contribution.paid_date,
        )  # fmt: skip
        .where(Contribution.membership_number == number, Contribution.program == program)
        .order_by(Contribution.month)
    ).all()
    credited = dict(
        db.session.execute(
            select(Development.year, Development.amount).where(
                Development.membership_number == number, Development.program == program
            )
        ).all()
    )
    points, total = [], 0
    for month, amount, paid_date in rows:
        total += amount if paid_date is not None else 0
        total += credited.get(month.year, 0) if month.month == 12 else 0
        points.append((month, total))
    return points


def paid_totals(number: str, program: str) -> list[int]:
    """Each paid month's total for a program, oldest first (planning reads wages from them)."""
    rows = db.session.scalars(
        select(Contribution.employer_share + Contribution.employee_share)
        .where(
            Contribution.membership_number == number,
            Contribution.program == program,
            Contribution.paid_date.is_not(None),
        )
        .order_by(Contribution.month)
    )
    return list(rows)
