"""SSO sessions: server-side state, an opaque HttpOnly cookie, rotated at every sign-in.

The one home of the session store. Every way a session ends goes through `end_sessions`,
which runs the end-of-session hooks other parts register (the protocol's back-channel
logout among them), so this module knows nothing of what they do.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from flask import Flask, Response, current_app, g, request
from sqlalchemy import select

from . import audit
from .audit import client_ip
from .clock import utcnow
from .db import db, upsert
from .extensions import settings
from .hashing import secret_digest
from .models import Member, SessionClient, SsoSession
from .models.refresh import revoke_member_tokens, revoke_session_tokens
from .models.sessions import new_sid

# A hook is told of each ending session and answers how many clients it will notify.
SessionEndHook = Callable[[SsoSession], int]

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


def start_session(member: Member, *, acr: str, amr: list[str], password: bool = True) -> SsoSession:
    """Record a fresh sign-in: a new session, or the same member's session re-authenticated.

    Either way the cookie gets a new random value (security invariant 8). Re-authentication
    (prompt=login, max_age, step-up) keeps the sid, so clients already signed in stay so.
    `auth_time` is when the password was last entered: a step-up with a second factor alone
    (password=False) raises `acr` but leaves it, so it says only what happened.
    """
    previous = current_session()
    now = utcnow()
    token = secrets.token_urlsafe(32)
    if previous is not None and previous.member_id == member.id:
        previous.token_hash = secret_digest(token)
        if password:
            previous.auth_time = now
        previous.acr, previous.amr = acr, amr
        previous.last_seen_at = now
        previous.expires_at = now + timedelta(seconds=settings().session.absolute_lifetime)
        g.sso_cookie = token
        return previous
    if previous is not None:
        end_sessions([previous], "replaced")
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


def on_session_end(app: Flask, hook: SessionEndHook) -> None:
    """Register a hook run for every session that ends (in the ending transaction)."""
    app.extensions.setdefault("idp.session_end_hooks", []).append(hook)


def end_sessions(sessions: list[SsoSession], reason: str) -> None:
    """End sessions: their tokens are revoked and every end-of-session hook runs."""
    now = utcnow()
    hooks: list[SessionEndHook] = current_app.extensions.get("idp.session_end_hooks", [])
    for sso in sessions:
        sso.ended_at = sso.ended_at or now
        revoke_session_tokens(sso.sid, now)
        notified = sum(hook(sso) for hook in hooks)
        audit.record(
            "session_ended",
            member_id=sso.member_id,
            detail={"reason": reason, "clients_notified": notified},
        )
        if g.get("sso_session") is sso:
            g.sso_session = None
            g.sso_cookie = ""


def _open_sessions(member_id: int) -> list[SsoSession]:
    return db.session.scalars(
        select(SsoSession)
        .where(SsoSession.member_id == member_id, SsoSession.ended_at.is_(None))
        .order_by(SsoSession.last_seen_at.desc())
    ).all()


def member_sessions(member_id: int) -> list[SsoSession]:
    """The member's live sessions, most recently active first."""
    return [sso for sso in _open_sessions(member_id) if is_live(sso)]


def end_member_sessions(
    member_id: int, reason: str, *, keep: SsoSession | None = None, all_grants: bool = False
) -> int:
    """End every session of a member but `keep`; with all_grants, offline grants too."""
    ending = [sso for sso in _open_sessions(member_id) if sso is not keep]
    end_sessions(ending, reason)
    if all_grants:
        revoke_member_tokens(member_id, utcnow())
    return len(ending)


def remember_session_client(session_id: int, client_id: str) -> None:
    """Note that this session signed in to a client (whom to tell at logout)."""
    now = utcnow()
    db.session.execute(
        upsert(
            SessionClient,
            {"session_id": session_id, "client_id": client_id, "first_at": now, "last_at": now},
            ["session_id", "client_id"],
            {"last_at": now},
        )
    )


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


def init_app(app: Flask) -> None:
    app.after_request(write_cookie)
