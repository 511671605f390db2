"""The authorization request: an ordered list of small checks, then the pending request.

OIDC Core 1.0 §3.1.2; RFC 6749 §4.1. What the member must do next is `prompts.py`; how
screens read and finish the request is `interaction.py`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError, OAuth2Request
from authlib.oauth2.rfc9101.errors import RequestUriNotSupportedError
from flask import request
from werkzeug.datastructures import MultiDict

from ..extensions import issuer, keystore
from ..keys import InvalidSignature
from ..models import Client, Member, PushedRequest
from ..models.oauth import find_client
from . import request_uris
from .errors import repeated_parameter_error
from .profiles import requires_pkce, requires_pushed_requests
from .request_objects import check_request_object_alone
from .request_uris import REQUEST_URI_PREFIX, authorization_request
from .server import authorization_server

INTERACTION_FIELDS = ("csrf_token", "decision")
SUPPORTED_PROMPTS = {"none", "login", "consent", "select_account"}


class UnsupportedParameterError(OAuth2Error):
    """OIDC Core §3.1.2.6 errors with their own codes (request objects, registration)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description=description, error=error)


def request_parameters() -> MultiDict:
    """The authorization request as sent (query for GET, form for POST), minus our own fields."""
    values = MultiDict(request.values)
    for name in INTERACTION_FIELDS:
        values.poplist(name)
    return values


# -- RFC 6749 §4.1.2.1: these two run first and never redirect ------------------------------


def check_client(params: MultiDict) -> Client:
    # Raised without a redirect_uri, so they are answered with a page (errors.py).
    ids = params.getlist("client_id")
    if len(ids) != 1 or not ids[0]:
        raise InvalidRequestError("client_id must be given exactly once.")
    client = find_client(ids[0])
    if client is None:
        raise InvalidClientError("The application is not registered.")
    return client


def check_redirect_uri(params: MultiDict, client: Client) -> str:
    uris = params.getlist("redirect_uri")
    if len(uris) != 1 or not uris[0]:
        raise InvalidRequestError("redirect_uri must be given exactly once.")
    if not client.check_redirect_uri(uris[0]):
        raise InvalidRequestError("The redirect_uri is not registered for this application.")
    return uris[0]


def resolve_parameters(raw: MultiDict, client: Client) -> tuple[MultiDict, PushedRequest | None]:
    """The request's own parameters, or those of its pushed request or request object.

    RFC 9126 §4 and RFC 9101 §6.3: with a request_uri or a request object, every other
    parameter comes from it, whatever else the query says.
    """
    for name in ("request", "request_uri"):
        if len(raw.getlist(name)) > 1:
            raise repeated_parameter_error(name)
    check_request_object_alone(raw)
    if "request_uri" in raw:
        # RFC 9101 §5.2 by reference from another host: not fetched (SSRF, and FAPI 2.0).
        if not raw["request_uri"].startswith(REQUEST_URI_PREFIX):
            raise RequestUriNotSupportedError()
        item, params = request_uris.redeem(raw["request_uri"], client)
        return params, item
    if requires_pushed_requests(client):
        raise InvalidRequestError("This client must push its authorization requests to /par.")
    if "request" in raw:
        return authorization_server().request_objects.parameters(
            authorization_request(raw), client
        ), None
    return raw, None


# -- Then, once the redirect URI is trusted, errors go back to the client --------------------


def check_no_repeated_parameters(params: MultiDict) -> None:
    # RFC 6749 §3.1: parameters MUST NOT be included more than once.
    for name in params:
        if len(params.getlist(name)) > 1:
            raise repeated_parameter_error(name)


def check_response_type_present(params: MultiDict) -> None:
    if not params.get("response_type"):
        raise InvalidRequestError("Missing 'response_type'.")


def check_response_mode(params: MultiDict) -> None:
    if params.get("response_mode", "query") != "query":
        raise InvalidRequestError("Only response_mode=query is supported.")


def check_no_registration(params: MultiDict) -> None:
    # A pushed request or a request object's claims carry no request or request_uri.
    if "request" in params or "request_uri" in params:
        raise InvalidRequestError("request and request_uri are not allowed here.")
    if "registration" in params:
        raise UnsupportedParameterError("registration_not_supported", "Use dynamic registration.")


def check_prompt(params: MultiDict) -> None:
    prompts = set(params.get("prompt", "").split())
    if not prompts <= SUPPORTED_PROMPTS:
        raise InvalidRequestError("Unsupported 'prompt' value.")
    if "none" in prompts and len(prompts) > 1:
        raise InvalidRequestError("prompt=none cannot be combined with other values.")


def check_max_age(params: MultiDict) -> None:
    value = params.get("max_age")
    if value is not None and not (value.isascii() and value.isdigit() and len(value) <= 9):
        raise InvalidRequestError("max_age must be a non-negative integer.")


def check_id_token_hint(params: MultiDict) -> None:
    if "id_token_hint" in params and id_token_hint_subject(params) is None:
        raise InvalidRequestError("Invalid 'id_token_hint'.")


def check_dpop_jkt(params: MultiDict) -> None:
    # RFC 9449 §10: a JWK SHA-256 thumbprint (RFC 7638), base64url without padding.
    if "dpop_jkt" in params and not re.fullmatch(r"[A-Za-z0-9_-]{43}", params["dpop_jkt"]):
        raise InvalidRequestError("dpop_jkt must be a JWK SHA-256 thumbprint.")


def check_claims(params: MultiDict) -> None:
    if "claims" in params:
        requested_claims(params)  # raises on anything but a JSON object


def check_pkce_required(params: MultiDict, client: Client) -> None:
    # Public clients (RFC 9700 §2.1.1) and FAPI 2.0 §5.3.2.2 item 5: PKCE with S256.
    if requires_pkce(client) and not params.get("code_challenge"):
        raise InvalidRequestError("This client must use PKCE (code_challenge, S256).")


CLIENT_CHECKS: list[Callable[[MultiDict, Client], None]] = [check_pkce_required]

REQUEST_CHECKS: list[Callable[[MultiDict], None]] = [
    check_no_repeated_parameters,
    check_response_type_present,
    check_response_mode,
    check_no_registration,
    check_prompt,
    check_max_age,
    check_id_token_hint,
    check_dpop_jkt,
    check_claims,
]


def requested_claims(params: MultiDict) -> dict:
    """OIDC Core §5.5 `claims`; only the essential `acr` request is acted on (step-up)."""
    try:
        value = json.loads(params.get("claims") or "{}")
    except ValueError as error:
        raise InvalidRequestError("'claims' must be a JSON object.") from error
    if not isinstance(value, dict) or not all(isinstance(v, dict | None) for v in value.values()):
        raise InvalidRequestError("'claims' must be a JSON object of objects.")
    return value


def id_token_hint_subject(params: MultiDict) -> str | None:
    """The sub of an ID token we issued (expired ones too: only the signature matters)."""
    try:
        _, claims = keystore().verify(params.get("id_token_hint", ""))
    except InvalidSignature:
        return None
    sub = claims.get("sub")
    return sub if claims.get("iss") == issuer() and isinstance(sub, str) else None


@dataclass
class PendingAuthorization:
    grant: object
    client: Client
    redirect_uri: str
    params: MultiDict
    prompts: set[str] = field(default_factory=set)
    # As sent: client_id and request_uri (or request) when the parameters came from those.
    raw: MultiDict | None = None
    pushed: PushedRequest | None = None

    @property
    def scope(self) -> str:
        return self.grant.request.scope

    @property
    def key(self) -> str:
        """Fingerprint of this exact request, to bind a fresh sign-in to it."""
        return hashlib.sha256(urlencode(sorted(self.params.items(multi=True))).encode()).hexdigest()

    @property
    def query_string(self) -> str:
        """The request to come back with: as sent, so a pushed or signed one stays so."""
        params = self.raw if self.raw is not None else self.params
        return urlencode(list(params.items(multi=True)))


def _run_checks(params: MultiDict, client: Client) -> None:
    for check in REQUEST_CHECKS:
        check(params)
    for client_check in CLIENT_CHECKS:
        client_check(params, client)


def validate_request(member: Member | None) -> PendingAuthorization:
    """Run every check in order; raise an OAuth2Error (with a redirect_uri once it is trusted)."""
    raw = request_parameters()
    client = check_client(raw)
    try:
        params, pushed = resolve_parameters(raw, client)
    except OAuth2Error as error:
        # Answered at the redirect_uri sent alongside, when it is one the client registered.
        uris = raw.getlist("redirect_uri")
        if len(uris) == 1 and client.check_redirect_uri(uris[0]):
            error.redirect_uri, error.state = uris[0], raw.get("state")
        raise
    redirect_uri = check_redirect_uri(params, client)
    try:
        _run_checks(params, client)
    except OAuth2Error as error:
        error.redirect_uri = redirect_uri
        error.state = params.get("state")
        raise
    oauth_request: OAuth2Request | None = None if params is raw else authorization_request(params)
    grant = authorization_server().get_consent_grant(oauth_request, end_user=member)
    prompts = set(params.get("prompt", "").split())
    return PendingAuthorization(
        grant, client, redirect_uri, params, prompts, None if params is raw else raw, pushed
    )


def check_pushed_parameters(raw: MultiDict, client: Client) -> MultiDict:
    """RFC 9126 §2.1: a pushed request is checked as /authorize would check it, then stored."""
    check_no_repeated_parameters(raw)
    params = raw
    if "request" in raw:
        params = authorization_server().request_objects.parameters(
            authorization_request(raw), client
        )
    check_redirect_uri(params, client)
    _run_checks(params, client)
    grant = authorization_server().get_authorization_grant(authorization_request(params))
    grant.validate_authorization_request()
    return params
