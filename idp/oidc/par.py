"""Pushed authorization requests: the /par endpoint of RFC 9126, as an Authlib endpoint.

The client authenticates and pushes its authorization request (plain parameters or a signed
request object); it is validated as /authorize would and stored under a single-use
`request_uri` (request_uris.py), which /authorize then takes with `client_id` alone.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749.endpoint import Endpoint, EndpointRequest
from authlib.oauth2.rfc6749.requests import OAuth2Request
from flask import Flask
from werkzeug.datastructures import MultiDict

from ..clock import utcnow
from ..db import db
from ..hashing import secret_digest
from ..models import PushedRequest
from ..models.pushed import purge_pushed_requests
from .authorization import check_pushed_parameters
from .client_auth import TOKEN_ENDPOINT_AUTH_METHODS
from .dpop import InvalidDpopProofError, token_jkt
from .request_uris import REQUEST_URI_LIFETIME, REQUEST_URI_PREFIX

CLIENT_AUTH_PARAMETERS = ("client_secret", "client_assertion", "client_assertion_type")


@dataclass
class PushedAuthorization(EndpointRequest):
    """A pushed request that passed every check: its client and its parameters."""

    params: MultiDict = field(default_factory=MultiDict)


class PushedAuthorizationEndpoint(Endpoint):
    ENDPOINT_NAME = "pushed_authorization"
    CLIENT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS

    def validate_request(self, request: OAuth2Request) -> EndpointRequest:
        client = self.server.authenticate_client(request, self.CLIENT_AUTH_METHODS, "token")
        request.client = client
        raw = MultiDict(request.form)
        for name in CLIENT_AUTH_PARAMETERS:  # credentials, never part of the stored request
            raw.poplist(name)
        # RFC 9126 §2.1: request_uri is never pushed; client_id, if sent, is the caller's.
        if "request_uri" in raw:
            raise InvalidRequestError("request_uri must not be pushed.")
        if raw.get("client_id", client.client_id) != client.client_id:
            raise InvalidRequestError("client_id does not match the authenticated client.")
        raw["client_id"] = client.client_id
        try:
            params = check_pushed_parameters(raw, client)
        except OAuth2Error as error:
            # RFC 9126 §2.3: errors are answered to the client as JSON, never redirected.
            error.redirect_uri = None
            raise
        bind_code_to_proof(params)
        return PushedAuthorization(request=request, client=client, params=params)

    def create_response(self, validated: PushedAuthorization):
        client, params = validated.client, validated.params
        handle = secrets.token_urlsafe(32)
        now = utcnow()
        purge_pushed_requests(now)
        db.session.add(
            PushedRequest(
                handle_hash=secret_digest(handle),
                client_id=client.client_id,
                parameters=dict(params.items()),
                created_at=now,
                expires_at=now + timedelta(seconds=REQUEST_URI_LIFETIME),
            )
        )
        db.session.commit()
        body = {"request_uri": REQUEST_URI_PREFIX + handle, "expires_in": REQUEST_URI_LIFETIME}
        return 201, body, [("Content-Type", "application/json")]


def bind_code_to_proof(params: MultiDict) -> None:
    """RFC 9449 §10.1: a DPoP proof sent to /par binds the code to its key (as dpop_jkt)."""
    jkt = token_jkt()  # the proof was checked before the client was authenticated
    if jkt is None:
        return
    if params.get("dpop_jkt", jkt) != jkt:
        raise InvalidDpopProofError("dpop_jkt does not match the key of the DPoP proof.")
    params["dpop_jkt"] = jkt


def init_app(app: Flask) -> None:
    """Add the endpoint to the app's authorization server."""
    app.extensions["idp.oauth"].register_endpoint(PushedAuthorizationEndpoint)
