"""The member's journey in headless Chromium, against live identity-provider and benefits
servers: registration by an operator, activation from the email, two-factor set-up, step-up,
balances, the e-statement, a claim, a password reset, lockout in Bahasa Indonesia and
signing out everywhere. Every page passes axe and fits a 360 px phone."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect

from idp.cli import DEMO_MEMBER

from .conftest import DESKTOP, PHONE
from .journey import Member

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NEW_PASSWORD = "teh-manis-sore-hari"


def test_members_journey(portal, make_page, axe, cli):
    idp, benefits = portal.idp.url, portal.benefits_url
    email, password = DEMO_MEMBER["email"], DEMO_MEMBER["password"]

    # An operator registers the employee (the employer portal will do this once it lands).
    created = cli(
        "members", "create", "--json",
        "--membership-number", DEMO_MEMBER["membership_number"], "--nik", DEMO_MEMBER["nik"],
        "--name", DEMO_MEMBER["name"], "--birthdate", DEMO_MEMBER["birthdate"].isoformat(),
        "--email", email,
    )  # fmt: skip
    assert created.exit_code == 0, created.output

    siti = Member(make_page(PHONE), portal, axe)
    page = siti.page

    # The benefits app sends her to the identity provider, where she registers.
    siti.goto(benefits)
    siti.heading("Your social security benefits")
    siti.saw("01-welcome")
    siti.click("link", "Sign in with your member account")
    siti.heading("Sign in")
    siti.click("link", "Register for online access")
    siti.heading("Register for online access")
    siti.saw("02-activate")
    siti.fill("Membership number", DEMO_MEMBER["membership_number"])
    siti.fill("NIK", DEMO_MEMBER["nik"])
    siti.fill("Date of birth", DEMO_MEMBER["birthdate"].isoformat())
    siti.fill("Email", email)
    siti.fill("New password", password)
    siti.click("button", "Register")
    siti.saw("03-activation-sent")

    # The link in the email verifies her address.
    siti.goto(portal.link_in_mail_to(email))
    siti.saw("04-verify")
    siti.click("button", re.compile("Confirm"))
    siti.saw("05-verified")

    # She signs in to the benefits app with her new password and sees her balances.
    siti.goto(benefits)
    siti.click("link", "Sign in with your member account")
    siti.sign_in_at_idp(email, password, step="05-sign-in")
    siti.heading("My benefits")
    expect(page.get_by_text(DEMO_MEMBER["name"])).to_be_visible()
    expect(page.get_by_text(re.compile(r"Rp\s?[\d.]+")).first).to_be_visible()
    siti.saw("06-dashboard")

    # Her language follows her: Bahasa Indonesia in the benefits app, then its help link opens
    # the identity provider's help in Bahasa too, and her profile remembers the choice.
    siti.click("link", "Bahasa Indonesia")
    siti.heading("Manfaat saya")
    siti.click("link", "Bantuan")
    siti.heading("Bantuan")
    siti.saw("06-help")
    assert portal.member_locale(email) == "id"
    siti.click("link", "English")
    siti.heading("Help")
    assert portal.member_locale(email) == "en"
    siti.goto(benefits)
    siti.click("link", "English")
    siti.heading("My benefits")

    # Two-factor set-up at the identity provider, reading the key shown for manual entry.
    siti.goto(f"{idp}/account")
    siti.heading("My account")
    siti.saw("07-account")
    siti.click("link", "Two-factor sign-in")
    siti.heading("Security")
    siti.saw("08-security")
    siti.click("button", "Set up an authenticator app")
    siti.heading("Set up an authenticator app")
    siti.saw("09-totp")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    siti.totp = pyotp.TOTP(secret)
    siti.fill("Code", siti.next_code())
    siti.click("button", "Verify")
    siti.heading("Your recovery codes")
    siti.saw("10-recovery-codes")
    siti.click("link", "I saved them, continue")

    # Filing a claim asks for a second factor first (step-up).
    siti.goto(f"{benefits}/claims")
    siti.heading("Claims")
    siti.saw("11-claims")
    # Each kind of claim says what to prepare before it starts.
    page.locator("#kind-jht").get_by_role("link", name="Start this claim").click()
    siti.enter_code("12-step-up")
    siti.heading("Claim your JHT savings")
    siti.saw("13-claim-form")
    siti.click("radio", re.compile("I stopped working"))
    siti.fill("Bank account number", "1234567890")
    page.get_by_label("Supporting document").set_input_files(
        files=[{"name": "surat-berhenti.pdf", "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4\n% letter of resignation\n%%EOF\n"}]
    )  # fmt: skip
    siti.click("button", "Submit claim")
    expect(page.get_by_role("status")).to_contain_text("Your claim was submitted")
    siti.saw("14-claim-filed")

    # Signed out, she signs in again with her password and a code.
    siti.click("button", "Sign out")
    siti.saw("15-signed-out")
    siti.goto(benefits)
    siti.click("link", "Sign in with your member account")
    siti.sign_in_at_idp(email, password, step="16-sign-in")
    siti.click("link", "E-statements")
    siti.heading("E-statements")
    siti.saw("17-statements")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"Statement \d{4} \(PDF\)")).first.click()
    assert download.value.path().read_bytes().startswith(b"%PDF-")
    siti.click("link", "Contributions")
    siti.saw("18-contributions")

    # She forgets her password: a link by email lets her choose a new one.
    siti.click("button", "Sign out")
    siti.goto(f"{idp}/login")
    siti.click("link", "Forgot your password?")
    siti.heading("Forgot your password?")
    siti.saw("19-reset-request")
    siti.fill("Email or membership number", email)
    siti.click("button", "Send the link")
    siti.saw("20-reset-sent")
    siti.goto(portal.link_in_mail_to(email))
    siti.heading("Choose a new password")
    siti.saw("21-new-password")
    siti.fill("New password", NEW_PASSWORD)
    siti.click("button", "Save the new password")
    siti.heading("Password changed")
    siti.saw("22-password-changed")
    siti.click("link", "Sign in")
    siti.sign_in_at_idp(email, NEW_PASSWORD, step="23-sign-in")
    siti.heading("My account")

    # On a computer too, signing in with the keyboard alone.
    laptop = Member(make_page(DESKTOP), portal, axe, name="desktop")
    laptop.totp = siti.totp
    laptop.goto(f"{idp}/login")
    laptop.saw("24-sign-in")
    laptop.tab_to("Email or membership number")
    laptop.page.keyboard.type(email)
    laptop.tab_to("Password")
    laptop.page.keyboard.type(NEW_PASSWORD)
    laptop.page.keyboard.press("Enter")
    laptop.heading("Two-factor sign-in")
    laptop.tab_to("Code")
    laptop.page.keyboard.type(laptop.next_code())
    laptop.page.keyboard.press("Enter")
    laptop.heading("My account")
    laptop.saw("25-account")

    # From her phone she signs out everywhere: the computer is signed out too.
    siti.click("link", "Where you're signed in")
    siti.heading("Where you're signed in")
    expect(page.get_by_role("row")).to_have_count(3)  # a header row and two sessions
    siti.saw("26-sessions")
    siti.click("button", "Sign out everywhere")
    siti.saw("27-signed-out-everywhere")
    laptop.page.reload()
    laptop.heading("Sign in")

    # Wrong passwords lock the sign-in; she reads why in Bahasa Indonesia.
    siti.goto(f"{idp}/login")
    siti.click("link", "Bahasa Indonesia")
    siti.heading("Masuk")
    for _ in range(3):
        siti.fill("Email atau nomor kepesertaan", email)
        siti.fill("Kata sandi", "not-her-password")
        siti.click("button", "Masuk")
    siti.heading("Akun terkunci sementara")
    expect(page.get_by_role("alert")).to_contain_text("terkunci sementara")
    siti.saw("28-locked")

    problems = siti.problems + laptop.problems
    assert not problems, "\n".join(problems)
