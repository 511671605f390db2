"""Fixtures for the benefits app: its own settings and SQLite database, the app served on
loopback beside a live identity provider, and a browser that walks between the two."""

from __future__ import annotations

import html
import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from clients.benefits.app import create_app
from clients.benefits.clock import FrozenClock
from clients.benefits.config import Settings, load_settings
from clients.benefits.db import db
from clients.benefits.models import BrowserSession
from clients.benefits.seed import seed_demo_ledger
from clients.benefits.sessions import _row_id
from idp.cli import DEMO_MEMBER

from ..helpers import csrf_from

DEMO_NUMBER = DEMO_MEMBER["membership_number"]
DEMO_PASSWORD = DEMO_MEMBER["password"]
TIMEOUT = 10


def write_settings(path: Path, **sections: dict) -> Settings:
    """A TOML settings file from sections, loaded with no environment overrides."""
    lines = []
    for section, entries in sections.items():
        lines.append(f"[{section}]")
        lines += [
            f"{key} = {value}" if isinstance(value, int) else f'{key} = "{value}"'
            for key, value in entries.items()
        ]
    path.write_text("\n".join(lines) + "\n")
    return load_settings(path, environ={})


def make_benefits_app(
    tmp_path: Path, clock: FrozenClock, *, issuer: str, base_url: str,
    client_id: str = "benefits-test", client_secret: str = "not-used",  # noqa: S107
    documents: dict | None = None, mail: dict | None = None, oidc: dict | None = None,
) -> Flask:  # fmt: skip
    settings = write_settings(
        tmp_path / "benefits.toml",
        oidc={"issuer": issuer, "client_id": client_id, "client_secret": client_secret}
        | (oidc or {}),
        server={"base_url": base_url},
        database={"url": f"sqlite:///{tmp_path / 'benefits.sqlite3'}"},
        mail={"outbox_dir": str(tmp_path / "benefits-outbox")} | (mail or {}),
        documents={"dir": str(tmp_path / "benefits-documents")} | (documents or {}),
    )
    app = create_app(settings, clock=clock)
    app.config["TESTING"] = True
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def benefits_clock() -> FrozenClock:
    """The benefits app's clock, at the real time so that tokens from the live IdP are valid."""
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def benefits_app(tmp_path, benefits_clock) -> Iterator[Flask]:
    """The app alone, with no identity provider behind it (signed in through `signed_in`)."""
    app = make_benefits_app(
        tmp_path, benefits_clock, issuer="http://127.0.0.1:9", base_url="http://127.0.0.1:5001"
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def benefits_client(benefits_app):
    client = benefits_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def plain_client(benefits_app):
    """A test client whose browser states no language preference."""
    return benefits_app.test_client()


def signed_in(app: Flask, client, **claims) -> dict:
    """Put a server-side session for these claims behind the test client's cookie."""
    member = {"sub": "sub-1", "sid": "sid-1", "acr": "mfa", "name": "Siti Rahayu",
              "membership_number": DEMO_NUMBER} | claims  # fmt: skip
    token = f"test-session-{member['sub']}"
    with app.app_context():
        now = app.extensions["benefits.clock"].now()
        db.session.add(
            BrowserSession(
                id=_row_id(app, token),
                data={"member": member, "csrf_token": "csrf-test"},
                subject=member["sub"],
                idp_sid=member["sid"],
                created_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
        db.session.commit()
    client.set_cookie("benefits_session", token)
    return member


class _LazyApp:
    def __init__(self) -> None:
        self.app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@dataclass
class LiveBenefits:
    """The benefits app on a real port, registered at the live identity provider."""

    url: str
    app: Flask
    idp: object  # tests.helpers.Actions of the live identity provider
    client_id: str
    client_secret: str
    member: dict  # the demo member at the IdP: id, sub, email, membership_number, password
    browser: requests.Session = field(default_factory=requests.Session)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.browser.get(self.url + path, timeout=TIMEOUT, **kwargs)

    def post_form(self, path: str, data: dict, *, page: str | None = None, **kwargs):
        """POST a form of ours with the CSRF token read from `page` (default: the form's page)."""
        token = csrf_from(self.get(page or path).text)
        return self.browser.post(
            self.url + path, data={"csrf_token": token, **data}, timeout=TIMEOUT, **kwargs
        )

    def idp_sign_in(self, identifier: str = DEMO_MEMBER["email"], password: str = DEMO_PASSWORD):
        """Sign in at the identity provider's own /login page (opening its SSO session)."""
        page = self.browser.get(f"{self.idp.url}/login", timeout=TIMEOUT)
        return self.submit_idp_login(page, identifier, password)

    def submit_idp_login(self, page: requests.Response, identifier: str, password: str, **kw):
        form = {"identifier": identifier, "password": password, "csrf_token": csrf_from(page.text)}
        match = re.search(r'name="next" value="([^"]*)"', page.text)
        if match:
            form["next"] = html.unescape(match.group(1))
        return self.browser.post(f"{self.idp.url}/login", data=form, timeout=TIMEOUT, **kw)

    def sign_in(self, identifier: str = DEMO_MEMBER["email"], password: str = DEMO_PASSWORD):
        """The whole flow as a browser follows it: ours → IdP sign-in → callback → dashboard."""
        page = self.get("/login")
        assert page.url.startswith(f"{self.idp.url}/login"), page.url
        return self.submit_idp_login(page, identifier, password)

    def callback_url(self, **login_args) -> str:
        """Start a sign-in and return the callback the IdP redirects to, without following it
        (the browser already holds an IdP session)."""
        start = self.get("/login", params=login_args, allow_redirects=False)
        answer = self.browser.get(start.headers["Location"], timeout=TIMEOUT, allow_redirects=False)
        location = answer.headers["Location"]
        assert location.startswith(f"{self.url}/auth/callback?"), location
        return location

    def member_sessions(self) -> list[BrowserSession]:
        with self.app.app_context():
            rows = db.session.scalars(
                db.select(BrowserSession).where(BrowserSession.subject.is_not(None))
            )
            return list(rows)


@pytest.fixture
def benefits_scope() -> str:
    """The scopes our client is registered for at the IdP (a test may parametrize this)."""
    return "openid profile email membership"


@pytest.fixture
def live_benefits(live_server, tmp_path, benefits_clock, benefits_scope) -> Iterator[LiveBenefits]:
    """The demo member at a live IdP; our app on loopback, registered there, demo ledger seeded."""
    proxy = _LazyApp()
    server = make_server("127.0.0.1", 0, proxy, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    client_id, secret = live_server.create_client(
        name="Benefits (test)",
        redirect_uris=[f"{url}/auth/callback"],
        post_logout_redirect_uris=[f"{url}/"],
        scope=benefits_scope,
        first_party=True,
    )
    member = live_server.create_member(password=DEMO_PASSWORD)
    proxy.app = make_benefits_app(
        tmp_path, benefits_clock, issuer=live_server.url, base_url=url,
        client_id=client_id, client_secret=secret,
    )  # fmt: skip
    with proxy.app.app_context():
        seed_demo_ledger(DEMO_NUMBER, benefits_clock.now())
        db.session.commit()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    live = LiveBenefits(url, proxy.app, live_server, client_id, secret, member)
    live.browser.headers["Accept-Language"] = "en"
    yield live
    live.browser.close()
    server.shutdown()
    thread.join(timeout=5)
    with proxy.app.app_context():
        db.engine.dispose()


# The smallest files each accepted kind starts with (the app looks at the first bytes only).
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(16)


def document(data: bytes = PDF, name: str = "surat-keterangan.pdf") -> tuple:
    """A file field for the test client's multipart form."""
    return (io.BytesIO(data), name)


def staff_signed_in(app: Flask, client, **claims) -> dict:
    """A claims officer's session (roles from the identity provider's roles scope)."""
    return signed_in(app, client, **({"sub": "officer-1", "sid": "sid-officer",
                                      "name": "Budi Santoso", "membership_number": None,
                                      "roles": ["claims_officer"]} | claims))  # fmt: skip


def stored_documents(app: Flask) -> list[Path]:
    folder = app.extensions["benefits.settings"].documents_dir
    return sorted(folder.iterdir()) if folder.exists() else []
