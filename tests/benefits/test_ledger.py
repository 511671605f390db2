"""The demo ledger is deterministic and follows the rates; balances and statements are sums
of its rows, and every yearly statement adds up to the rupiah."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from clients.benefits import ledger
from clients.benefits.db import db
from clients.benefits.models import Contribution, Development
from clients.benefits.seed import DEVELOPMENT_BP, MONTHS, RATES_BP, seed_demo_ledger

from .conftest import DEMO_NUMBER

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


def _ledger_rows(number: str) -> list[tuple]:
    contributions = db.session.scalars(
        select(Contribution)
        .where(Contribution.membership_number == number)
        .order_by(Contribution.id)
    )
    developments = db.session.scalars(
        select(Development).where(Development.membership_number == number).order_by(Development.id)
    )
    return [
        (c.month, c.program, c.employer_name, c.wage, c.employer_share, c.employee_share,
         c.due_date, c.paid_date) for c in contributions
    ] + [(d.year, d.program, d.rate_bp, d.amount) for d in developments]  # fmt: skip


@pytest.fixture
def ctx(benefits_app):
    with benefits_app.test_request_context():
        yield


def test_seed_is_deterministic_per_membership_number(ctx):
    seed_demo_ledger(DEMO_NUMBER, NOW)
    first = _ledger_rows(DEMO_NUMBER)
    seed_demo_ledger(DEMO_NUMBER, NOW)  # seeding again replaces, with the same rows
    assert _ledger_rows(DEMO_NUMBER) == first
    seed_demo_ledger("98765432109", NOW)
    assert _ledger_rows("98765432109") != first
    assert len(first) == MONTHS * 4 + 5 * 2  # 2021-2025 credited, 2026 still running


def test_seeded_contributions_follow_the_rates(ctx):
    seed_demo_ledger(DEMO_NUMBER, NOW)
    rows = db.session.scalars(select(Contribution)).all()
    assert Counter(r.program for r in rows) == {p: MONTHS for p in RATES_BP}
    months = sorted({r.month for r in rows})
    assert (months[0], months[-1]) == (date(2021, 3, 1), date(2026, 2, 1))
    by_month = {(r.month, r.program): r for r in rows}
    for row in rows:
        # The month's wage, read back from the JHT employee share (2 %, rounded to the rupiah).
        wage = by_month[row.month, "JHT"].employee_share * 10_000 / 200
        employer_bp, employee_bp = RATES_BP[row.program]
        slack = 5_000 + 50 * max(employer_bp, employee_bp)
        assert row.employer_share * 10_000 == pytest.approx(wage * employer_bp, abs=slack)
        assert row.employee_share * 10_000 == pytest.approx(wage * employee_bp, abs=slack)
        assert row.paid_date is None or row.paid_date <= date(2026, 3, 10)
        assert row.due_date == date(row.month.year + row.month.month // 12,
                                    row.month.month % 12 + 1, 15)  # fmt: skip
    # February 2026 is due on 15 March; on 10 March it may still be unpaid, never in the future.
    assert {r.status for r in rows} <= {"paid", "late", "unpaid"}
    assert "late" in {r.status for r in rows}


def test_development_is_the_rate_on_the_year_end_balance(ctx):
    seed_demo_ledger(DEMO_NUMBER, NOW)
    for item in db.session.scalars(select(Development)).all():
        before = ledger.balance(DEMO_NUMBER, item.program, before=date(item.year + 1, 1, 1))
        base = before.total - item.amount
        assert item.rate_bp == DEVELOPMENT_BP[item.program]
        assert item.amount == (base * item.rate_bp + 5_000) // 10_000


def test_every_statement_adds_up_and_chains(ctx):
    seed_demo_ledger(DEMO_NUMBER, NOW)
    years = ledger.years(DEMO_NUMBER)
    assert years == [2026, 2025, 2024, 2023, 2022, 2021]
    for program in ledger.SAVINGS:
        statements = [ledger.statement(DEMO_NUMBER, program, y) for y in sorted(years)]
        assert statements[0].opening == 0
        for item in statements:
            assert item.opening + item.contributions + item.development == item.closing
        for earlier, later in zip(statements, statements[1:], strict=False):
            assert earlier.closing == later.opening
        assert statements[-1].closing == ledger.balance(DEMO_NUMBER, program).total
        assert ledger.balance_history(DEMO_NUMBER, program)[-1][1] == statements[-1].closing


def test_coverage_lapses_after_the_grace_months(ctx):
    seed_demo_ledger(DEMO_NUMBER, NOW)
    cover = ledger.coverage(DEMO_NUMBER, "JKK", date(2026, 3, 10))
    assert cover.active and cover.last_paid_month >= date(2026, 1, 1)
    assert not ledger.coverage(DEMO_NUMBER, "JKK", date(2026, 7, 1)).active
    assert ledger.coverage("00000000000", "JKM", date(2026, 3, 10)) == ledger.Coverage(
        "JKM", None, False
    )
