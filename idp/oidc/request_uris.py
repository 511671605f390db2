"""The request_uri of a pushed authorization request (RFC 9126 §2.2, §4) at /authorize.

Single use: the first browser to bring it claims it for the member's interaction (sign-in,
consent), only that browser may come back with it, and the authorization response ends it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload, OAuth2Request
from authlib.oauth2.rfc9101.errors import InvalidRequestUriError
from flask import request, session
from werkzeug.datastructures import MultiDict

from ..clock import utcnow
from ..db import db
from ..hashing import secret_digest
from ..models import Client, PushedRequest
from ..models.pushed import claim_pushed_request, consume_pushed_request, find_pushed_request

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
# RFC 9126 §2.2: short-lived; FAPI 2.0 §5.3.2.2 item 13: at most 600 seconds.
REQUEST_URI_LIFETIME = 60
# After the first use, how long the member has to sign in and consent in that browser.
INTERACTION_LIFETIME = 1800
BROWSER_KEY = "par_browser"


def authorization_request(params: MultiDict) -> OAuth2Request:
    """An Authlib request whose parameters are these (a pushed or signed request's)."""
    oauth_request = OAuth2Request(request.method, request.url, headers=request.headers)
    oauth_request.payload = BasicOAuth2Payload(params)
    return oauth_request


def _browser() -> str:
    """A random name for this browser, kept in its session cookie (hashed in the database)."""
    if BROWSER_KEY not in session:
        session[BROWSER_KEY] = secrets.token_urlsafe(16)
    return secret_digest(session[BROWSER_KEY])


def redeem(request_uri: str, client: Client) -> tuple[PushedRequest, MultiDict]:
    """The pushed request behind a request_uri, for this client and this browser only."""
    handle = request_uri.removeprefix(REQUEST_URI_PREFIX)
    item = find_pushed_request(secret_digest(handle)) if handle else None
    now = utcnow()
    if item is None or item.client_id != client.client_id or item.consumed_at is not None:
        raise InvalidRequestUriError(description="The request_uri is unknown or was used.")
    browser = _browser()
    if item.claimed_by is None:
        until = now + timedelta(seconds=INTERACTION_LIFETIME)
        if not claim_pushed_request(item, browser, until, now):
            raise InvalidRequestUriError(description="The request_uri has expired.")
        db.session.commit()
    elif item.claimed_by != browser or item.expires_at <= now:
        raise InvalidRequestUriError(description="The request_uri is unknown or was used.")
    return item, MultiDict(item.parameters)


def finish(item: PushedRequest | None) -> None:
    """The authorization response is being made: the request_uri is spent, granted or not."""
    if item is not None:
        consume_pushed_request(item, utcnow())
        db.session.commit()  # spent even when the answer is access_denied
