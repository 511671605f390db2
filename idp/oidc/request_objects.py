"""Signed authorization request objects by value (RFC 9101 §5.1), on Authlib's extension.

Authlib's `JWTAuthenticationRequest` decodes the object and checks `client_id`; we add the
client's registered keys, our algorithms (never `none`), `iss`, `aud` and the time bounds
(RFC 9101 §4, §6.3 and §10.8), and RFC 9101 §6.3: once an object is used, the authorization
request is made of its claims only.
"""

from __future__ import annotations

import json

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc9101 import JWTAuthenticationRequest
from authlib.oauth2.rfc9101.errors import InvalidRequestObjectError
from joserfc import jwt
from joserfc.jwk import KeySet
from werkzeug.datastructures import MultiDict

from ..clock import clock
from ..extensions import issuer
from ..models import Client
from .client_auth import ASSERTION_SIGNING_ALGS, JwksError, client_key_set

# The client's asymmetric keys only: `none` and HMAC are refused (RFC 9101 §10.1).
REQUEST_OBJECT_SIGNING_ALGS = ASSERTION_SIGNING_ALGS
LEEWAY = 60
# FAPI 2.0 §5.3.2.1 item 13: no request object lives longer than an hour.
MAX_LIFETIME = 3600
JWT_CLAIMS = ("iss", "aud", "exp", "nbf", "iat", "jti")
UNUSABLE_VALUE = "A request object parameter is not a string or number."


class RequestObjects(JWTAuthenticationRequest):
    """RFC 9101 request objects, verified with the keys the client registered."""

    def __init__(self) -> None:
        # request_uri is served by PAR alone (par.py); by reference from elsewhere it is refused.
        super().__init__(support_request=True, support_request_uri=False)

    def __call__(self, authorization_server) -> None:
        # Our ordered checks need the object's parameters before the grant is looked up, so
        # authorization.py calls `parameters` itself instead of Authlib's grant hook.
        authorization_server.request_objects = self

    @property
    def claims_validator(self) -> jwt.JWTClaimsRegistry:
        return jwt.JWTClaimsRegistry(
            now=lambda: int(clock().timestamp()),
            leeway=LEEWAY,
            client_id={"essential": True},
            iss={"essential": True},
            aud={"essential": True, "value": issuer()},
            exp={"essential": True},
        )

    def get_server_metadata(self) -> dict:
        return {"request_object_signing_alg_values_supported": REQUEST_OBJECT_SIGNING_ALGS}

    def get_client_require_signed_request_object(self, client: Client) -> bool:
        return False

    def resolve_client_public_key(self, client: Client) -> KeySet:
        try:
            return client_key_set(client, None)
        except JwksError as error:
            raise InvalidRequestObjectError(description=f"Client keys: {error}") from error

    def parameters(self, request, client: Client) -> MultiDict:
        """The authorization request carried by the `request` parameter (RFC 9101 §5.1)."""
        if not client.jwks and not client.jwks_uri:
            raise InvalidRequestObjectError(
                description="The client has no registered keys (jwks or jwks_uri)."
            )
        raw = self._get_raw_request_object(request, client)
        claims = self._decode_request_object(request, client, raw).claims
        # RFC 9101 §10.8: iss names the client; an object signed for another would be replayed.
        if claims["iss"] != client.client_id:
            raise InvalidRequestObjectError(description="The request object iss must be client_id.")
        lifetime = claims["exp"] - claims.get("nbf", claims.get("iat", claims["exp"]))
        if claims["exp"] > clock().timestamp() + MAX_LIFETIME + LEEWAY or lifetime > MAX_LIFETIME:
            raise InvalidRequestObjectError(
                description=f"The request object may live at most {MAX_LIFETIME}s."
            )
        return authorization_parameters(claims)


def authorization_parameters(claims: dict) -> MultiDict:
    """Claims as request parameters: strings, numbers as text, `claims` as JSON."""
    params = MultiDict()
    for name, value in claims.items():
        if name in JWT_CLAIMS:
            continue
        if isinstance(value, bool) or value is None:
            raise InvalidRequestObjectError(description=UNUSABLE_VALUE)
        if isinstance(value, int | str):
            params.add(name, str(value))
        elif name == "claims" and isinstance(value, dict):
            params.add(name, json.dumps(value))
        else:
            raise InvalidRequestObjectError(description=UNUSABLE_VALUE)
    return params


def check_request_object_alone(params: MultiDict) -> None:
    # RFC 9101 §5: request and request_uri are mutually exclusive.
    if "request" in params and "request_uri" in params:
        raise InvalidRequestError("request and request_uri must not both be present.")
