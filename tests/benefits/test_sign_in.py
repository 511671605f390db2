"""Signing in through the live identity provider and seeing the ledger's balances."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from clients.benefits.db import db
from clients.benefits.models import Contribution, Development

from .conftest import DEMO_NUMBER


def _expected_balance(app, program: str) -> tuple[int, int]:
    """Contributions and development summed here, in Python, straight from the rows."""
    with app.app_context():
        paid = db.session.scalars(
            select(Contribution).where(
                Contribution.membership_number == DEMO_NUMBER,
                Contribution.program == program,
                Contribution.paid_date.is_not(None),
            )
        ).all()
        credited = db.session.scalars(
            select(Development.amount).where(
                Development.membership_number == DEMO_NUMBER, Development.program == program
            )
        ).all()
        return sum(r.employer_share + r.employee_share for r in paid), sum(credited)


def _amounts(page: str, program: str) -> list[int]:
    block = re.search(rf'id="balance-{program}">(.*?)</article>', page, re.S).group(1)
    return [int(v) for v in re.findall(r'data-amount="(-?\d+)"', block)]


def test_sign_in_shows_the_demo_members_balances(live_benefits):
    dashboard = live_benefits.sign_in()
    assert dashboard.status_code == 200, dashboard.text
    assert dashboard.url == live_benefits.url + "/"
    assert DEMO_NUMBER in dashboard.text
    for program in ("JHT", "JP"):
        contributions, development = _expected_balance(live_benefits.app, program)
        assert contributions > 0 and development > 0
        total, shown_contributions, shown_development = _amounts(dashboard.text, program)
        assert (shown_contributions, shown_development) == (contributions, development)
        assert total == contributions + development
    (row,) = live_benefits.member_sessions()
    assert row.data["member"]["acr"] == "pwd" and row.idp_sid and row.subject


def test_session_cookie_is_httponly_lax_and_renewed_at_sign_in(live_benefits):
    live_benefits.get("/login", allow_redirects=False)
    before = live_benefits.browser.cookies.get("benefits_session")
    assert before  # the anonymous session holding the pending sign-in
    answer = live_benefits.sign_in()
    (callback,) = [r for r in answer.history if "/auth/callback" in r.url]
    cookie = callback.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # http on loopback; __Host- and Secure under https
    after = live_benefits.browser.cookies.get("benefits_session")
    assert after and after != before
    (row,) = live_benefits.member_sessions()
    assert before not in row.id and after not in row.id  # only a keyed hash is stored


@pytest.mark.parametrize("benefits_scope", ["openid profile email"])
def test_member_without_membership_claim_sees_no_membership_page(live_benefits):
    """A client not allowed the membership scope receives no membership_number claim."""
    page = live_benefits.sign_in()
    assert page.status_code == 403
    # In Indonesian: the demo member's locale claim says "id", over the browser's "en".
    assert "Belum ada kepesertaan yang terhubung" in page.text
    assert "data-amount" not in page.text
