"""Recognising the member's browsers, to tell them of a sign-in from a new one.

A browser keeps a random device cookie (HttpOnly, a year); each sign-in records a keyed hash
of it in the audit log. A sign-in from a browser the member has never signed in with before
(while they have signed in elsewhere) emails them: which browser, when, from which address,
and a link to the security log (OWASP ASVS V6 notifications).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Flask, Response, g, request
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import case, func, select

from .. import notifications
from ..audit import client_ip
from ..clock import utcnow
from ..db import db
from ..extensions import settings
from ..hashing import keyed_digest
from ..models import AuditEvent, Member

DEVICE_LIFETIME = timedelta(days=365)
RECENT_SIGN_INS = 200


def _cookie_name() -> str:
    return "__Host-idp_device" if settings().issuer_is_https else "idp_device"


def device_hash() -> str:
    """This browser's device hash, giving it a device cookie if it has none."""
    value = request.cookies.get(_cookie_name(), "")
    if not (16 <= len(value) <= 64):
        value = secrets.token_urlsafe(24)
        g.new_device_cookie = value
    return keyed_digest(settings().server.secret_key, f"device:{value}")[:32]


def is_new_device(member: Member, device: str) -> bool:
    """Whether the member signed in before, but never with this device (of the last 200
    sign-ins). One query, counted in the database rather than by reading every record."""
    recent = (
        select(AuditEvent.detail)
        .where(AuditEvent.member_id == member.id, AuditEvent.event == "signin")
        .order_by(AuditEvent.id.desc())
        .limit(RECENT_SIGN_INS)
        .subquery()
    )
    same = case((recent.c.detail["device"].as_string() == device, 1), else_=0)
    signins, with_device = db.session.execute(
        select(func.count(), func.coalesce(func.sum(same), 0)).select_from(recent)
    ).one()
    return signins > 0 and with_device == 0


def notify_new_device(member: Member) -> None:
    """Email the member about a sign-in from a new browser; call after committing."""
    browser = browser_name(request.user_agent.string or "")
    address = client_ip() or "?"
    when = utcnow()
    security_log = settings().server.issuer + "/account/security"
    notifications.notify(
        member,
        lambda: _(
            "Your account was just signed in to from a browser we have not seen before: "
            "%(browser)s, at %(when)s, from the address %(ip)s. If this was you, nothing needs "
            "doing. If not, change your password and check your security log: %(url)s",
            browser=browser, when=format_datetime(when, "medium"), ip=address, url=security_log,
        ),
    )  # fmt: skip


def browser_name(user_agent: str) -> str:
    """A short, readable browser and system name from a User-Agent string."""
    names = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Chrome/", "Chrome"), ("Firefox/", "Firefox"),
             ("Safari/", "Safari")]  # fmt: skip
    systems = [("Android", "Android"), ("iPhone", "iPhone"), ("Windows", "Windows"),
               ("Mac OS X", "macOS"), ("Linux", "Linux")]  # fmt: skip
    browser = next((name for token, name in names if token in user_agent), None)
    system = next((name for token, name in systems if token in user_agent), None)
    if browser and system:
        return f"{browser}, {system}"
    return browser or system or (user_agent[:40] or "—")


def set_device_cookie(response: Response) -> Response:
    value = g.pop("new_device_cookie", None)
    if value:
        response.set_cookie(
            _cookie_name(), value, max_age=int(DEVICE_LIFETIME.total_seconds()), httponly=True,
            secure=settings().issuer_is_https, samesite="Lax", path="/",
        )  # fmt: skip
    return response


def init_app(app: Flask) -> None:
    app.after_request(set_device_cookie)
