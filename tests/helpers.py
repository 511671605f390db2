"""Test actions that read like the spec: create a member, sign in, run the code flow."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

from idp.auth.passwords import hash_password
from idp.cli import DEMO_MEMBER
from idp.db import db
from idp.members import NewMember, create_member
from idp.oidc.clients import NewClient, register_client

PASSWORD = "correct horse battery staple"
REDIRECT_URI = "https://rp.example.id/callback"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


class Actions:
    def __init__(self, app, client) -> None:
        self.app = app
        self.client = client
        self.url = ""

    # -- data -------------------------------------------------------------------------------

    def create_member(self, *, password: str | None = PASSWORD, **overrides) -> dict:
        demo = {k: v for k, v in DEMO_MEMBER.items() if k != "password"}
        values = demo | overrides
        with self.app.app_context():
            member = create_member(
                NewMember(**values), password_hash=hash_password(password) if password else None
            )
            db.session.commit()
            return {
                "id": member.id,
                "sub": member.subject,
                "email": member.email,
                "membership_number": member.membership_number,
                "password": password,
            }

    def create_client(self, **overrides) -> tuple[str, str | None]:
        values = {
            "name": "Test RP",
            "redirect_uris": [REDIRECT_URI],
            "scope": "openid profile email phone address membership",
        } | overrides
        with self.app.app_context():
            client, secret = register_client(NewClient(**values))
            db.session.commit()
            return client.client_id, secret

    # -- browser steps (Flask test client) --------------------------------------------------

    def sign_in(self, identifier: str, password: str = PASSWORD, next_url: str | None = None):
        query = f"?{urlencode({'next': next_url})}" if next_url else ""
        page = self.client.get(f"/login{query}")
        form = {"identifier": identifier, "password": password, "csrf_token": csrf_from(page.text)}
        if next_url:
            form["next"] = next_url
        return self.client.post("/login", data=form)

    def authorize_params(self, rp_client_id: str, **extra) -> tuple[dict, str]:
        verifier, challenge = pkce_pair()
        params = {
            "response_type": "code",
            "client_id": rp_client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile email membership",
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        } | extra
        return {k: v for k, v in params.items() if v is not None}, verifier

    def authorize(self, params: dict):
        return self.client.get(f"/authorize?{urlencode(params)}")

    def get_code(self, client_id: str, **extra) -> tuple[str, str, dict]:
        """Authorize (the member is signed in and the client needs no consent); return code."""
        params, verifier = self.authorize_params(client_id, **extra)
        response = self.authorize(params)
        assert response.status_code == 302, response.text
        query = query_of(response.headers["Location"])
        assert "code" in query, query
        return query["code"], verifier, params

    def redeem(self, client_id: str, secret: str | None, code: str, verifier: str, **extra):
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        } | extra
        if secret is None:
            form["client_id"] = client_id
            return self.client.post("/token", data=form)
        return self.client.post("/token", data=form, auth=(client_id, secret))

    def tokens(self, client_id: str, secret: str | None, **extra) -> dict:
        code, verifier, _ = self.get_code(client_id, **extra)
        response = self.redeem(client_id, secret, code, verifier)
        assert response.status_code == 200, response.text
        return response.get_json()


def mails(app) -> list:
    """The messages in the mail outbox, oldest first."""
    import email
    import email.policy

    outbox = app.extensions["idp.settings"].mail_outbox_dir
    if not outbox.exists():
        return []
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(outbox.glob("*.eml"))
    ]


def mail_text(message) -> str:
    return message.get_body(("plain",)).get_content()


class MemberBrowser:
    """A member's browser against a live server: signs in and consents when asked."""

    def __init__(self, base_url: str, member: dict) -> None:
        self.base, self.member = base_url, member
        self.session = requests.Session()
        self.sign_ins = 0

    def authorize_url(self, client_id: str, redirect_uri: str, **extra) -> str:
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile",
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
        } | extra
        return f"{self.base}/authorize?{urlencode(params)}"

    def get(self, url: str) -> requests.Response:
        return self.session.get(urljoin(self.base, url), allow_redirects=False, timeout=10)

    def post(self, url: str, data: dict) -> requests.Response:
        return self.session.post(
            urljoin(self.base, url), data=data, allow_redirects=False, timeout=10
        )

    def callback_for(self, authorize_url: str) -> str:
        """Follow an authorization request to the redirect back to the client."""
        response = self.get(authorize_url)
        for _ in range(6):
            location = response.headers["Location"]
            if not location.startswith(("/", self.base)):
                return location
            path = urlsplit(location).path
            if path == "/login":
                page = self.get(location)
                self.sign_ins += 1
                response = self.post("/login", {
                    "identifier": self.member["email"],
                    "password": self.member["password"],
                    "csrf_token": csrf_from(page.text),
                    "next": query_of(location)["next"],
                })  # fmt: skip
            elif path == "/consent":
                page = self.get(location)
                form = {"decision": "allow", "csrf_token": csrf_from(page.text)}
                response = self.post(location, form)
            else:
                response = self.get(location)
        raise AssertionError("the authorization never came back to the client")

    def redeem(self, client: tuple[str, str], code: str, redirect_uri: str) -> dict:
        response = requests.post(
            f"{self.base}/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            auth=client,
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()
