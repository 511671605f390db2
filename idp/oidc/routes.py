"""Protocol endpoints: thin routes that hand the request to the authorization server."""

from __future__ import annotations

import hashlib

from authlib.oauth2.rfc6749 import InvalidRequestError
from flask import Blueprint, jsonify, request

from ..extensions import keystore, settings
from ..security import csrf_exempt
from . import dpop, interaction
from .discovery import provider_metadata
from .errors import repeated_parameter_error
from .server import authorization_server

bp = Blueprint("oidc", __name__)


@bp.route("/authorize", methods=["GET", "POST"])
@csrf_exempt
def authorize():
    pending = interaction.details()
    if pending.prompt is None:
        return interaction.finish(pending)
    if "none" in pending.request.prompts:
        # OIDC Core §3.1.2.6: prompt=none cannot show a page.
        raise pending.prompt.error(
            redirect_uri=pending.request.redirect_uri, state=pending.request.params.get("state")
        )
    return interaction.show_screen(pending)


def check_form_post() -> None:
    """RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1: a form POST, each parameter once."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise InvalidRequestError("Use application/x-www-form-urlencoded.")
    # RFC 6749 §3.2: request and response parameters MUST NOT be included more than once.
    repeated = next((name for name in request.form if len(request.form.getlist(name)) > 1), None)
    if repeated is not None:
        raise repeated_parameter_error(repeated)


@bp.route("/token", methods=["POST"])
@csrf_exempt
def token():
    check_form_post()
    if not request.form.get("grant_type"):
        raise InvalidRequestError("Missing 'grant_type'.")
    dpop.check_request_proof()
    return authorization_server().create_token_response()


@bp.route("/par", methods=["POST"])
@csrf_exempt
def par():
    check_form_post()
    dpop.check_request_proof()  # RFC 9449 §10.1: it binds the code to the key
    return authorization_server().create_endpoint_response("pushed_authorization")


@bp.route("/revoke", methods=["POST"])
@csrf_exempt
def revoke():
    check_form_post()
    return authorization_server().create_endpoint_response("revocation")


@bp.route("/introspect", methods=["POST"])
@csrf_exempt
def introspect():
    check_form_post()
    return authorization_server().create_endpoint_response("introspection")


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf_exempt
def userinfo():
    return authorization_server().create_endpoint_response("userinfo")


def _cached_json(document: dict, max_age: int):
    response = jsonify(document)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    return response.make_conditional(request)


@bp.route("/jwks")
def jwks():
    return _cached_json(keystore().jwks(), settings().keys.jwks_max_age)


@bp.route("/.well-known/openid-configuration")
@bp.route("/.well-known/oauth-authorization-server")
def discovery():
    return _cached_json(provider_metadata(), 300)
