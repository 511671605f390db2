"""Pages off the main journey (help, errors, forms showing their errors, consent) fit a 360 px
phone, pass axe, and speak one language."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from ..helpers import PASSWORD
from .conftest import PHONE
from .journey import Member

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_help_errors_and_forms_with_errors(portal, make_page, axe):
    idp, benefits = portal.idp.url, portal.benefits_url
    visitor = Member(make_page(PHONE), portal, axe)
    page = visitor.page

    visitor.goto(f"{idp}/help?lang=en")
    visitor.heading("Help")
    for section in ("Signing in", "Lost phone or email address", "Recognising the real portal"):
        expect(page.get_by_role("heading", name=section)).to_be_visible()
    visitor.saw("help")
    visitor.click("link", "Bahasa Indonesia")
    visitor.heading("Bantuan")
    visitor.saw("help-id")

    for url in (f"{idp}/no-such-page", f"{benefits}/no-such-page?lang=id"):
        visitor.goto(url)
        visitor.heading("Halaman tidak ditemukan")
        expect(page.get_by_text("The requested URL")).to_have_count(0)  # Werkzeug's English
        expect(page.get_by_role("link", name="Dapatkan bantuan")).to_be_visible()
        visitor.saw("not-found")

    visitor.goto(f"{idp}/account/activate?lang=en")
    visitor.click("button", "Register")
    expect(page.get_by_label("Membership number")).to_have_attribute("aria-invalid", "true")
    visitor.saw("activate-errors")

    visitor.goto(f"{idp}/login")
    visitor.fill("Email or membership number", "nobody@example.id")
    visitor.fill("Password", "not a password at all")
    visitor.click("button", "Sign in")
    expect(page.get_by_role("alert")).to_be_visible()
    visitor.saw("sign-in-error")

    assert not visitor.problems, "\n".join(visitor.problems)


def test_consent_page(portal, make_page, axe):
    idp = portal.idp
    member = idp.create_member(password=PASSWORD)
    client_id, _ = idp.create_client(name="Partner service")
    params, _ = idp.authorize_params(client_id, ui_locales="en")
    visitor = Member(make_page(PHONE), portal, axe)
    visitor.goto(f"{idp.url}/authorize?{urlencode(params)}")
    visitor.sign_in_at_idp(member["email"], PASSWORD, step="consent-sign-in")
    expect(visitor.page.get_by_role("button", name="Allow")).to_be_visible()
    visitor.saw("consent")
    assert not visitor.problems, "\n".join(visitor.problems)


def test_benefits_forms_with_errors_and_the_no_membership_page(portal, make_page, axe):
    from ..benefits.conftest import signed_in

    visitor = Member(make_page(PHONE), portal, axe)
    app, page = portal.benefits_app, visitor.page

    class Cookies:  # signed_in() plants the session behind whatever holds the cookie
        def set_cookie(self, name: str, value: str) -> None:
            page.context.add_cookies([{"name": name, "value": value, "url": portal.benefits_url}])

    signed_in(app, Cookies())
    visitor.goto(f"{portal.benefits_url}/claims/new/jkk?lang=en")
    visitor.heading("Report a work accident (JKK)")
    visitor.click("button", "Submit claim")
    expect(page.get_by_role("alert")).to_contain_text("Please correct the fields")
    expect(page.get_by_label("Date of the accident")).to_have_attribute("aria-invalid", "true")
    visitor.saw("jkk-errors")

    signed_in(app, Cookies(), sub="sub-2", membership_number=None)
    visitor.goto(f"{portal.benefits_url}/")
    visitor.heading("No membership linked")
    visitor.saw("no-membership")
    assert not visitor.problems, "\n".join(visitor.problems)
