"""Dynamic client registration (RFC 7591 §3) and management (RFC 7592 §2).

POST /register needs an initial access token an operator minted (RFC 7591 §3, `idp clients
token`); GET/PUT/DELETE /register/<client_id> need that client's registration access token
(RFC 7592 §1). Secrets and tokens are shown once and kept hashed (security invariant 3), so a
read returns neither and never rotates them.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Blueprint, jsonify, request
from sqlalchemy import delete
from werkzeug.exceptions import HTTPException

from .. import audit
from ..clock import utcnow
from ..db import db
from ..extensions import issuer, settings
from ..hashing import secret_digest, secret_matches
from ..models import Client, InitialAccessToken
from ..models.oauth import SECRET_METHODS, find_client
from ..models.registration import spend_initial_access_token
from ..security import csrf_exempt, json_error
from .clients import ClientMetadataError, NewClient, register_client, update_client

bp = Blueprint("registration", __name__)


class InvalidTokenError(Exception):
    """RFC 6750 §3.1: the bearer token is missing, unknown, expired or used up."""


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


def _bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidTokenError("A bearer token is required.")
    return token.strip()


def _no_nul(value: object) -> bool:
    # NUL is valid JSON but no metadata allows it, and PostgreSQL text cannot hold it.
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, list):
        return all(_no_nul(v) for v in value)
    if isinstance(value, dict):
        return all(_no_nul(k) and _no_nul(v) for k, v in value.items())
    return True


def _metadata_document() -> dict:
    """RFC 7591 §3.1: the request body is a JSON object."""
    document = request.get_json(silent=True) if request.mimetype == "application/json" else None
    if not isinstance(document, dict):
        raise ClientMetadataError(
            "invalid_client_metadata", "the body must be a JSON object (application/json)"
        )
    if not _no_nul(document):
        raise ClientMetadataError("invalid_client_metadata", "metadata must not contain NUL")
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
    if client.token_endpoint_auth_method in SECRET_METHODS:
        body["client_secret_expires_at"] = 0  # secrets do not expire
    return body | {name: value for name, value in credentials.items() if value}


def _answer(body: dict, status: int):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _managed_client(client_id: str) -> Client:
    """RFC 7592 §1: the client whose registration access token is presented."""
    token = _bearer_token()
    client = find_client(client_id)
    # A client registered by an operator has no registration token and is not managed here.
    if client is None or not secret_matches(token, client.registration_token_hash):
        raise InvalidTokenError("The registration access token is not valid for this client.")
    return client


@bp.before_request
def registration_enabled():
    if not settings().registration.enabled:
        return json_error("invalid_request", "Dynamic client registration is disabled.", 404)
    return None


@bp.route("/register", methods=["POST"])
@csrf_exempt
def register():
    token = _bearer_token()
    # Spent in the same transaction as the registration: bad metadata does not use it up.
    if not spend_initial_access_token(secret_digest(token), utcnow()):
        raise InvalidTokenError("The initial access token is not valid.")
    client, secret = register_client(new_client_from(_metadata_document()))
    registration_token = secrets.token_urlsafe(32)
    client.registration_token_hash = secret_digest(registration_token)
    audit.record("client_registered", client_id=client.client_id)
    db.session.commit()
    body = client_information(
        client, client_secret=secret, registration_access_token=registration_token
    )
    return _answer(body, 201)


@bp.route("/register/<client_id>", methods=["GET"])
@csrf_exempt
def read_registration(client_id: str):
    return _answer(client_information(_managed_client(client_id)), 200)


@bp.route("/register/<client_id>", methods=["PUT"])
@csrf_exempt
def update_registration(client_id: str):
    client = _managed_client(client_id)
    document = _metadata_document()
    # RFC 7592 §2.2: client_id (and client_secret, if sent) must be the current ones.
    if document.get("client_id", client_id) != client_id:
        raise ClientMetadataError("invalid_client_metadata", "client_id does not match")
    sent_secret = document.get("client_secret")
    if sent_secret is not None and not (
        isinstance(sent_secret, str) and client.check_client_secret(sent_secret)
    ):
        raise ClientMetadataError("invalid_client_metadata", "client_secret does not match")
    update_client(client, new_client_from(document, current=client))
    audit.record("client_updated", client_id=client.client_id)
    db.session.commit()
    return _answer(client_information(client), 200)


@bp.route("/register/<client_id>", methods=["DELETE"])
@csrf_exempt
def delete_registration(client_id: str):
    client = _managed_client(client_id)
    # Its codes, tokens, consents and spent assertions go with it (ON DELETE CASCADE).
    db.session.execute(delete(Client).where(Client.id == client.id))
    audit.record("client_deleted", client_id=client_id)
    db.session.commit()
    return "", 204, {"Cache-Control": "no-store"}


@bp.errorhandler(ClientMetadataError)
def metadata_error(error: ClientMetadataError):
    # RFC 7591 §3.2.2; nothing of the failed request is kept, the initial access token included.
    db.session.rollback()
    return json_error(error.error, str(error), 400)


@bp.errorhandler(InvalidTokenError)
def token_error(error: InvalidTokenError):
    db.session.rollback()
    response = json_error("invalid_token", str(error), 401)
    response.headers["WWW-Authenticate"] = (
        f'Bearer error="invalid_token", error_description="{error}"'
    )
    return response


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Oversized or unreadable bodies answer as OAuth JSON, like the other protocol endpoints."""
    db.session.rollback()
    status = error.code or 500
    code = "invalid_request" if status < 500 else "server_error"
    return json_error(code, error.description or error.name, status)
