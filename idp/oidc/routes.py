"""Protocol endpoints: thin routes that hand the request to the authorization server."""

from __future__ import annotations

import hashlib

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, jsonify, redirect, render_template, request, url_for

from ..auth import mfa
from ..auth.sessions import current_session
from ..extensions import keystore, settings
from ..security import csrf_exempt, json_error
from . import authorization as authz
from .discovery import provider_metadata
from .server import authorization_server
from .userinfo import userinfo_response

bp = Blueprint("oidc", __name__)


def authorization_error_page(error: str, description: str):
    return render_template("oidc/error.html", error=error, description=description), 400


@bp.route("/authorize", methods=["GET", "POST"])
@csrf_exempt
def authorize():
    sso = current_session()
    try:
        pending = authz.validate_request(sso.member if sso else None)
    except authz.AuthorizationPageError as error:
        return authorization_error_page(error.error, error.description)
    except OAuth2Error as error:
        if not error.redirect_uri:
            return authorization_error_page(error.error, error.description or "")
        return authorization_server().handle_error_response(None, error)

    reason = authz.login_reason(pending, sso)
    needed = "login" if reason else None
    if needed is None and not sso.member.email_verified:
        needed = "verify_email"  # issue 4: unverified accounts cannot sign in to clients
    if needed is None and sso.acr != "mfa" and authz.mfa_demanded(pending):
        needed = "mfa"  # issue 5: step-up inside a password-only session
    if needed is None and authz.consent_needed(pending, sso.member):
        needed = "consent"
    if needed and "none" in pending.prompts:
        return authorization_server().handle_error_response(
            None, authz.interaction_error(pending, needed)
        )
    if needed == "login":
        if reason != "no_session":
            authz.expect_reauthentication(pending)
        next_url = url_for("oidc.authorize") + "?" + pending.query_string
        hint = pending.params.get("login_hint", "")
        return redirect(url_for("auth.login", next=next_url, login_hint=hint or None))
    if needed == "consent":
        return redirect(url_for("auth.consent") + "?" + pending.query_string)
    if needed == "mfa":
        next_url = url_for("oidc.authorize") + "?" + pending.query_string
        if mfa.methods(sso.member):
            return mfa.begin_second_step(sso.member, sso.member.sign_in_identifier, next_url)
        return redirect(url_for("account.security", enrol=1, next=next_url))
    if needed == "verify_email":
        next_url = url_for("oidc.authorize") + "?" + pending.query_string
        return redirect(url_for("account.verification_needed", next=next_url))
    return authz.finish(pending, sso.member)


def _repeated_parameter() -> str | None:
    return next((name for name in request.form if len(request.form.getlist(name)) > 1), None)


@bp.route("/token", methods=["POST"])
@csrf_exempt
def token():
    if request.mimetype != "application/x-www-form-urlencoded":
        return json_error("invalid_request", "Use application/x-www-form-urlencoded.", 400)
    if not request.form.get("grant_type"):
        return json_error("invalid_request", "Missing 'grant_type'.", 400)
    # RFC 6749 §3.2: request and response parameters MUST NOT be included more than once.
    repeated = _repeated_parameter()
    if repeated:
        return json_error("invalid_request", f"Parameter '{repeated}' is repeated.", 400)
    return authorization_server().create_token_response()


def _form_only(endpoint_name: str):
    """RFC 7009 §2.1 / RFC 7662 §2.1: a form POST, each parameter once."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return json_error("invalid_request", "Use application/x-www-form-urlencoded.", 400)
    repeated = _repeated_parameter()
    if repeated:
        return json_error("invalid_request", f"Parameter '{repeated}' is repeated.", 400)
    response = authorization_server().create_endpoint_response(endpoint_name)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/revoke", methods=["POST"])
@csrf_exempt
def revoke():
    return _form_only("revocation")


@bp.route("/introspect", methods=["POST"])
@csrf_exempt
def introspect():
    return _form_only("introspection")


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf_exempt
def userinfo():
    return userinfo_response()


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
