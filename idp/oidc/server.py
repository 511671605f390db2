"""The Authlib authorization server, wired with our grants and storage."""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from flask import Flask, current_app

from ..extensions import issuer
from ..models.oauth import find_client
from .claims import SCOPE_CLAIMS
from .client_auth import init_client_auth
from .client_credentials import ClientCredentialsGrant
from .grants import AuthorizationCodeGrant, OpenIDCode, S256CodeChallenge
from .introspection import IntrospectionEndpoint, RevocationEndpoint
from .refresh import RefreshTokenGrant


class AuthorizationServer(FlaskAuthorizationServer):
    def handle_response(self, status, body, headers):
        # RFC 9207 §2: every authorization response, errors included, names the issuer.
        headers = [
            (name, add_params_to_uri(value, [("iss", issuer())]) if name == "Location" else value)
            for name, value in headers
        ]
        response = super().handle_response(status, body, headers)
        if status >= 400 or "access_token" in (body if isinstance(body, dict) else {}):
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response


def _save_token(token, request) -> None:
    # Tokens are recorded where they are minted (oidc/tokens.py), by jti.
    return None


def init_app(app: Flask) -> None:
    """Give the app its own server: its grants, client auth methods and token endpoints."""
    app.config["OAUTH2_SCOPES_SUPPORTED"] = list(SCOPE_CLAIMS)
    server = AuthorizationServer()
    server.init_app(app, query_client=find_client, save_token=_save_token)
    init_client_auth(server)
    server.register_grant(
        AuthorizationCodeGrant, [OpenIDCode(require_nonce=False), S256CodeChallenge()]
    )
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(RevocationEndpoint)
    server.register_endpoint(IntrospectionEndpoint)
    app.extensions["idp.oauth"] = server


def authorization_server() -> AuthorizationServer:
    return current_app.extensions["idp.oauth"]
