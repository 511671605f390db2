"""UserInfo endpoint: OIDC Core §5.3 on Authlib's endpoint, bearer tokens per RFC 6750 §2.

Authlib's UserInfoEndpoint answers; our resource protector reads the token from the
Authorization header or the form body (never both, RFC 6750 §2) and our validator checks it
against the stored record, so a revoked token stops working at once.
"""

from __future__ import annotations

from authlib.consts import default_json_headers
from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenValidator, InvalidTokenError
from authlib.oidc.core import UserInfo, UserInfoEndpoint
from flask import request

from ..extensions import issuer
from ..models.oauth import scope_list
from .claims import claims_for_scope
from .dpop import DPOP_SIGNING_ALGS, current_nonce, request_proof, verify_proof
from .tokens import active_token

REALM = "userinfo"


class BearerError(InvalidTokenError):
    """An RFC 6750 §3 error with its WWW-Authenticate challenge (InvalidTokenError's format)."""

    def __init__(self, description: str | None = None) -> None:
        super().__init__(description, realm=REALM)


class MissingTokenError(BearerError):
    """RFC 6750 §3.1: no credentials, or another scheme: a bare challenge, no error code."""

    def get_body(self):
        return []

    def get_headers(self):
        return [*default_json_headers, ("WWW-Authenticate", f'Bearer realm="{REALM}"')]


class MalformedBearerRequestError(BearerError):
    error = "invalid_request"
    status_code = 400


class InsufficientScopeError(BearerError):
    error = "insufficient_scope"
    status_code = 403


class DpopError(BearerError):
    """RFC 9449 §7.1: a DPoP-bound token's error, with the DPoP challenge."""

    error = "invalid_token"
    status_code = 401

    def __init__(self, description: str | None = None, error: str = "invalid_token") -> None:
        super().__init__(description)
        self.error = error

    def get_headers(self):
        challenge = f'DPoP algs="{" ".join(DPOP_SIGNING_ALGS)}", error="{self.error}"'
        if self.description:
            challenge += f', error_description="{self.description}"'
        headers = [*default_json_headers, ("WWW-Authenticate", challenge)]
        if self.error == "use_dpop_nonce":
            headers.append(("DPoP-Nonce", current_nonce()))
        return headers


class UserinfoResourceProtector(ResourceProtector):
    def parse_request_authorization(self, request_):
        """Bearer tokens from the header and the form body; other schemes count as none."""
        tokens = []
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "dpop":
            # RFC 9449 §7.1: a DPoP-bound token, with a proof naming it in the DPoP header.
            if not value.strip():
                raise DpopError("The DPoP token is empty.")
            return self.get_token_validator("dpop"), value.strip()
        if scheme.lower() == "bearer":
            tokens.append(value.strip())
        if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
            tokens.extend(request.form.getlist("access_token"))
        if not tokens:
            raise MissingTokenError()
        if not all(tokens):
            raise MalformedBearerRequestError("The bearer token is empty.")
        if len(tokens) > 1:
            # RFC 6750 §2: clients MUST NOT use more than one method to transmit the token.
            raise MalformedBearerRequestError("The access token was sent more than once.")
        return self.get_token_validator("bearer"), tokens[0]


class AccessTokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        return active_token(token_string)

    def validate_token(self, token, scopes, request_):
        if token is None or token.member is None:
            raise BearerError("The access token is invalid or expired.")
        if token.jkt is not None:
            # RFC 9449 §7.2: a bound token presented as Bearer is refused, with the challenge.
            raise DpopError("The access token is DPoP-bound; use the DPoP scheme and a proof.")
        if "openid" not in scope_list(token.scope):
            raise InsufficientScopeError("The access token lacks the openid scope.")


class DpopTokenValidator(AccessTokenValidator):
    """RFC 9449 §7: the token with a proof from its key, naming it (ath) and this request."""

    TOKEN_TYPE = "dpop"

    def authenticate_token(self, token_string):
        token = active_token(token_string)
        if token is None or token.member is None or token.jkt is None:
            raise DpopError("The access token is invalid, expired or not DPoP-bound.")
        proof = request_proof()
        if proof is None:
            raise DpopError("A DPoP proof is required.", error="invalid_dpop_proof")
        try:
            jkt = verify_proof(proof, access_token=token_string)
        except OAuth2Error as error:
            raise DpopError(error.description, error=error.error) from error
        if jkt != token.jkt:
            raise DpopError("The DPoP proof is not from the token's key.", "invalid_dpop_proof")
        return token

    def validate_token(self, token, scopes, request_):
        if "openid" not in scope_list(token.scope):
            raise InsufficientScopeError("The access token lacks the openid scope.")


class ClaimsUserInfoEndpoint(UserInfoEndpoint):
    def get_issuer(self) -> str:
        return issuer()

    def generate_user_info(self, user, scope) -> UserInfo:
        return UserInfo(claims_for_scope(user, scope))


def userinfo_endpoint() -> UserInfoEndpoint:
    protector = UserinfoResourceProtector()
    protector.register_token_validator(AccessTokenValidator(realm=REALM))
    protector.register_token_validator(DpopTokenValidator(realm=REALM))
    return ClaimsUserInfoEndpoint(resource_protector=protector)
