"""Request hygiene: CSRF, security headers, size caps, strict UTF-8, and error answers."""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
from urllib.parse import parse_qsl, unquote, urlsplit

from flask import (
    Flask,
    abort,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .db import db

MAX_QUERY_BYTES = 8192
# Endpoints that speak OAuth/JSON answer errors as RFC 6749 §5.2 JSON, never as pages.
PROTOCOL_PATHS = (
    "/token",
    "/userinfo",
    "/jwks",
    "/.well-known/",
    "/revoke",
    "/introspect",
    "/register",
    "/par",
)


def csrf_exempt(view):
    """Mark a view that is not cookie-authenticated (protocol endpoints)."""
    view.csrf_exempt = True
    return view


def csrf_token() -> str:
    """The per-browser CSRF token, embedded as a hidden field in every POST form."""
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(32)
    return session["csrf_token"]


# WHATWG URL §4.4: browsers drop ASCII tabs and newlines anywhere and C0 controls and spaces
# at the ends, and read "\\" as "/" in http(s) URLs. A target is checked as a browser reads it.
_URL_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(target: str | None) -> str:
    """Only paths on our own origin, as the browser will read them: never an open redirect."""
    if target:
        seen = _URL_CONTROLS.sub("", target).strip(" ").replace("\\", "/")
        parts = urlsplit(seen)
        if (
            seen.startswith("/")
            and not seen.startswith("//")
            and not (parts.scheme or parts.netloc)
        ):
            return seen
    return url_for("account.profile")


def json_error(error: str, description: str, status: int):
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def is_protocol_request() -> bool:
    return request.path.startswith(PROTOCOL_PATHS)


Pairs = list[tuple[str, str]]


def _urlencoded_pairs(raw: bytes) -> Pairs | None:
    """Decode strictly, or None: werkzeug would quietly replace bytes that are not UTF-8."""
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except ValueError:  # UnicodeDecodeError included
        return None


def _query_pairs() -> Pairs | None:
    return _urlencoded_pairs(request.query_string)


def _form_pairs() -> Pairs | None:
    if request.method != "POST":
        return []
    if request.mimetype == "application/x-www-form-urlencoded":
        return _urlencoded_pairs(request.get_data(cache=True))
    if request.mimetype == "multipart/form-data":
        return list(request.form.items(multi=True))
    return []


def _basic_credentials() -> Pairs | None:
    """RFC 6749 §2.3.1: Basic credentials are form-encoded client_id:client_secret, base64ed."""
    parts = request.headers.get("Authorization", "").split(None, 1)
    if len(parts) != 2 or parts[0].lower() != "basic":
        return []
    try:
        client_id, _sep, secret = base64.b64decode(parts[1]).decode("utf-8").partition(":")
        return [(unquote(client_id, errors="strict"), unquote(secret, errors="strict"))]
    except binascii.Error:
        return []  # not base64 at all: client authentication answers invalid_client
    except ValueError:  # a non-ASCII header, or credentials that are not UTF-8
        return None


# Read in this order, so an unreadable query is refused before the body is read.
INPUT_READERS = (_query_pairs, _form_pairs, _basic_credentials)


def _has_nul(pairs: Pairs) -> bool:
    # NUL is valid UTF-8, but no parameter allows it and PostgreSQL text cannot hold it.
    return any("\x00" in name or "\x00" in value for name, value in pairs)


def check_readable_input() -> None:
    """Refuse parameters that are not strict UTF-8 or carry NUL, before any view reads them."""
    for read in INPUT_READERS:
        pairs = read()
        if pairs is None:
            abort(400, description=_("The request is not valid UTF-8."))
        if _has_nul(pairs):
            abort(400, description=_("The request contains characters that are not allowed."))


def check_csrf() -> None:
    """Every state-changing, cookie-authenticated request carries the session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "csrf_exempt", False):
        return
    if _from_another_origin():
        abort(403, description=_("This form was sent from another website and was refused."))
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf_token", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description=_("Your session expired. Please try again."))


def _from_another_origin() -> bool:
    """Whether the browser says this request came from another site's page (defence in depth
    beside the CSRF token). Fetch Metadata (`Sec-Fetch-Site`) is sent whatever the referrer
    policy; `Origin` (RFC 6454 §7) is "null" under ours (no-referrer), so only a named
    origin counts."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    return origin not in (None, "null") and origin != _own_origin()


def _own_origin() -> str:
    """The issuer's origin (scheme://host[:port]), as browsers send it in Origin."""
    parts = urlsplit(current_app.extensions["idp.settings"].server.issuer)
    return f"{parts.scheme}://{parts.netloc}"


def check_request() -> None:
    """Before-request: refuse oversized or unreadable input and cross-site form posts."""
    if len(request.query_string) > MAX_QUERY_BYTES:
        abort(414)
    check_readable_input()
    check_csrf()


def security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        )
        headers.setdefault("Cache-Control", "no-store")
    if request.is_secure or request.headers.get("X-Forwarded-Proto") == "https":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def handle_http_error(error: HTTPException):
    """Every HTTP error gets a clear answer: OAuth JSON on protocol paths, a page elsewhere."""
    status = error.code or 500
    if is_protocol_request():
        code = "invalid_request" if status < 500 else "server_error"
        response = json_error(code, error.description or error.name, status)
    else:
        # Werkzeug's stock descriptions are English: the page says it in the member's language,
        # and shows a description only when our code wrote one (already translated).
        detail = error.description if error.description != type(error).description else None
        response = render_template("error.html", status=status, detail=detail), status
    response = make_response(response)
    if status == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


RETRY_AFTER_OUTAGE = 5  # seconds; the pool pings and reconnects by itself


def handle_database_outage(error: OperationalError):
    """The database is unreachable: 503 with Retry-After, never a 500 (RFC 9110 §15.6.4)."""
    current_app.logger.error("database unavailable: %s", type(error.orig or error).__name__)
    try:
        db.session.rollback()
    except OperationalError:
        pass  # the connection is gone; the pool replaces it on the next checkout
    return service_unavailable(RETRY_AFTER_OUTAGE)


def service_unavailable(retry_after: int):
    """503 with Retry-After: OAuth JSON on protocol paths, the "try again" page elsewhere."""
    if is_protocol_request():
        response = json_error(
            "temporarily_unavailable", "The service is unavailable; try again shortly.", 503
        )
    else:
        response = make_response(
            render_template("error.html", status=503, error=None, outage=True), 503
        )
    response.headers["Retry-After"] = str(retry_after)
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(OperationalError, handle_database_outage)
    app.before_request(check_request)
    app.after_request(security_headers)
    app.register_error_handler(HTTPException, handle_http_error)
    app.jinja_env.globals["csrf_token"] = csrf_token
