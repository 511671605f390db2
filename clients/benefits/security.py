"""Request hygiene: CSRF on every form post, security headers, error pages, safe redirects."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable

from flask import Flask, Response, abort, current_app, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException


def csrf_exempt(view: Callable) -> Callable:
    """Mark a view that no browser cookie authenticates (the back-channel logout endpoint)."""
    view.csrf_exempt = True
    return view


def csrf_token() -> str:
    """The session's CSRF token, for the hidden `csrf_token` field of every POST form."""
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(32)
    return session["csrf_token"]


def check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "csrf_exempt", False):
        return
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf_token", "")
    # constant time: the token is a secret
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description=_("Your session expired. Please try again."))


def safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cache-Control", "no-store")  # every page shows a member's own data
    if response.mimetype == "text/html":
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self' "
            + current_app.extensions["benefits.settings"].oidc.issuer,
        )
    return response


def error_page(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    # Werkzeug's stock descriptions are English: show only one our own code wrote.
    detail = error.description if error.description != type(error).description else None
    return render_template("error.html", status=status, detail=detail), status


def init_app(app: Flask) -> None:
    app.before_request(check_csrf)
    app.after_request(security_headers)
    app.register_error_handler(HTTPException, error_page)
    app.jinja_env.globals["csrf_token"] = csrf_token
