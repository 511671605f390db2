"""SSO sessions: server-side state, an opaque HttpOnly cookie, rotated at every sign-in."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Response, g, request
from sqlalchemy import select

from ..audit import client_ip
from ..clock import utcnow
from ..db import db
from ..extensions import settings
from ..hashing import secret_digest
from ..models import Member, SsoSession
from ..models.sessions import new_sid

# Writing last_seen_at on every request would turn each page view into a write.
_TOUCH_INTERVAL = timedelta(seconds=60)


def cookie_name() -> str:
    """`__Host-` prefix under https (security invariant 8)."""
    conf = settings()
    return (
        f"__Host-{conf.session.cookie_name}" if conf.issuer_is_https else conf.session.cookie_name
    )


def is_live(sso: SsoSession) -> bool:
    now = utcnow()
    idle = timedelta(seconds=settings().session.idle_lifetime)
    return (
        sso.ended_at is None
        and sso.expires_at > now
        and sso.last_seen_at + idle > now
        and sso.member.status == "active"
    )


def current_session() -> SsoSession | None:
    """The live SSO session of this browser, if any (cached per request)."""
    if "sso_session" in g:
        return g.sso_session
    token = request.cookies.get(cookie_name())
    sso = None
    if token and len(token) <= 128:
        found = db.session.scalar(
            select(SsoSession).where(SsoSession.token_hash == secret_digest(token))
        )
        if found is not None and is_live(found):
            sso = found
            if utcnow() - found.last_seen_at >= _TOUCH_INTERVAL:
                found.last_seen_at = utcnow()
                db.session.commit()
    g.sso_session = sso
    return sso


def current_member() -> Member | None:
    sso = current_session()
    return sso.member if sso else None


def start_session(member: Member, *, acr: str, amr: list[str]) -> SsoSession:
    """Open a new session for a fresh sign-in, ending the browser's previous one."""
    previous = current_session()
    now = utcnow()
    if previous is not None:
        previous.ended_at = now
    token = secrets.token_urlsafe(32)
    sso = SsoSession(
        sid=new_sid(),
        token_hash=secret_digest(token),
        member=member,
        auth_time=now,
        acr=acr,
        amr=amr,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=settings().session.absolute_lifetime),
        ip=client_ip(),
        user_agent=request.user_agent.string[:255],
    )
    db.session.add(sso)
    g.sso_session = sso
    g.sso_cookie = token
    return sso


def end_session(sso: SsoSession) -> None:
    sso.ended_at = utcnow()
    g.sso_session = None
    g.sso_cookie = ""


def write_cookie(response: Response) -> Response:
    """After-request hook: set or clear the session cookie when this request changed it."""
    token = g.pop("sso_cookie", None)
    if token is None:
        return response
    secure = settings().issuer_is_https
    if token:
        response.set_cookie(
            cookie_name(), token, httponly=True, secure=secure, samesite="Lax", path="/"
        )
    else:
        response.delete_cookie(
            cookie_name(), httponly=True, secure=secure, samesite="Lax", path="/"
        )
    return response
