"""One answer for every OAuth 2.0 / OIDC error raised in a protocol view.

Errors are Authlib's error classes (one per error code), raised where detected. RFC 6749
§4.1.2.1: until the redirect URI is verified an error is shown to the member, never
redirected; after, it goes back to the client. Elsewhere it is the JSON of RFC 6749 §5.2,
with the WWW-Authenticate challenge of RFC 6750 §3 where the error class carries one.
"""

from __future__ import annotations

import re

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from flask import Flask, render_template

from ..db import db
from ..security import is_protocol_request
from .server import authorization_server


def repeated_parameter_error(name: str) -> InvalidRequestError:
    """RFC 6749 §3.1, §3.2: a parameter sent twice; named when its name is safe to echo."""
    if re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
        return InvalidRequestError(f"Parameter '{name}' is repeated.")
    return InvalidRequestError("A parameter is repeated.")


def error_page(error: str, description: str, **context):
    return render_template("oidc/error.html", error=error, description=description, **context), 400


def handle_oauth2_error(error: OAuth2Error):
    db.session.rollback()  # a refused request changes nothing
    if error.redirect_uri is None and not is_protocol_request():
        return error_page(error.error, error.description or "")
    return authorization_server().handle_error_response(None, error)


def init_app(app: Flask) -> None:
    app.register_error_handler(OAuth2Error, handle_oauth2_error)
