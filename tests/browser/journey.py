"""A member's browser on the journey: find things by label and role, check every page."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
from playwright.sync_api import Page, expect

from .conftest import DESKTOP, PHONE, Portal, page_problems


class Member:
    """One person at one browser (a Playwright page), checking each page as they go."""

    def __init__(self, page: Page, portal: Portal, axe, name: str = "phone") -> None:
        self.page, self.portal, self.axe, self.name = page, portal, axe, name
        self.problems: list[str] = []
        self.totp: pyotp.TOTP | None = None

    # -- checks -----------------------------------------------------------------------------

    def saw(self, step: str) -> None:
        """Check the page on screen (axe, sideways scroll); save it under SCREENSHOTS_DIR."""
        self.page.wait_for_load_state()
        self.problems += page_problems(self.page, self.axe)
        if self.portal.screenshots:
            self.screenshot(step)
        self.portal.seen.append(f"{self.name}:{step}")

    def screenshot(self, step: str) -> None:
        """Save the page at phone and desktop width (`make screenshots`), then restore it."""
        directory = Path(self.portal.screenshots)
        directory.mkdir(parents=True, exist_ok=True)
        viewport = self.page.viewport_size
        for size in (PHONE, DESKTOP):
            self.page.set_viewport_size(size)
            target = directory / f"{step}-{size['width']}.png"
            self.page.screenshot(path=str(target), full_page=True, animations="disabled")
        self.page.set_viewport_size(viewport)

    def heading(self, name: str | re.Pattern) -> None:
        expect(self.page.get_by_role("heading", level=1)).to_have_text(name)

    # -- actions ----------------------------------------------------------------------------

    def goto(self, url: str) -> None:
        self.page.goto(url)

    def click(self, role: str, name: str | re.Pattern, **kw) -> None:
        self.page.get_by_role(role, name=name, **kw).first.click()

    def fill(self, label: str | re.Pattern, value: str) -> None:
        self.page.get_by_label(label, exact=isinstance(label, str)).fill(value)

    def next_code(self) -> str:
        """The authenticator's code one TOTP step on (the clock moves; no step is reused)."""
        assert self.totp is not None, "no authenticator app set up"
        self.portal.advance(30)
        now = self.portal.clock.now()
        step = self.totp.timecode(now)
        assert step > self.portal.last_step  # the IdP takes each step once
        self.portal.last_step = step
        return self.totp.at(now)

    def sign_in_at_idp(self, identifier: str, password: str, step: str) -> None:
        """On the identity provider's sign-in page: identifier, password, then a code if asked."""
        self.heading(re.compile("Sign in|Masuk"))
        self.saw(step)
        self.fill(re.compile("Email or membership number|Email atau nomor kepesertaan"), identifier)
        self.fill(re.compile("^(Password|Kata sandi)$"), password)
        self.click("button", re.compile("^(Sign in|Masuk)$"))
        if self.totp is not None:
            self.enter_code(f"{step}-code")

    def tab_to(self, label: str) -> None:
        """Press Tab, as a keyboard user does, until the field labelled `label` has focus."""
        for _ in range(30):
            self.page.keyboard.press("Tab")
            focused = self.page.evaluate(
                "[...(document.activeElement.labels || [])].map(l => l.innerText.trim())"
            )
            if label in focused:
                return
        raise AssertionError(f"Tab never reached the field {label!r}")

    def enter_code(self, step: str) -> None:
        self.heading("Two-factor sign-in")
        self.saw(step)
        self.fill("Code", self.next_code())
        self.click("button", "Verify")
