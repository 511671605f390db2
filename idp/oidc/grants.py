"""The authorization code grant with OpenID Connect and S256-only PKCE.

OIDC Core 1.0 §3.1; RFC 6749 §4.1; RFC 7636.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, grants
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from authlib.oidc.core import grants as oidc_grants
from sqlalchemy import exists, select

from .. import audit
from ..clock import utcnow
from ..db import db
from ..extensions import issuer, keystore, settings
from ..hashing import secret_digest
from ..models import AuthorizationCode
from ..models.oauth import consume_code, find_code
from ..models.refresh import revoke_code_grant
from ..sso import remember_session_client
from .client_auth import TOKEN_ENDPOINT_AUTH_METHODS
from .dpop import token_jkt
from .profiles import code_lifetime, requires_pkce
from .refresh import issue_refresh_token, refresh_wanted
from .tokens import issue_access_token


def _s256_matches(code_verifier: str, code_challenge: str) -> bool:
    # constant time: the challenge is derived from a secret
    return hmac.compare_digest(create_s256_code_challenge(code_verifier), code_challenge)


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only (plain is refused), required for public clients."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": _s256_matches}

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        if requires_pkce(grant.request.client) and not data.get("code_challenge"):
            raise InvalidRequestError("This client must use PKCE (code_challenge, S256).")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS

    def save_authorization_code(self, code, request):
        # request.user is the interaction's AuthenticationResult: the code carries exactly it.
        result = request.user
        now = utcnow()
        data = request.payload.data
        db.session.add(
            AuthorizationCode(
                code_hash=secret_digest(code),
                client_id=request.client.client_id,
                member_id=result.member.id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                sid=result.sid,
                auth_time=result.auth_time,
                acr=result.acr,
                amr=result.amr,
                dpop_jkt=data.get("dpop_jkt"),
                created_at=now,
                expires_at=now
                + timedelta(seconds=code_lifetime(request.client, settings().tokens.code_lifetime)),
            )
        )
        remember_session_client(result.session_id, request.client.client_id)
        db.session.commit()

    def query_authorization_code(self, code, client):
        item = find_code(code)
        if item is None or item.client_id != client.client_id:
            return None
        if item.consumed_at is not None:
            self._revoke_replayed(item)
            return None
        if item.expires_at <= utcnow():
            return None
        if item.dpop_jkt is not None and item.dpop_jkt != token_jkt():
            # RFC 9449 §10: the code is bound to the key named at the authorization request.
            return None
        return item

    def _revoke_replayed(self, item: AuthorizationCode) -> None:
        revoked = revoke_code_grant(item.id, utcnow())
        audit.record(
            "code_replayed",
            member_id=item.member_id,
            client_id=item.client_id,
            detail={"revoked_tokens": revoked},
        )
        db.session.commit()

    def create_token_response(self):
        # Security invariant 2: consume before minting, atomically, so a racing replay loses.
        code = self.request.authorization_code
        if not consume_code(code, utcnow()):
            db.session.rollback()
            self._revoke_replayed(code)
            raise InvalidGrantError("Invalid 'code' in request.")
        response = super().create_token_response()
        db.session.commit()
        return response

    def generate_token(self, user=None, scope=None, **kwargs):
        code = self.request.authorization_code
        client = self.request.client
        if not refresh_wanted(client, scope):
            return issue_access_token(client, user, scope, grant=code, code_id=code.id)
        refresh_token, family = issue_refresh_token(code, scope, client)
        token = issue_access_token(
            client, user, scope, grant=code, code_id=code.id, refresh_family=family
        )
        return token | {"refresh_token": refresh_token}

    def delete_authorization_code(self, authorization_code):
        # Consumed codes are kept (marked) so a replay can be detected and answered.
        pass

    def authenticate_user(self, authorization_code):
        member = authorization_code.member
        return member if member.status == "active" else None


class OpenIDCode(oidc_grants.OpenIDCode):
    """ID tokens: signed with the client's registered algorithm, claims per OIDC Core §2."""

    def exists_nonce(self, nonce, request):
        return bool(
            db.session.scalar(
                select(
                    exists().where(
                        AuthorizationCode.client_id == request.payload.client_id,
                        AuthorizationCode.nonce == nonce,
                    )
                )
            )
        )

    def get_client_claims(self, client):
        now = utcnow().timestamp()
        return {
            "iss": issuer(),
            "aud": client.client_id,  # a single audience as a string, the common form
            "iat": int(now),
            "exp": int(now) + settings().tokens.id_token_lifetime,
        }

    def get_encode_header(self, client):
        alg = self.get_client_algorithm(client)
        return {"alg": alg, "kid": keystore().kid_for(alg), "typ": "JWT"}

    def resolve_client_private_key(self, client):
        return keystore().signing_key(self.get_client_algorithm(client))

    def get_authorization_code_claims(self, authorization_code):
        claims = super().get_authorization_code_claims(authorization_code)
        if authorization_code.sid:
            claims["sid"] = authorization_code.sid
        return claims

    def generate_user_info(self, user, scope):
        # OIDC Core §5.4: with an access token issued, scope claims come from /userinfo.
        return {"sub": user.subject}
