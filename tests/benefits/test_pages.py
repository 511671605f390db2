"""The member's pages: dashboard with a server-side chart, contribution history and CSV,
the no-membership page, guards, languages and response headers."""

from __future__ import annotations

import csv
import io
import re

import pytest

from clients.benefits import ledger
from clients.benefits.db import db
from clients.benefits.seed import seed_demo_ledger

from .conftest import DEMO_NUMBER, signed_in

PAGES = ("/", "/contributions", "/contributions.csv", "/statements", "/claims")


@pytest.fixture
def seeded(benefits_app, benefits_clock):
    with benefits_app.app_context():
        seed_demo_ledger(DEMO_NUMBER, benefits_clock.now())
        db.session.commit()


@pytest.fixture
def member(benefits_app, benefits_client, seeded):
    return signed_in(benefits_app, benefits_client)


def test_dashboard_shows_programs_and_a_chart_without_javascript(
    benefits_app, benefits_client, member
):
    page = benefits_client.get("/")
    assert page.status_code == 200
    assert "<script" not in page.text
    svg = re.search(r"<svg .*?</svg>", page.text, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg and "<polyline" in svg
    assert "<details>" in page.text and "The chart as a table" in page.text
    with benefits_app.app_context():
        jht = ledger.balance(DEMO_NUMBER, "JHT").total
        years = ledger.years(DEMO_NUMBER)
    formatted = f"Rp {jht:,}".replace(",", ".")
    assert formatted in page.text
    assert re.search(r'id="coverage-JKK">.*?Covered.*?Last paid month', page.text, re.S)
    assert re.search(r'id="coverage-JKM">.*?Covered', page.text, re.S)
    for year in years[1:]:
        assert f"December {year}" in page.text  # the table lists each year-end balance


def test_contribution_history_filters_by_year(benefits_app, benefits_client, member):
    with benefits_app.app_context():
        year = ledger.years(DEMO_NUMBER)[2]
        rows = ledger.contributions(DEMO_NUMBER, year)
    page = benefits_client.get(f"/contributions?year={year}")
    assert page.status_code == 200
    assert f"Contributions in {year}" in page.text
    assert page.text.count("<tr>") == len(rows) + 1 == 12 * 4 + 1
    for status in {r.status for r in rows}:
        assert {"paid": "Paid on time", "late": "Paid late", "unpaid": "Not yet paid"}[
            status
        ] in page.text
    assert "PT " in page.text
    assert benefits_client.get("/contributions?year=1990").status_code == 404


def test_csv_export_lists_the_years_rows(benefits_app, benefits_client, member):
    with benefits_app.app_context():
        year = ledger.years(DEMO_NUMBER)[1]
        rows = ledger.contributions(DEMO_NUMBER, year)
    answer = benefits_client.get(f"/contributions.csv?year={year}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert f"contributions-{DEMO_NUMBER}-{year}.csv" in answer.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(table) == len(rows) == 48
    assert sum(int(r["total"]) for r in table) == sum(r.total for r in rows)
    assert {r["program"] for r in table} == {"JHT", "JP", "JKK", "JKM"}
    assert all(int(r["employee_share"]) == 0 for r in table if r["program"] in ("JKK", "JKM"))


def test_pages_need_a_signed_in_member(benefits_client):
    assert "Sign in with your member account" in benefits_client.get("/").text
    for path in PAGES[1:]:
        answer = benefits_client.get(path)
        assert answer.status_code == 302
        assert answer.headers["Location"] == f"/login?next={path}"


def test_member_without_a_membership_number_sees_why(benefits_app, benefits_client):
    signed_in(benefits_app, benefits_client, membership_number=None)
    for path in (*[p for p in PAGES if p != "/claims"], "/planning", "/claims/new/jht"):
        answer = benefits_client.get(path)
        assert answer.status_code == 403
        assert "No membership linked" in answer.text
    # An heir without a membership of their own may still claim a death benefit.
    claims_page = benefits_client.get("/claims")
    assert claims_page.status_code == 200
    assert 'id="kind-jkm"' in claims_page.text and 'id="kind-jht"' not in claims_page.text


def test_indonesian_by_default_english_on_request(plain_client):
    client = plain_client
    page = client.get("/")
    assert '<html lang="id">' in page.text and "Masuk dengan akun peserta Anda" in page.text
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text and "Sign in with your member account" in english.text
    assert '<html lang="en">' in client.get("/").text  # the choice sticks
    assert '<html lang="id">' in client.get("/?lang=id").text


def test_the_members_locale_claim_chooses_the_language(benefits_app, seeded):
    client = benefits_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "id"
    signed_in(benefits_app, client, locale="en-US")
    assert '<html lang="en">' in client.get("/").text


def test_headers_protect_the_members_pages(benefits_client, member):
    page = benefits_client.get("/")
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
