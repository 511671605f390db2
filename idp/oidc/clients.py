"""Registering relying-party clients: metadata checks, a secret shown once, stored hashed."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..clock import utcnow
from ..config import is_loopback
from ..db import db
from ..extensions import keystore
from ..hashing import secret_digest
from ..models import Client
from ..models.oauth import scope_list
from .claims import SCOPE_CLAIMS


class ClientMetadataError(ValueError):
    """RFC 7591 §3.2.2 error code plus a message naming the field."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


def check_redirect_uri(uri: str, field_name: str = "redirect_uri") -> str:
    """https, or http on loopback; absolute; no fragment (RFC 6749 §3.1.2)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ClientMetadataError("invalid_redirect_uri", f"{field_name} must be an absolute URL")
    if parts.fragment or "#" in uri:
        raise ClientMetadataError("invalid_redirect_uri", f"{field_name} must not have a fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ClientMetadataError(
            "invalid_redirect_uri", f"{field_name} must use https (http only on loopback)"
        )
    return uri


@dataclass(frozen=True)
class NewClient:
    name: str
    redirect_uris: list[str]
    scope: str = "openid"
    public: bool = False
    first_party: bool = False
    require_mfa: bool = False
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    backchannel_logout_uri: str | None = None
    id_token_signed_response_alg: str = "RS256"


def register_client(data: NewClient) -> tuple[Client, str | None]:
    """Add a client (the caller commits); return it with its secret, which is not kept."""
    name = data.name.strip()
    if not name or len(name) > 200:
        raise ClientMetadataError("invalid_client_metadata", "client name must be 1-200 characters")
    if not data.redirect_uris:
        raise ClientMetadataError("invalid_redirect_uri", "at least one redirect_uri is required")
    redirect_uris = [check_redirect_uri(u) for u in data.redirect_uris]
    logout_uris = [
        check_redirect_uri(u, "post_logout_redirect_uri") for u in data.post_logout_redirect_uris
    ]
    if data.backchannel_logout_uri:
        check_redirect_uri(data.backchannel_logout_uri, "backchannel_logout_uri")
    scopes = scope_list(data.scope)
    unknown = [s for s in scopes if s not in SCOPE_CLAIMS]
    if unknown or "openid" not in scopes:
        raise ClientMetadataError(
            "invalid_client_metadata",
            f"scope must include openid and only known scopes ({' '.join(SCOPE_CLAIMS)})",
        )
    if data.id_token_signed_response_alg not in keystore().algorithms:
        raise ClientMetadataError(
            "invalid_client_metadata",
            f"id_token_signed_response_alg must be one of {', '.join(keystore().algorithms)}",
        )
    secret = None if data.public else secrets.token_urlsafe(32)
    client = Client(
        client_id=secrets.token_urlsafe(16),
        client_secret_hash=secret_digest(secret) if secret else None,
        name=name,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=logout_uris,
        backchannel_logout_uri=data.backchannel_logout_uri,
        scope=" ".join(dict.fromkeys(scopes)),
        token_endpoint_auth_method="none" if data.public else "client_secret_basic",
        grant_types=["authorization_code"],
        response_types=["code"],
        id_token_signed_response_alg=data.id_token_signed_response_alg,
        first_party=data.first_party,
        require_mfa=data.require_mfa,
        created_at=utcnow(),
    )
    db.session.add(client)
    return client, secret
