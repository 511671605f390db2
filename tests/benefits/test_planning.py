"""Retirement planning: the pure functions against worked examples, then /planning from the
member's own ledger with a what-if, a server-drawn chart, its table and plain assumptions."""

from __future__ import annotations

import re
from datetime import date

import pytest

from clients.benefits import ledger
from clients.benefits.clock import today
from clients.benefits.db import db
from clients.benefits.money import share
from clients.benefits.planning import (
    PensionEstimate,
    PensionRules,
    age_on,
    average_wage,
    jp_monthly_pension,
    project_jht,
    wage_from_contribution,
)
from clients.benefits.seed import seed_demo_ledger

from .conftest import DEMO_NUMBER, signed_in

RULES = PensionRules(accrual_bp=100, min_months=180, min_pension=300_000,
                     max_pension=3_600_000, wage_cap=7_000_000)  # fmt: skip


def test_jht_projection_worked_example():
    # Rp 10.000.000 today, Rp 570.000 a month, 5.5 % a year:
    # year 1: 10.000.000 + 12 × 570.000 = 16.840.000; + 5.5 % (926.200) = 17.766.200
    # year 2: 17.766.200 + 6.840.000 = 24.606.200; + 5.5 % (1.353.341) = 25.959.541
    assert project_jht(10_000_000, 570_000, 2, 550) == [17_766_200, 25_959_541]
    # No return: contributions only.
    assert project_jht(0, 100_000, 3, 0) == [1_200_000, 2_400_000, 3_600_000]
    # Already at retirement age: nothing to project.
    assert project_jht(5_000_000, 570_000, 0, 550) == []
    # Half a rupiah of development rounds up, as the ledger credits it.
    assert project_jht(0, 1, 1, 2_500) == [15]  # 12 + 25 % of 12 = 15


@pytest.mark.parametrize(
    ("months", "average", "formula", "monthly"),
    [
        (300, 6_000_000, 1_500_000, 1_500_000),  # 1 % × 25 years × Rp 6.000.000
        (480, 7_000_000, 2_800_000, 2_800_000),  # 1 % × 40 years × Rp 7.000.000
        (180, 1_500_000, 225_000, 300_000),  # 1 % × 15 × 1.500.000, raised to the minimum
        (179, 5_000_000, 745_833, None),  # 745.833,33: under 15 years, paid at once instead
        (0, 0, 0, None),
    ],
)
def test_jp_pension_worked_examples(months, average, formula, monthly):
    assert jp_monthly_pension(months, average, RULES) == PensionEstimate(
        months, average, formula, monthly
    )


def test_jp_pension_is_capped_at_the_maximum():
    rules = PensionRules(100, 180, 300_000, 3_000_000, 7_000_000)
    # 1 % × 50 years × Rp 7.000.000 = 3.500.000, above a maximum of 3.000.000
    assert jp_monthly_pension(600, 7_000_000, rules).monthly == 3_000_000


def test_average_wage_caps_each_month_and_counts_the_future():
    # (5.000.000 + 7.000.000 [8.000.000 capped] + 6.000.000 + 6.000.000) / 4
    assert average_wage([5_000_000, 8_000_000], 2, 6_000_000, 7_000_000) == 6_000_000
    assert average_wage([], 0, 6_000_000, 7_000_000) == 0
    assert average_wage([1, 2], 0, 0, 10) == 2  # 1.5 rounds half up


def test_wage_and_age_helpers():
    assert wage_from_contribution(570_000, 570) == 10_000_000
    assert wage_from_contribution(150_000, 300) == 5_000_000
    assert age_on(date(1980, 6, 15), date(2026, 6, 14)) == 45
    assert age_on(date(1980, 6, 15), date(2026, 6, 15)) == 46


@pytest.fixture
def seeded(benefits_app, benefits_clock):
    with benefits_app.app_context():
        seed_demo_ledger(DEMO_NUMBER, benefits_clock.now())
        db.session.commit()


def _amount(page: str, element_id: str) -> int:
    return int(re.search(rf'id="{element_id}"[^>]*>\s*<h2>.*?data-amount="(\d+)"', page, re.S)[1])


def test_the_planning_page_projects_the_members_own_ledger(benefits_app, benefits_client, seeded):
    signed_in(benefits_app, benefits_client, birthdate="1985-03-01")
    page = benefits_client.get("/planning?extra=250000").text
    with benefits_app.test_request_context():
        age = age_on(date(1985, 3, 1), today())
        jht_now = ledger.balance(DEMO_NUMBER, "JHT").total
        jht_months = ledger.paid_totals(DEMO_NUMBER, "JHT")
        jp_months = ledger.paid_totals(DEMO_NUMBER, "JP")
    years = 59 - age
    wage = wage_from_contribution(jht_months[-1], 570)
    monthly = share(wage, 570)
    base = project_jht(jht_now, monthly, years, 550)[-1]
    extra = project_jht(jht_now, monthly + 250_000, years, 550)[-1]
    assert _amount(page, "estimate-JHT") == base
    assert f'data-amount="{extra}"' in page
    # The extra Rp 250.000 alone, compounded the same way, explains the difference (± rounding).
    assert abs((extra - base) - project_jht(0, 250_000, years, 550)[-1]) <= years
    past = [wage_from_contribution(t, 300) for t in jp_months]
    pension = jp_monthly_pension(
        len(jp_months) + 12 * years, average_wage(past, 12 * years, wage, 7_000_000), RULES
    )
    assert pension.monthly is not None and _amount(page, "estimate-JP") == pension.monthly

    svg = re.search(r"<svg .*?</svg>", page, re.S)[0]
    assert 'role="img"' in svg and svg.count("<polyline") == 2 and "<desc" in svg
    assert "The chart as a table" in page and page.count("<tr>") == years + 2
    assert "What these figures assume" in page and "PP 45/2015" in page and "5.5%" in page
    assert 'name="age"' not in page  # the age comes from the birthdate claim
    assert "<script" not in page


def test_without_a_what_if_there_is_one_line(benefits_app, benefits_client, seeded):
    signed_in(benefits_app, benefits_client, birthdate="1985-03-01")
    page = benefits_client.get("/planning?retirement_age=60").text
    assert "JHT at age 60" in page
    assert re.search(r"<svg .*?</svg>", page, re.S)[0].count("<polyline") == 1


def test_a_member_without_a_birthdate_gives_their_age(benefits_app, benefits_client, seeded):
    signed_in(benefits_app, benefits_client)
    first = benefits_client.get("/planning").text
    assert 'name="age"' in first and "Enter your age to see your projection." in first
    assert "<svg" not in first
    answer = benefits_client.get("/planning?age=40&retirement_age=58")
    assert answer.status_code == 200 and "JHT at age 58" in answer.text
    assert answer.text.count("<tr>") == 58 - 40 + 2


@pytest.mark.parametrize(
    ("query", "field"),
    [("age=12", "age"), ("age=abc", "age"), ("age=40&retirement_age=99", "retirement_age"),
     ("age=40&retirement_age=30", "retirement_age"), ("age=40&extra=-5", "extra"),
     ("age=40&extra=1e6", "extra"), ("age=40&extra=9999999999999", "extra")],
)  # fmt: skip
def test_bad_inputs_get_a_field_error(benefits_app, benefits_client, seeded, query, field):
    signed_in(benefits_app, benefits_client)
    answer = benefits_client.get(f"/planning?{query}")
    assert answer.status_code == 400
    assert f'id="{field}-error"' in answer.text and "<svg" not in answer.text


def test_a_member_with_no_contributions_sees_a_clear_empty_state(benefits_app, benefits_client):
    signed_in(benefits_app, benefits_client, birthdate="1990-01-01")
    page = benefits_client.get("/planning").text
    assert 'id="planning-empty"' in page and "<svg" not in page


def test_planning_speaks_indonesian(benefits_app, plain_client, seeded):
    signed_in(benefits_app, plain_client, birthdate="1985-03-01")
    page = plain_client.get("/planning?extra=100000").text
    assert "Perencanaan pensiun" in page and "Asumsi di balik angka-angka ini" in page
    assert "5,5%" in page and "Rp 100.000" in page
