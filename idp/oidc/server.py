"""The Authlib authorization server, wired with our grants, endpoints and storage."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Request
from authlib.oauth2.rfc9207 import IssuerParameter as BaseIssuerParameter
from flask import Flask, current_app, request

from ..extensions import issuer
from . import client_cache
from .claims import SCOPE_CLAIMS
from .client_auth import init_client_auth
from .client_credentials import ClientCredentialsGrant
from .dpop import token_jkt
from .grants import AuthorizationCodeGrant, OpenIDCode, S256CodeChallenge
from .introspection import IntrospectionEndpoint, RevocationEndpoint
from .profiles import requires_dpop
from .refresh import RefreshTokenGrant
from .request_objects import RequestObjects
from .userinfo import userinfo_endpoint


class IssuerParameter(BaseIssuerParameter):
    """RFC 9207 §2: every authorization response, errors included, names the issuer."""

    def __call__(self, authorization_server):
        # Authlib 1.9's server never runs its after_create_authorization_response hook, and
        # errors raised before a grant exists do not pass through one: the server calls us.
        authorization_server.issuer_parameter = self

    def get_issuer(self) -> str:
        return issuer()


class AuthorizationServer(FlaskAuthorizationServer):
    issuer_parameter: IssuerParameter | None = None
    request_objects: RequestObjects | None = None

    def create_oauth2_request(self, request_=None):
        # A request rebuilt from a request object or a pushed request (RFC 9101, RFC 9126)
        # is used as it is: its parameters are not the HTTP request's.
        if isinstance(request_, OAuth2Request):
            return request_
        return super().create_oauth2_request(request_)

    def authenticate_client(self, request_, methods, endpoint="token"):
        client = super().authenticate_client(request_, methods, endpoint)
        # RFC 9449 §5.2 (dpop_bound_access_tokens): refused before any grant is spent.
        if request.endpoint == "oidc.token" and requires_dpop(client) and token_jkt() is None:
            raise InvalidRequestError("This client must send a DPoP proof to the token endpoint.")
        return client

    def _with_issuer(self, response):
        location = response.location or ""
        if self.issuer_parameter is not None and "iss" not in parse_qs(urlsplit(location).query):
            self.issuer_parameter.add_issuer_parameter(self, response)
        return response

    def create_authorization_response(self, request=None, grant_user=None, grant=None):
        response = super().create_authorization_response(request, grant_user, grant)
        return self._with_issuer(response)

    def handle_error_response(self, request, error):
        response = super().handle_error_response(request, error)
        # An error with a redirect_uri is an authorization error response (RFC 6749 §4.1.2.1).
        return self._with_issuer(response) if error.redirect_uri else response

    def handle_response(self, status, body, headers):
        response = super().handle_response(status, body, headers)
        # RFC 6749 §5.1, RFC 7662 §2.2: nothing the server answers may be cached.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        return response


def _save_token(token, request) -> None:
    # Tokens are recorded where they are minted (oidc/tokens.py), by jti.
    return None


def init_app(app: Flask) -> None:
    """Give the app its own server: its grants, client auth methods and endpoints."""
    app.config["OAUTH2_SCOPES_SUPPORTED"] = list(SCOPE_CLAIMS)
    server = AuthorizationServer()
    client_cache.init_app(app)
    server.init_app(app, query_client=client_cache.cached_client, save_token=_save_token)
    init_client_auth(server)
    server.register_extension(IssuerParameter())
    server.register_extension(RequestObjects())
    server.register_grant(
        AuthorizationCodeGrant, [OpenIDCode(require_nonce=False), S256CodeChallenge()]
    )
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(RevocationEndpoint)
    server.register_endpoint(IntrospectionEndpoint)
    server.register_endpoint(userinfo_endpoint())
    app.extensions["idp.oauth"] = server


def authorization_server() -> AuthorizationServer:
    return current_app.extensions["idp.oauth"]
