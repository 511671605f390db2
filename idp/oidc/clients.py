"""Registering relying-party clients: metadata checks, a secret shown once, stored hashed.

The same rules serve the CLI and dynamic registration (RFC 7591 §2, §2.1; OIDC Registration §2).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error

from ..clock import utcnow
from ..config import is_loopback
from ..db import db
from ..extensions import keystore
from ..hashing import secret_digest
from ..models import Client
from ..models.oauth import SECRET_METHODS, scope_list
from . import outbound
from .claims import SCOPE_CLAIMS
from .client_auth import TOKEN_ENDPOINT_AUTH_METHODS, JwksError, public_signing_keys
from .profiles import FAPI2, profile_problem

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
RESPONSE_TYPES = ("code",)


class ClientMetadataError(OAuth2Error):
    """RFC 7591 §3.2.2: invalid_redirect_uri or invalid_client_metadata, naming the field."""

    def __init__(self, error: str, message: str) -> None:
        # RFC 6749 §5.2: error_description is printable ASCII without '"' and '\\'.
        text = message.replace('"', "'").replace("\\", "/").encode("ascii", "replace").decode()
        super().__init__(description=text, error=error)

    def __str__(self) -> str:
        return self.description


def check_redirect_uri(
    uri: str, field_name: str = "redirect_uri", error: str = "invalid_redirect_uri"
) -> str:
    """https, or http on loopback; absolute; no fragment (RFC 6749 §3.1.2)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ClientMetadataError(error, f"{field_name} must be an absolute URL")
    if parts.fragment or "#" in uri:
        raise ClientMetadataError(error, f"{field_name} must not have a fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ClientMetadataError(error, f"{field_name} must use https (http only on loopback)")
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
    access_token_alg: str | None = None  # None: [tokens] access_token_alg
    # None: "none" for a public client, else client_secret_basic (RFC 7591 §2 default).
    token_endpoint_auth_method: str | None = None
    grant_types: list[str] = field(default_factory=lambda: ["authorization_code"])
    # None: derived from grant_types ("code" exactly when authorization_code is used).
    response_types: list[str] | None = None
    jwks: dict | None = None
    jwks_uri: str | None = None
    require_pushed_authorization_requests: bool = False
    dpop_bound_access_tokens: bool = False
    # A security profile the client is held to (profiles.py), e.g. "fapi2".
    profile: str | None = None

    @property
    def auth_method(self) -> str:
        return self.token_endpoint_auth_method or ("none" if self.public else "client_secret_basic")


def _fail(message: str) -> ClientMetadataError:
    return ClientMetadataError("invalid_client_metadata", message)


def _auth_method(data: NewClient) -> str:
    method = data.auth_method
    if method not in TOKEN_ENDPOINT_AUTH_METHODS:
        raise _fail(f"token_endpoint_auth_method must be one of {TOKEN_ENDPOINT_AUTH_METHODS}")
    if data.public and method != "none":
        raise _fail("a public client uses token_endpoint_auth_method none")
    return method


def _grants(data: NewClient, method: str) -> tuple[list[str], list[str]]:
    """RFC 7591 §2.1: grant_types and response_types must agree."""
    grant_types = list(dict.fromkeys(data.grant_types))
    if not grant_types or not set(grant_types) <= set(GRANT_TYPES):
        raise _fail(f"grant_types must be some of {list(GRANT_TYPES)}")
    code_flow = "authorization_code" in grant_types
    if data.response_types is None:
        response_types = ["code"] if code_flow else []
    else:
        response_types = list(dict.fromkeys(data.response_types))
    if not set(response_types) <= set(RESPONSE_TYPES):
        raise _fail('response_types must be ["code"] or []')
    if ("code" in response_types) != code_flow:
        raise _fail('response type "code" goes with grant type authorization_code, and only it')
    if "refresh_token" in grant_types and not code_flow:
        raise _fail("grant type refresh_token needs authorization_code")
    if "client_credentials" in grant_types and method == "none":
        raise _fail("grant type client_credentials needs an authenticating client, not none")
    return grant_types, response_types


def _scope(data: NewClient, code_flow: bool) -> str:
    scopes = scope_list(data.scope)
    unknown = [s for s in scopes if s not in SCOPE_CLAIMS]
    if unknown or (code_flow and "openid" not in scopes):
        raise _fail(f"scope must include openid and only known scopes ({' '.join(SCOPE_CLAIMS)})")
    return " ".join(dict.fromkeys(scopes))


def _callable_uri(uri: str, field_name: str) -> str:
    """A URL we will call (keys, logout tokens): allowed by the outbound policy (SSRF)."""
    check_redirect_uri(uri, field_name, "invalid_client_metadata")
    if not outbound.check_destination(uri):
        raise _fail(
            f"{field_name} must be an https URL of a public host (or one the operator allows)"
        )
    return uri


def _keys(data: NewClient, method: str) -> tuple[dict | None, str | None]:
    """RFC 7591 §2: jwks and jwks_uri never both; here only for private_key_jwt, which needs one."""
    if data.jwks is not None and data.jwks_uri is not None:
        raise _fail("jwks and jwks_uri must not both be present")
    if method != "private_key_jwt":
        if data.jwks is not None or data.jwks_uri is not None:
            raise _fail("jwks and jwks_uri are only used with private_key_jwt")
        return None, None
    if data.jwks_uri is not None:
        return None, _callable_uri(data.jwks_uri, "jwks_uri")
    if data.jwks is None:
        raise _fail("private_key_jwt needs jwks or jwks_uri")
    try:
        public_signing_keys(data.jwks)
    except JwksError as error:
        raise _fail(f"jwks: {error}") from error
    return data.jwks, None


def client_columns(data: NewClient) -> dict:
    """Validate metadata; return the Client column values it sets (no secrets, no flags)."""
    name = data.name.strip()
    if not name or len(name) > 200:
        raise _fail("client_name must be 1-200 characters")
    method = _auth_method(data)
    grant_types, response_types = _grants(data, method)
    code_flow = "authorization_code" in grant_types
    if code_flow and not data.redirect_uris:
        raise ClientMetadataError("invalid_redirect_uri", "at least one redirect_uri is required")
    if data.id_token_signed_response_alg not in keystore().algorithms:
        raise _fail(
            f"id_token_signed_response_alg must be one of {', '.join(keystore().algorithms)}"
        )
    # FAPI 2.0 §5.4.1: a profiled client's access tokens are ES256 unless it names PS256.
    access_token_alg = data.access_token_alg or ("ES256" if data.profile == FAPI2 else None)
    if access_token_alg is not None and access_token_alg not in keystore().algorithms:
        raise _fail(f"access_token_alg must be one of {', '.join(keystore().algorithms)}")
    jwks, jwks_uri = _keys(data, method)
    problem = profile_problem(
        data.profile, method, data.id_token_signed_response_alg, access_token_alg
    )
    if problem:
        raise _fail(problem)
    fapi2 = data.profile == FAPI2
    if data.backchannel_logout_uri:
        _callable_uri(data.backchannel_logout_uri, "backchannel_logout_uri")
    return {
        "name": name,
        # Stored as given: redirect URIs are compared as exact strings (security invariant 1).
        "redirect_uris": [check_redirect_uri(u) for u in data.redirect_uris],
        "post_logout_redirect_uris": [
            check_redirect_uri(u, "post_logout_redirect_uri")
            for u in data.post_logout_redirect_uris
        ],
        "backchannel_logout_uri": data.backchannel_logout_uri or None,
        "scope": _scope(data, code_flow),
        "token_endpoint_auth_method": method,
        "grant_types": grant_types,
        "response_types": response_types,
        "id_token_signed_response_alg": data.id_token_signed_response_alg,
        "access_token_alg": access_token_alg,
        "jwks": jwks,
        "jwks_uri": jwks_uri,
        "require_pushed_authorization_requests": data.require_pushed_authorization_requests
        or fapi2,
        "dpop_bound_access_tokens": data.dpop_bound_access_tokens or fapi2,
        "profile": data.profile,
    }


def register_client(data: NewClient) -> tuple[Client, str | None]:
    """Add a client (the caller commits); return it with its secret, which is not kept."""
    columns = client_columns(data)
    method = columns["token_endpoint_auth_method"]
    secret = secrets.token_urlsafe(32) if method in SECRET_METHODS else None
    client = Client(
        client_id=secrets.token_urlsafe(16),
        client_secret_hash=secret_digest(secret) if secret else None,
        first_party=data.first_party,
        require_mfa=data.require_mfa,
        created_at=utcnow(),
        **columns,
    )
    db.session.add(client)
    return client, secret


def update_client(client: Client, data: NewClient) -> None:
    """Replace a client's metadata (the caller commits); its kind of credential stays."""
    columns = client_columns(data)
    old, new = client.token_endpoint_auth_method, columns["token_endpoint_auth_method"]
    # A secret may move between basic and post; any other change needs a new registration, so
    # a client never silently gains or loses a secret or keys.
    if old != new and not (old in SECRET_METHODS and new in SECRET_METHODS):
        raise _fail(f"token_endpoint_auth_method cannot change from {old} to {new}")
    for name, value in columns.items():
        setattr(client, name, value)
