"""Employer-portal test actions: an employer with an administrator signed in at acr=mfa."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pyotp

from idp.db import db
from idp.employer.employers import create_employer
from idp.employer.invitations import invite_admin, send_invitation

from .helpers import csrf_from, mail_text, mails

ADMIN_PASSWORD = "lampu kantor menyala terang"


def nik_for(birthdate: str, serial: int, region: str = "317405") -> str:
    """A NIK that matches the birthdate (Dukcapil layout): region, DDMMYY, serial."""
    year, month, day = birthdate.split("-")
    return f"{region}{day}{month}{year[2:]}{serial:04d}"


def employee_row(serial: int, **overrides) -> dict:
    row = {
        "name": f"Pekerja {serial}",
        "nik": nik_for("1991-03-12", serial),
        "birthdate": "1991-03-12",
        "email": f"pekerja{serial}@example.id",
        "phone": "",
        "start_date": "2026-01-01",
        "monthly_wage": "5000000",
        "programs": "JKK;JKM;JHT;JP",
    }
    return row | overrides


def csv_of(rows: list[dict]) -> bytes:
    header = "name,nik,birthdate,email,phone,start_date,monthly_wage,programs"
    lines = [header] + [",".join(row[k] for k in header.split(",")) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def invitation_path(message) -> str:
    link = re.search(r"(http://\S+/employer/invitation/\S+)", mail_text(message)).group(1)
    return urlsplit(link).path


class Portal:
    """One administrator's browser (a Flask test client) against the portal."""

    def __init__(self, app, clock) -> None:
        self.app, self.clock = app, clock
        self.client = app.test_client()
        self.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        self.totp: pyotp.TOTP | None = None

    def create_employer(self, name: str, registration_number: str, admin_email: str) -> int:
        with self.app.app_context():
            employer = create_employer(name, registration_number, "Jl. Sudirman 1, Jakarta")
            admin, link = invite_admin(employer, admin_email, "Admin " + name)
            db.session.commit()
            send_invitation(employer, admin, link)
            return employer.id

    def post(self, path: str, page: str | None = None, **form):
        token = csrf_from(self.client.get(page or path).text)
        return self.client.post(path, data={"csrf_token": token, **form})

    def accept_invitation(self, email: str, password: str = ADMIN_PASSWORD):
        message = next(m for m in reversed(mails(self.app)) if m["To"] == email)
        return self.post(invitation_path(message), password=password)

    def sign_in(self, email: str, password: str = ADMIN_PASSWORD):
        page = self.client.get("/login")
        return self.client.post("/login", data={
            "identifier": email, "password": password, "csrf_token": csrf_from(page.text),
        })  # fmt: skip

    def enrol_totp(self) -> None:
        page = self.post("/account/security/totp", "/account/security", action="start")
        secret = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', page.text).group(1)
        self.totp = pyotp.TOTP(secret.replace(" ", ""))
        done = self.post(
            "/account/security/totp", "/account/security", action="confirm",
            code=self.totp.at(self.clock.now()),
        )  # fmt: skip
        assert done.status_code == 200, done.text

    def second_step(self):
        self.clock.advance(seconds=31)  # a fresh TOTP step: the last one is spent
        page = self.client.get("/login/2fa")
        return self.client.post("/login/2fa", data={
            "code": self.totp.at(self.clock.now()), "csrf_token": csrf_from(page.text),
        })  # fmt: skip

    def open_portal(self, email: str) -> None:
        """Accept the invitation, sign in, enrol a second factor, step up: acr=mfa."""
        assert self.accept_invitation(email).status_code == 200
        assert self.sign_in(email).status_code == 302
        enrol = self.client.get("/employer")
        assert enrol.status_code == 302 and "/account/security" in enrol.headers["Location"]
        self.enrol_totp()
        step = self.client.get("/employer")
        assert step.status_code == 302 and step.headers["Location"].endswith("/login/2fa")
        done = self.second_step()
        assert done.status_code == 302, done.text
        assert done.headers["Location"] == "/employer"
