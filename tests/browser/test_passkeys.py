"""Passkeys in a real browser (issue 22): Chromium's virtual authenticator (Chrome DevTools
Protocol `WebAuthn.addVirtualAuthenticator`) stands in for the phone's screen lock. The
member adds a passkey, steps up with it for a claim in the benefits app, signs out, signs in
without a password, and removes it. Every page passes axe and fits a 360 px phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from idp.cli import DEMO_MEMBER
from idp.db import db
from idp.models import Member as MemberRow

from ..helpers import PASSWORD
from .conftest import PHONE
from .journey import Member

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def live_server_host() -> str:
    return "localhost"  # browsers refuse WebAuthn on IP addresses; localhost is loopback


def virtual_authenticator(page) -> tuple[object, str]:
    """A platform authenticator with user verification, as a phone with a screen lock."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }  # fmt: skip
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return cdp, added["authenticatorId"]


def credentials(cdp, authenticator_id: str) -> list[dict]:
    return cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]


def test_passkey_journey(portal, make_page, axe):
    idp, benefits = portal.idp.url, portal.benefits_url
    assert idp.startswith("http://localhost:")
    portal.idp.create_member()
    with portal.idp.app.app_context():  # she reads the portal in English
        db.session.execute(update(MemberRow).values(locale="en"))
        db.session.commit()
    email = DEMO_MEMBER["email"]
    siti = Member(make_page(PHONE), portal, axe)
    page = siti.page
    cdp, authenticator = virtual_authenticator(page)

    # She signs in to the benefits app with her password (no second factor yet).
    siti.goto(benefits)
    siti.click("link", "Sign in with your member account")
    siti.sign_in_at_idp(email, PASSWORD, step="pk-01-sign-in")
    siti.heading("My benefits")

    # She adds a passkey on the security page.
    siti.goto(f"{idp}/account/security")
    siti.heading("Security")
    siti.click("button", "Add a passkey")
    siti.heading("Add a passkey")
    siti.saw("pk-02-add")
    siti.fill("Name for this passkey", "Siti's phone")
    siti.click("button", "Create the passkey")
    siti.heading("Your recovery codes")
    siti.click("link", "I saved them, continue")
    siti.heading("Security")
    expect(page.get_by_role("heading", name="Your passkeys")).to_be_visible()
    expect(page.get_by_text("Siti's phone").first).to_be_visible()
    siti.saw("pk-03-security")
    assert len(credentials(cdp, authenticator)) == 1
    assert "Siti's phone" in portal.mail_to(email)

    # A claim asks for a second factor (step-up): the passkey answers it.
    siti.goto(f"{benefits}/claims")
    page.locator("#kind-jht").get_by_role("link", name="Start this claim").click()
    siti.heading("Two-factor sign-in")
    siti.saw("pk-04-step-up")
    siti.click("button", "Use your passkey")
    siti.heading("Claim your JHT savings")

    # Signed out, she signs in with the passkey alone: Chromium offers it in the email field's
    # autofill (conditional UI), where the virtual authenticator picks it at once.
    siti.goto(benefits)
    siti.click("button", "Sign out")
    siti.goto(benefits)
    siti.click("link", "Sign in with your member account")
    siti.heading("My benefits")
    assert credentials(cdp, authenticator)[0]["signCount"] >= 2

    # A browser without autofill for passkeys shows the button instead.
    page.add_init_script(
        "Object.defineProperty(PublicKeyCredential, 'isConditionalMediationAvailable',"
        " {value: undefined})"
    )
    siti.click("button", "Sign out")
    siti.goto(benefits)
    siti.click("link", "Sign in with your member account")
    siti.heading("Sign in")
    siti.saw("pk-05-sign-in")
    siti.click("button", "Sign in with a passkey")
    siti.heading("My benefits")
    assert credentials(cdp, authenticator)[0]["signCount"] >= 3

    # She removes it, confirming with the passkey itself.
    siti.goto(f"{idp}/account/security")
    siti.heading("Security")
    removal = page.locator("form", has=page.get_by_role("button", name="Remove: Siti's phone"))
    expect(removal.get_by_role("textbox", name="Code")).to_be_hidden()  # the passkey is the proof
    removal.get_by_role("button", name="Remove: Siti's phone").click()
    siti.heading("Security")
    expect(page.get_by_role("heading", name="Your passkeys")).to_have_count(0)
    expect(page.get_by_text(re.compile("Add a passkey"))).to_be_visible()
    siti.saw("pk-06-removed")
    assert siti.problems == []
