"""Dynamic client registration (RFC 7591 §3) and management (RFC 7592 §2).

POST /register needs an initial access token an operator minted (RFC 7591 §3, `idp clients
token`); GET/PUT/DELETE /register/<client_id> need that client's registration access token
(RFC 7592 §1). Secrets and tokens are shown once and kept hashed (security invariant 3), so a
read returns neither and never rotates them.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7592 import ClientConfigurationEndpoint
from flask import Blueprint, Flask, current_app, request
from sqlalchemy import delete

from .. import audit
from ..clock import utcnow
from ..db import db
from ..extensions import issuer, settings
from ..hashing import secret_digest, secret_matches
from ..models import Client, InitialAccessToken
from ..models.oauth import SECRET_METHODS, find_client
from ..models.registration import spend_initial_access_token
from ..security import csrf_exempt
from .client_cache import forget_client
from .clients import ClientMetadataError, NewClient, register_client, update_client

bp = Blueprint("registration", __name__)


def mint_initial_access_token(uses: int, lifetime: int, note: str = "") -> str:
    """Add an initial access token good for `uses` registrations (the caller commits)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        InitialAccessToken(
            token_hash=secret_digest(token),
            note=note,
            uses_left=uses,
            created_at=now,
            expires_at=now + timedelta(seconds=lifetime),
        )
    )
    return token


class RegistrationTokenError(InvalidTokenError):
    """RFC 6750 §3.1: the bearer token is missing, unknown, expired or used up."""

    def __init__(self, description: str) -> None:
        super().__init__(description)


def _bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise RegistrationTokenError("A bearer token is required.")
    return token.strip()


MAX_METADATA_DEPTH = 8  # the deepest real metadata is jwks: {"keys": [{...}]}


def _metadata_problem(document: object) -> str | None:
    """What makes a metadata document unusable: NUL anywhere, or absurd nesting."""
    pending = [(document, 0)]
    while pending:  # iterative: a deeply nested document must not exhaust the stack
        value, depth = pending.pop()
        if depth > MAX_METADATA_DEPTH:
            return "metadata is nested too deeply"
        if isinstance(value, str) and "\x00" in value:
            # NUL is valid JSON but no metadata allows it, and PostgreSQL text cannot hold it.
            return "metadata must not contain NUL"
        if isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, dict):
            pending.extend((item, depth + 1) for pair in value.items() for item in pair)
    return None


def _metadata_document() -> dict:
    """RFC 7591 §3.1: the request body is a JSON object."""
    document = None
    if request.mimetype == "application/json":
        try:
            document = request.get_json(silent=True)
        except RecursionError:  # nested beyond what the JSON decoder will follow
            document = None
    if not isinstance(document, dict):
        raise ClientMetadataError(
            "invalid_client_metadata", "the body must be a JSON object (application/json)"
        )
    if problem := _metadata_problem(document):
        raise ClientMetadataError("invalid_client_metadata", problem)
    return document


JSON_TYPES = {str: "a string", bool: "true or false", dict: "an object", list: "a string array"}


def _typed(document: dict, name: str, kind: type, default=None, error="invalid_client_metadata"):
    # A null value means the field is omitted (RFC 7592 §2.2).
    value = document.get(name)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is list and not all(isinstance(v, str) for v in value)):
        raise ClientMetadataError(error, f"{name} must be {JSON_TYPES[kind]}")
    return value


def new_client_from(document: dict, current: Client | None = None) -> NewClient:
    """Read RFC 7591 §2 metadata; fields we do not support are ignored, as §2 requires."""
    grant_types = _typed(document, "grant_types", list, ["authorization_code"])
    default_scope = "openid" if "authorization_code" in grant_types else ""
    # On update an omitted auth method keeps the current one (it may not change kind anyway).
    default_method = current.token_endpoint_auth_method if current else "client_secret_basic"
    _typed(document, "backchannel_logout_session_required", bool)  # accepted; sid is always sent
    scope = _typed(document, "scope", str, default_scope)
    if "roles" in scope.split():  # issue 20: roles authorise people; only operators allow them
        raise ClientMetadataError(
            "invalid_client_metadata", "the roles scope is allowed only by an operator"
        )
    return NewClient(
        name=_typed(document, "client_name", str, ""),
        redirect_uris=_typed(document, "redirect_uris", list, [], "invalid_redirect_uri"),
        scope=scope,
        post_logout_redirect_uris=_typed(
            document, "post_logout_redirect_uris", list, [], "invalid_redirect_uri"
        ),
        backchannel_logout_uri=_typed(document, "backchannel_logout_uri", str),
        id_token_signed_response_alg=_typed(document, "id_token_signed_response_alg", str, "RS256"),
        token_endpoint_auth_method=_typed(
            document, "token_endpoint_auth_method", str, default_method
        ),
        grant_types=grant_types,
        response_types=_typed(document, "response_types", list),
        jwks=_typed(document, "jwks", dict),
        jwks_uri=_typed(document, "jwks_uri", str),
        # Not registration metadata: an operator's choice (`idp clients create`), kept on update.
        access_token_alg=current.access_token_alg if current else None,
        # RFC 9126 §6 and RFC 9449 §5.2; a security profile is the operator's to set.
        require_pushed_authorization_requests=_typed(
            document, "require_pushed_authorization_requests", bool, False
        ),
        dpop_bound_access_tokens=_typed(document, "dpop_bound_access_tokens", bool, False),
    )


def client_information(client: Client, **credentials: str | None) -> dict:
    """RFC 7591 §3.2.1 / RFC 7592 §3: the registered metadata, plus any credentials given."""
    body = {
        "client_id": client.client_id,
        "client_id_issued_at": int(client.created_at.timestamp()),
        "client_name": client.name,
        "redirect_uris": client.redirect_uris,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "grant_types": client.grant_types,
        "response_types": client.response_types,
        "scope": client.scope,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "registration_client_uri": f"{issuer()}/register/{client.client_id}",
    }
    if client.backchannel_logout_uri:
        body["backchannel_logout_uri"] = client.backchannel_logout_uri
        body["backchannel_logout_session_required"] = True
    if client.jwks is not None:
        body["jwks"] = client.jwks
    if client.jwks_uri:
        body["jwks_uri"] = client.jwks_uri
    for flag in ("require_pushed_authorization_requests", "dpop_bound_access_tokens"):
        if getattr(client, flag):
            body[flag] = True
    if client.token_endpoint_auth_method in SECRET_METHODS:
        body["client_secret_expires_at"] = 0  # secrets do not expire
    return body | {name: value for name, value in credentials.items() if value}


class ClientRegistration(ClientRegistrationEndpoint):
    """RFC 7591 §3 on Authlib's endpoint: gated by an operator's initial access token."""

    def authenticate_token(self, request_):
        # Spent in the same transaction as the registration: bad metadata does not use it up.
        if not spend_initial_access_token(secret_digest(_bearer_token()), utcnow()):
            raise RegistrationTokenError("The initial access token is not valid.")
        return True

    def extract_client_metadata(self, request_) -> dict:
        request_.new_client = new_client_from(_metadata_document())
        return {}  # the answer is the stored client (generate_client_registration_info)

    def generate_client_info(self, request_) -> dict:
        return {}  # the client's id and secret are made where it is stored (clients.py)

    def save_client(self, client_info, client_metadata, request_) -> Client:
        client, secret = register_client(request_.new_client)
        token = secrets.token_urlsafe(32)
        client.registration_token_hash = secret_digest(token)
        audit.record("client_registered", client_id=client.client_id)
        db.session.commit()
        request_.credentials_issued = {"client_secret": secret, "registration_access_token": token}
        return client

    def generate_client_registration_info(self, client, request_) -> dict:
        # Replaces the whole answer: the registered metadata as stored, and the credentials.
        return client_information(client, **request_.credentials_issued)


class _RegistrationToken:
    """A presented registration access token; it names its client once that is checked."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.client: Client | None = None

    def check_client(self, client: Client) -> bool:
        return client is self.client


class ClientConfiguration(ClientConfigurationEndpoint):
    """RFC 7592 on Authlib's endpoint: the client's own registration access token manages it.

    Reads never return or rotate credentials (they are stored hashed); an update keeps the
    semantics of RFC 7592 §2.2 as the tests pin them (omitted client_id means this client).
    """

    def authenticate_token(self, request_) -> _RegistrationToken:
        return _RegistrationToken(_bearer_token())

    def authenticate_client(self, request_) -> Client:
        client = find_client(request.view_args["client_id"])
        token = request_.credential
        # A client registered by an operator has no registration token and is not managed here.
        if client is None or not secret_matches(token.value, client.registration_token_hash):
            raise RegistrationTokenError(
                "The registration access token is not valid for this client."
            )
        token.client = client
        return client

    def check_permission(self, client, request_) -> bool:
        return True

    def introspect_client(self, client) -> dict:
        return client_information(client)

    def generate_client_registration_info(self, client, request_) -> dict:
        return {}

    def create_update_client_response(self, client, request_):
        document = _metadata_document()
        # RFC 7592 §2.2: client_id (and client_secret, if sent) must be the current ones.
        if document.get("client_id", client.client_id) != client.client_id:
            raise ClientMetadataError("invalid_client_metadata", "client_id does not match")
        sent_secret = document.get("client_secret")
        if sent_secret is not None and not (
            isinstance(sent_secret, str) and client.check_client_secret(sent_secret)
        ):
            raise ClientMetadataError("invalid_client_metadata", "client_secret does not match")
        update_client(client, new_client_from(document, current=client))
        audit.record("client_updated", client_id=client.client_id)
        db.session.commit()
        return self.create_read_client_response(client, request_)

    def delete_client(self, client, request_) -> None:
        # Its codes, tokens, consents and spent assertions go with it (ON DELETE CASCADE).
        db.session.execute(delete(Client).where(Client.id == client.id))
        audit.record("client_deleted", client_id=client.client_id)
        db.session.commit()
        forget_client(client.client_id)  # a bulk DELETE passes no ORM event


@bp.before_request
def registration_enabled() -> None:
    if not settings().registration.enabled:
        raise InvalidRequestError("Dynamic client registration is disabled.", status_code=404)


@bp.route("/register", methods=["POST"])
@csrf_exempt
def register():
    return current_app.extensions["idp.oauth"].create_endpoint_response(
        ClientRegistration.ENDPOINT_NAME
    )


@bp.route("/register/<client_id>", methods=["GET", "PUT", "DELETE"])
@csrf_exempt
def manage_registration(client_id: str):
    return current_app.extensions["idp.oauth"].create_endpoint_response(
        ClientConfiguration.ENDPOINT_NAME
    )


def init_app(app: Flask) -> None:
    """Register both endpoints on the app's authorization server, and their routes."""
    server = app.extensions["idp.oauth"]
    server.register_endpoint(ClientRegistration)
    server.register_endpoint(ClientConfiguration)
    app.register_blueprint(bp)
