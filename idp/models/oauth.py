"""Relying-party clients, authorization codes, issued tokens and remembered consent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, db
from ..hashing import secret_digest, secret_matches
from .identity import Member

SECRET_METHODS = ("client_secret_basic", "client_secret_post")


def scope_list(scope: str | None) -> list[str]:
    return [s for s in (scope or "").split(" ") if s]


class Client(db.Model):
    """A registered relying party; implements Authlib's ClientMixin contract."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    redirect_uris: Mapped[list] = mapped_column(JSON)
    post_logout_redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32))
    grant_types: Mapped[list] = mapped_column(JSON)
    response_types: Mapped[list] = mapped_column(JSON)
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(16), default="RS256")
    # None: the server-wide [tokens] access_token_alg.
    access_token_alg: Mapped[str | None] = mapped_column(String(16))
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)
    require_mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    # private_key_jwt (RFC 7523 §2.2): the client's public keys, inline or by URL.
    jwks: Mapped[dict | None] = mapped_column(JSON)
    jwks_uri: Mapped[str | None] = mapped_column(Text)
    # RFC 9126 §6: authorization requests only through /par.
    require_pushed_authorization_requests: Mapped[bool] = mapped_column(Boolean, default=False)
    # RFC 9449 §5.2: access tokens only with a DPoP proof, bound to its key.
    dpop_bound_access_tokens: Mapped[bool] = mapped_column(Boolean, default=False)
    # A security profile the client is held to ("fapi2": FAPI 2.0 Security Profile), or None.
    profile: Mapped[str | None] = mapped_column(String(16))
    # RFC 7592: only dynamically registered clients manage themselves with this token.
    registration_token_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"

    @property
    def client_metadata(self) -> dict:
        """The RFC 7591 metadata Authlib's endpoints read (userinfo responses are plain JSON)."""
        return {"post_logout_redirect_uris": self.post_logout_redirect_uris or []}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        # OIDC Core §3.1.2.1: redirect_uri is required, so there is no default.
        return None

    def get_allowed_scope(self, scope: str) -> str | None:
        """The requested scopes this client may have; None (invalid_scope) if none of them."""
        allowed = set(scope_list(self.scope))
        granted = " ".join(s for s in dict.fromkeys(scope_list(scope)) if s in allowed)
        return granted if granted or not scope else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Security invariant 1: exact string match only.
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(client_secret, self.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # The same rule at every endpoint (token, revocation, introspection).
        # A client secret may be presented either way (RFC 6749 §2.3.1).
        if self.token_endpoint_auth_method in SECRET_METHODS:
            return method in SECRET_METHODS
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type in self.response_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


_CLIENT_BY_ID = select(Client).where(Client.client_id == bindparam("client_id"))


def find_client(client_id: str | None) -> Client | None:
    if not client_id:
        return None
    return db.session.scalar(_CLIENT_BY_ID, {"client_id": client_id})


class AuthorizationCode(db.Model):
    """A code issued at /authorize; single use, short-lived, bound to client, URI and PKCE."""

    __tablename__ = "authorization_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("clients.client_id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(8))
    sid: Mapped[str | None] = mapped_column(String(64))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    acr: Mapped[str] = mapped_column(String(16))
    amr: Mapped[list] = mapped_column(JSON)
    # RFC 9449 §10: redeemable only with a DPoP proof from the key of this thumbprint.
    dpop_jkt: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(lazy="joined")

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.auth_time.timestamp())

    def get_acr(self) -> str:
        return self.acr

    def get_amr(self) -> list:
        return self.amr


def find_code(code: str) -> AuthorizationCode | None:
    return db.session.scalar(
        select(AuthorizationCode).where(AuthorizationCode.code_hash == secret_digest(code))
    )


def consume_code(code: AuthorizationCode, now: datetime) -> bool:
    """Mark a code used, atomically: exactly one of two racing redemptions wins."""
    result = db.session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == code.id, AuthorizationCode.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    return result.rowcount == 1


class Token(db.Model):
    """Record of an issued access token, looked up by jti so revocation is honoured."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    jti: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("clients.client_id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    code_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorization_codes.id", ondelete="SET NULL"), index=True
    )
    sid: Mapped[str | None] = mapped_column(String(64), index=True)
    # The refresh-token family this access token was minted from, revoked with it.
    refresh_family: Mapped[str | None] = mapped_column(String(64), index=True)
    # RFC 9449 §6: the thumbprint of the DPoP key the token is bound to (cnf.jkt).
    jkt: Mapped[str | None] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member | None] = relationship(lazy="joined")

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.client_id

    # Authlib's TokenMixin, as the userinfo endpoint reads it.
    def get_client(self) -> Client | None:
        from flask import current_app

        return current_app.extensions["idp.clients"].get(self.client_id)

    def get_user(self) -> Member | None:
        return self.member

    def get_scope(self) -> str:
        return self.scope


# Built once: the hot endpoints run it on every request (building a SELECT costs more CPU
# than SQLite takes to answer it).
_TOKEN_BY_JTI = select(Token).where(Token.jti == bindparam("jti"))


def find_token(jti: str) -> Token | None:
    return db.session.scalar(_TOKEN_BY_JTI, {"jti": jti})


class Consent(db.Model):
    """The scopes a member has allowed a client; asked again only for new scopes."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("member_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(
        ForeignKey("clients.client_id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)


def granted_scopes(member_id: int, client_id: str) -> set[str]:
    consent = db.session.scalar(
        select(Consent).where(Consent.member_id == member_id, Consent.client_id == client_id)
    )
    return set(scope_list(consent.scope)) if consent else set()


def remember_consent(member_id: int, client_id: str, scope: str, now: datetime) -> None:
    """Store the union of previously and newly allowed scopes."""
    consent = db.session.scalar(
        select(Consent).where(Consent.member_id == member_id, Consent.client_id == client_id)
    )
    if consent is None:
        consent = Consent(member_id=member_id, client_id=client_id, scope="")
        db.session.add(consent)
    consent.scope = " ".join(sorted(set(scope_list(consent.scope)) | set(scope_list(scope))))
    consent.granted_at = now
