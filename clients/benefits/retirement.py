"""A member's retirement plan: their ledger and the planning settings fed to the pure
functions of `planning`, for the /planning page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from . import ledger
from .config import PlanningSettings
from .money import share
from .planning import (
    PensionEstimate,
    PensionRules,
    age_on,
    average_wage,
    jp_monthly_pension,
    project_jht,
    wage_from_contribution,
)

AGES = (15, 70)
MAX_EXTRA = 100_000_000


@dataclass
class PlanForm:
    age: int | None
    retirement_age: int
    extra: int
    values: dict[str, str]
    errors: dict[str, str]
    age_known: bool


@dataclass(frozen=True)
class Plan:
    age: int
    retirement_age: int
    jht_now: int
    monthly: int
    extra: int
    wage: int
    ages: list[int]
    base: list[int]
    with_extra: list[int]
    pension: PensionEstimate
    months_so_far: int

    @property
    def rows(self) -> list[tuple[int, int, int]]:
        return list(zip(self.ages, self.base, self.with_extra, strict=True))


def _whole_number(text: str) -> int | None:
    text = text.strip().replace(".", "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


def check_form(args: Mapping[str, str], birthdate: str | None, today: date,
               conf: PlanningSettings) -> PlanForm:  # fmt: skip
    """Read the planning inputs; age comes from the birthdate claim when the member has one."""
    values = {key: args.get(key, "") for key in ("age", "retirement_age", "extra")}
    errors: dict[str, str] = {}
    age = None
    try:
        age = age_on(date.fromisoformat(birthdate or ""), today)
        age_known = True
    except ValueError:
        age_known = False
        if values["age"]:
            age = _whole_number(values["age"])
            if age is None or not AGES[0] <= age <= AGES[1]:
                errors["age"] = _("Enter your age in years, %(min)d to %(max)d.",
                                  min=AGES[0], max=AGES[1])  # fmt: skip
    retirement_age = conf.pension_age
    if values["retirement_age"]:
        chosen = _whole_number(values["retirement_age"])
        if chosen is None or not AGES[0] <= chosen <= AGES[1]:
            errors["retirement_age"] = _("Enter a retirement age of %(min)d to %(max)d.",
                                         min=AGES[0], max=AGES[1])  # fmt: skip
        else:
            retirement_age = chosen
    extra = 0
    if values["extra"]:
        amount = _whole_number(values["extra"])
        if amount is None or amount > MAX_EXTRA:
            errors["extra"] = _("Enter an amount in whole rupiah, for example 250000.")
        else:
            extra = amount
    if age is not None and "retirement_age" not in errors and retirement_age < age:
        errors["retirement_age"] = _("Choose a retirement age no lower than your age.")
    return PlanForm(age, retirement_age, extra, values, errors, age_known)


def plan_for(number: str, form: PlanForm, conf: PlanningSettings) -> Plan | None:
    """The member's projection, or None without an age or without any paid JHT month."""
    jht_months = ledger.paid_totals(number, "JHT")
    if form.age is None or not jht_months:
        return None
    jp_months = ledger.paid_totals(number, "JP")
    wage = wage_from_contribution(jht_months[-1], conf.jht_rate_bp)
    monthly = share(wage, conf.jht_rate_bp)
    years = form.retirement_age - form.age
    jht_now = ledger.balance(number, "JHT").total
    past_wages = [wage_from_contribution(total, conf.jp_rate_bp) for total in jp_months]
    future_months = years * 12
    rules = PensionRules(conf.jp_accrual_bp, conf.jp_min_months, conf.jp_min_pension,
                         conf.jp_max_pension, conf.jp_wage_cap)  # fmt: skip
    average = average_wage(past_wages, future_months, wage, conf.jp_wage_cap)
    return Plan(
        age=form.age,
        retirement_age=form.retirement_age,
        jht_now=jht_now,
        monthly=monthly,
        extra=form.extra,
        wage=wage,
        ages=[form.age + i for i in range(years + 1)],
        base=[jht_now, *project_jht(jht_now, monthly, years, conf.yearly_return_bp)],
        with_extra=[
            jht_now,
            *project_jht(jht_now, monthly + form.extra, years, conf.yearly_return_bp),
        ],
        pension=jp_monthly_pension(len(jp_months) + future_months, average, rules),
        months_so_far=len(jp_months),
    )
