"""Fixtures for the member's journey in a real browser: Debian's Chromium driven by Playwright,
the identity provider and the benefits app served on loopback, and checks every page must pass
(axe-core finds no serious or critical violation; nothing scrolls sideways at phone width)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from clients.benefits.db import db as benefits_db
from clients.benefits.seed import seed_demo_ledger
from idp.clock import FrozenClock

from ..benefits.conftest import _LazyApp, make_benefits_app
from ..helpers import mail_text, mails

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"  # Debian's package, installed by scripts/test; never downloaded
CHROMIUM_FLAGS = [
    "--no-sandbox",  # tests run as root in a container, where the sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
WIDTHS = (360, 768, 1024, 1440)  # every page must fit each of these without sideways scrolling
TIMEOUT_MS = 10_000
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole run; skipped, saying why, only where it cannot run."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium with apt-get")
    from playwright.sync_api import Error, sync_playwright

    driver = sync_playwright().start()
    try:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    except Error as error:
        driver.stop()
        pytest.skip(f"{CHROMIUM} could not be launched: {str(error).splitlines()[0]}")
    yield browser
    browser.close()
    driver.stop()


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture
def live_server_clock(clock) -> FrozenClock:
    """The identity provider runs on the test's clock, so TOTP steps move only when told to."""
    return clock


@pytest.fixture
def live_server_sections() -> dict:
    # Step-up needs a second factor: the policy stays "optional" as in production defaults.
    return {"lockout": {"max_failures": 3}}


@dataclass
class Portal:
    """Both apps on loopback: the IdP (tests.helpers.Actions) and the benefits app."""

    idp: object
    benefits_url: str
    benefits_app: object
    client_id: str
    clock: FrozenClock
    screenshots: Path | None = None
    last_step: int = -1  # the last TOTP step used: the IdP refuses a step twice
    seen: list[str] = field(default_factory=list)

    def advance(self, seconds: int = 30) -> None:
        """Move both apps' shared clock on (one TOTP step by default)."""
        self.clock.advance(seconds=seconds)

    def mail_to(self, address: str) -> str:
        """The text of the newest message sent to `address`."""
        sent = [m for m in mails(self.idp.app) if address in m["To"]]
        assert sent, f"no mail to {address}"
        return mail_text(sent[-1])

    def member_locale(self, email: str) -> str:
        """The language saved in the member's profile at the identity provider."""
        from idp.db import db
        from idp.members import normalize_email
        from idp.models import Member

        with self.idp.app.app_context():
            member = db.session.scalar(db.select(Member).filter_by(email=normalize_email(email)))
            return member.locale

    def link_in_mail_to(self, address: str) -> str:
        match = re.search(r"https?://\S+", self.mail_to(address))
        assert match, "no link in the mail"
        return match.group(0)


@pytest.fixture
def portal(live_server, tmp_path, clock) -> Iterator[Portal]:
    """The identity provider and the benefits app (registered there, demo ledger seeded),
    both on the same frozen clock, each served by its own loopback server."""
    proxy = _LazyApp()
    server = make_server("127.0.0.1", 0, proxy, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    client_id, secret = live_server.create_client(
        name="Benefits",
        redirect_uris=[f"{url}/auth/callback"],
        post_logout_redirect_uris=[f"{url}/"],
        scope="openid profile email membership",
        first_party=True,
    )
    proxy.app = make_benefits_app(
        tmp_path, clock, issuer=live_server.url, base_url=url,
        client_id=client_id, client_secret=secret,
    )  # fmt: skip
    from ..benefits.conftest import DEMO_NUMBER

    with proxy.app.app_context():
        seed_demo_ledger(DEMO_NUMBER, clock.now())
        benefits_db.session.commit()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    shots = os.environ.get("SCREENSHOTS_DIR")
    yield Portal(live_server, url, proxy.app, client_id, clock, Path(shots) if shots else None)
    server.shutdown()
    thread.join(timeout=5)
    with proxy.app.app_context():
        benefits_db.engine.dispose()


def page_problems(page, axe) -> list[str]:
    """What is wrong with the page on screen: sideways scrolling at any of WIDTHS, serious or
    critical axe violations (at the page's own viewport)."""
    problems = []
    viewport = page.viewport_size
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": viewport["height"]})
        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if wide > 0:
            problems.append(f"{page.url} scrolls sideways by {wide}px at {width}px")
    page.set_viewport_size(viewport)
    for violation in axe.run(page).response["violations"]:
        if violation["impact"] in SERIOUS:
            targets = [node["target"] for node in violation["nodes"]][:3]
            problems.append(f"{page.url}: axe {violation['id']} ({violation['impact']}) {targets}")
    return problems


@pytest.fixture
def make_page(chromium, axe):
    """A new browser context at a viewport; `check(page, step)` runs the checks on every page
    and, under SCREENSHOTS_DIR, saves a screenshot named after the step."""
    contexts = []

    def make(viewport: dict = PHONE, locale: str = "en-GB"):
        context = chromium.new_context(viewport=viewport, locale=locale, accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
