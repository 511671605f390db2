"""The client credentials grant for service clients: no member, no ID token.

RFC 6749 §4.4; the access token's sub is the client itself (RFC 9068 §2.2).
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidScopeError, grants

from ..db import db
from ..models.oauth import scope_list
from .client_auth import TOKEN_ENDPOINT_AUTH_METHODS
from .tokens import issue_access_token

# Scopes about a member mean nothing without one.
MEMBER_ONLY_SCOPES = {"openid", "offline_access"}


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [m for m in TOKEN_ENDPOINT_AUTH_METHODS if m != "none"]

    def create_token_response(self):
        response = super().create_token_response()
        db.session.commit()
        return response

    def generate_token(self, user=None, scope=None, **kwargs):
        client = self.request.client
        allowed = client.get_allowed_scope(scope or client.scope)
        if allowed is None:
            raise InvalidScopeError("None of the requested scopes is allowed for this client.")
        scope = " ".join(s for s in scope_list(allowed) if s not in MEMBER_ONLY_SCOPES)
        return issue_access_token(client, None, scope)
