"""A deterministic demo ledger: five years of monthly contributions for one member.

Seeded by the membership number, so a member gets the same ledger for the same date. Shares of
the wage in basis points: JHT 5.7 % (3.7 employer + 2 employee), JP 3 % (2 + 1), JKK 0.24 %
and JKM 0.3 % (employer only). Development is credited each completed year at a fixed rate on
the year-end balance. Every amount is whole rupiah, computed in integer arithmetic.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select

from .clock import MEMBER_TIMEZONE
from .db import db
from .ledger import balance
from .ledger_import import HEADER, due_date, import_csv
from .models import Claim, ClaimEvent, Contribution, Development
from .money import share

RATES_BP = {"JHT": (370, 200), "JP": (200, 100), "JKK": (24, 0), "JKM": (30, 0)}
DEVELOPMENT_BP = {"JHT": 550, "JP": 400}
MONTHS = 60
EMPLOYERS = ("PT Maju Bersama", "PT Sinar Jaya")
DEMO_MEMBERSHIP_NUMBER = "12345678901"


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def seed_demo_ledger(number: str, now: datetime) -> int:
    """Replace a member's contributions and development; return how many months were seeded.

    The contributions go through the ledger import, as an agency's CSV export would."""
    rng = random.Random(f"benefits-demo:{number}")  # noqa: S311 - demo data, not a secret
    today = now.astimezone(MEMBER_TIMEZONE).date()
    for table in (Contribution, Development):
        db.session.execute(delete(table).where(table.membership_number == number))
    first = add_months(date(today.year, today.month, 1), -MONTHS)
    wage = rng.randrange(4_500_000, 9_000_000, 25_000)
    switch = rng.randrange(18, 42)  # the month the member moved to the second employer
    export = io.StringIO()
    writer = csv.writer(export)
    writer.writerow(HEADER)
    for index in range(MONTHS):
        month = add_months(first, index)
        if month.month == 1 and index:
            wage = wage * (100 + rng.randrange(3, 9)) // 100 // 1_000 * 1_000
        due = due_date(month)
        late = rng.random() < 0.1
        paid = due + timedelta(days=rng.randrange(3, 20) if late else -rng.randrange(1, 10))
        for program, (employer_bp, employee_bp) in RATES_BP.items():
            writer.writerow((number, month.isoformat()[:7], program, share(wage, employer_bp),
                             share(wage, employee_bp), EMPLOYERS[index >= switch],
                             paid.isoformat() if paid <= today else ""))  # fmt: skip
    # The same path as `benefits ledger import`: the demo is fed like a real payment export.
    export.seek(0)
    import_csv(export)
    for year in range(first.year, today.year):
        for program, rate_bp in DEVELOPMENT_BP.items():
            base = balance(number, program, before=date(year + 1, 1, 1)).total
            db.session.add(
                Development(
                    membership_number=number,
                    year=year,
                    program=program,
                    rate_bp=rate_bp,
                    amount=share(base, rate_bp),
                    credited_on=date(year, 12, 31),
                )
            )
            db.session.flush()
    _seed_past_claim(number, now)
    return MONTHS


def _seed_past_claim(number: str, now: datetime) -> None:
    """One settled work-accident claim, so the claims history has something to show."""
    if db.session.scalar(select(Claim.id).where(Claim.membership_number == number).limit(1)):
        return
    filed = now - timedelta(days=400)
    claim = Claim(
        membership_number=number,
        program="JKK",
        status="paid_out",
        filed_at=filed,
        incident_date=(filed - timedelta(days=3)).astimezone(MEMBER_TIMEZONE).date(),
        description="Terpeleset di gudang saat memindahkan barang; pergelangan tangan terkilir.",
    )
    for status, days in (("submitted", 0), ("in_review", 2), ("approved", 9), ("paid_out", 12)):
        claim.events.append(ClaimEvent(status=status, at=filed + timedelta(days=days)))
    db.session.add(claim)
