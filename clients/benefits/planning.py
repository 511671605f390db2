"""Retirement planning arithmetic: pure functions on whole rupiah, no database, no clock.

JHT projection: each year twelve monthly contributions are added, then development at an
assumed yearly return on the year-end balance (as the ledger credits it on 31 December).

JP estimate, PP 45/2015 (Penyelenggaraan Program Jaminan Pensiun):
- Art. 17(2): monthly pension = 1 % × months of contribution / 12 × the average yearly wage
  over those months / 12 — that is 1 % per year of contribution of the average monthly wage;
  Art. 17(3): wages adjusted for inflation (here: taken at today's value, see `average_wage`).
- A monthly old-age pension needs 180 months (15 years) of contributions; with fewer the
  member receives contributions plus development at once instead.
- A minimum and a maximum monthly benefit (first set at Rp 300.000 and Rp 3.600.000) and a
  wage ceiling for contributions (first Rp 7.000.000), each adjusted every year by
  BPJS Ketenagakerjaan. The current figures go in [planning] of the config.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .money import share


@dataclass(frozen=True)
class PensionRules:
    accrual_bp: int  # 100 = 1 % per year of contribution
    min_months: int
    min_pension: int
    max_pension: int
    wage_cap: int


@dataclass(frozen=True)
class PensionEstimate:
    months: int
    average_wage: int
    formula: int  # before the minimum and maximum
    monthly: int | None  # None: too few months for a monthly pension (paid at once instead)


def project_jht(balance: int, monthly: int, years: int, yearly_return_bp: int) -> list[int]:
    """Year-end JHT balances for the next `years` years."""
    balances = []
    for _year in range(years):
        balance += 12 * monthly
        balance += share(balance, yearly_return_bp)
        balances.append(balance)
    return balances


def wage_from_contribution(total: int, rate_bp: int) -> int:
    """The wage a month's contribution was paid on: total / rate, rounded half up."""
    return (total * 10_000 + rate_bp // 2) // rate_bp


def average_wage(past_wages: list[int], future_months: int, current_wage: int, cap: int) -> int:
    """Average monthly wage over the whole contribution period, each month's wage capped at the
    ceiling; future months at today's wage, past wages at face value (no inflation indexing)."""
    wages = [min(wage, cap) for wage in past_wages] + [min(current_wage, cap)] * future_months
    if not wages:
        return 0
    return (2 * sum(wages) + len(wages)) // (2 * len(wages))


def jp_monthly_pension(months: int, average: int, rules: PensionRules) -> PensionEstimate:
    """PP 45/2015 Art. 17(2): accrual × months / 12 × average wage, within the min and max."""
    formula = (rules.accrual_bp * months * average + 60_000) // 120_000
    if months < rules.min_months:
        return PensionEstimate(months, average, formula, None)
    monthly = min(max(formula, rules.min_pension), rules.max_pension)
    return PensionEstimate(months, average, formula, monthly)


def age_on(birthdate: date, day: date) -> int:
    """Whole years of age on a day."""
    return day.year - birthdate.year - ((day.month, day.day) < (birthdate.month, birthdate.day))
