"""Server-side sessions: the cookie carries a random token, the data lives in our database.

Rows carry the identity provider's `sid` and `sub`, so a back-channel logout can end them
(OpenID Connect Back-Channel Logout 1.0 §2.7); a new token is issued at sign-in and sign-out
against session fixation. Session writes run in their own transaction, apart from the view's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, update
from sqlalchemy.orm import Session
from werkzeug.datastructures import CallbackDict

from .clock import utcnow
from .db import db
from .models import BrowserSession


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, data: dict | None = None, token: str | None = None) -> None:
        def changed(_self) -> None:
            self.modified = True

        super().__init__(data, changed)
        self.token = token
        self.modified = False
        self.renew = False

    def regenerate(self) -> None:
        """Issue a new token at the end of this request; the old row is deleted."""
        self.renew = True
        self.modified = True


def _row_id(app: Flask, token: str) -> str:
    return hmac.new(app.secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


class DatabaseSessionInterface(SessionInterface):
    def get_cookie_name(self, app: Flask) -> str:
        # RFC 6265bis §4.1.3.2: a __Host- cookie is Secure, host-only and path=/.
        return (
            "__Host-benefits_session" if app.config["SESSION_COOKIE_SECURE"] else "benefits_session"
        )

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app), "")
        if not token or len(token) > 128:
            return ServerSession()
        with Session(db.engine) as store:
            row = store.get(BrowserSession, _row_id(app, token))
            if row is None or row.expires_at <= utcnow():
                return ServerSession()
            return ServerSession(row.data, token)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        if not session.modified:
            return
        name = self.get_cookie_name(app)
        with Session(db.engine) as store, store.begin():
            if session.token and (session.renew or not session):
                store.execute(
                    delete(BrowserSession).where(BrowserSession.id == _row_id(app, session.token))
                )
            if not session:
                response.delete_cookie(name, path="/")
                return
            if session.token and not session.renew:
                # An update only: a session ended meanwhile (back-channel logout) stays ended.
                stored = store.execute(
                    update(BrowserSession)
                    .where(BrowserSession.id == _row_id(app, session.token))
                    .values(data=dict(session), **_binding(session))
                ).rowcount
                if not stored:
                    response.delete_cookie(name, path="/")
                return
            token = secrets.token_urlsafe(32)
            now = utcnow()
            lifetime = timedelta(
                seconds=app.extensions["benefits.settings"].server.session_lifetime
            )
            store.add(
                BrowserSession(
                    id=_row_id(app, token),
                    data=dict(session),
                    created_at=now,
                    expires_at=now + lifetime,
                    **_binding(session),
                )
            )
        response.set_cookie(
            name,
            token,
            httponly=True,
            samesite="Lax",
            secure=app.config["SESSION_COOKIE_SECURE"],
            path="/",
        )


def _binding(session: ServerSession) -> dict:
    member = session.get("member") or {}
    return {"subject": member.get("sub"), "idp_sid": member.get("sid")}


def end_member_sessions(*, sub: str | None, sid: str | None) -> int:
    """End the sessions a logout token names: by sid, by sub, or by both (caller commits)."""
    query = delete(BrowserSession)
    if sid:
        query = query.where(BrowserSession.idp_sid == sid)
    if sub:
        query = query.where(BrowserSession.subject == sub)
    return db.session.execute(query).rowcount


def purge_expired_sessions() -> None:
    """Drop expired rows (caller commits)."""
    db.session.execute(delete(BrowserSession).where(BrowserSession.expires_at <= utcnow()))


def init_app(app: Flask) -> None:
    app.config["SESSION_COOKIE_SECURE"] = app.extensions["benefits.settings"].is_https
    app.session_interface = DatabaseSessionInterface()
