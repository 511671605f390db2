"""Signing members in through the identity provider: the reference integration to copy.

OpenID Connect Core 1.0 §3.1 authorization code flow with PKCE S256 (RFC 7636), state and nonce;
the `iss` response parameter (RFC 9207); ID token validation (Core §3.1.3.7: signature by the
JWKS, iss, aud, exp, nonce, at_hash); userinfo (Core §5.3); step-up with `acr_values` (Core
§3.1.2.1); RP-Initiated Logout 1.0. Authlib runs the protocol; this module adds the checks it
leaves to the application, and nothing else.
"""

from __future__ import annotations

import requests
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth, OAuthError
from flask import Blueprint, Flask, current_app, redirect, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from joserfc.errors import JoseError

from .access import start_member_session
from .config import Settings
from .security import safe_next
from .sign_in_failures import failure_code, plain_reason

SCOPE = "openid profile email membership"
ROLES_SCOPE = "roles"  # the identity provider's roles scope: staff roles such as claims_officer
bp = Blueprint("auth", __name__)


class SignInError(Exception):
    """The callback is not a sign-in we asked for; nothing is stored."""


def init_app(app: Flask) -> None:
    conf = app.extensions["benefits.settings"].oidc
    OAuth(app).register(
        "idp",
        client_id=conf.client_id,
        client_secret=conf.client_secret,
        server_metadata_url=f"{conf.issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "default_timeout": conf.timeout,
        },
    )


def idp() -> FlaskOAuth2App:
    """This app's client of the identity provider (Authlib's FlaskOAuth2App)."""
    return current_app.extensions["authlib.integrations.flask_client"].idp


def _settings() -> Settings:
    return current_app.extensions["benefits.settings"]


def requested_scope() -> str:
    """Our scopes, plus `roles` only where discovery lists it (Discovery 1.0 §3
    scopes_supported), so sign-in keeps working at an identity provider without it."""
    supported = idp().load_server_metadata().get("scopes_supported") or []
    return f"{SCOPE} {ROLES_SCOPE}" if ROLES_SCOPE in supported else SCOPE


@bp.get("/login")
def login() -> ResponseReturnValue:
    """Send the member to the identity provider; `?acr=mfa` asks for a second factor."""
    wanted_acr = "mfa" if request.args.get("acr") == "mfa" else None
    session["sign_in"] = {"next": safe_next(request.args.get("next")), "acr": wanted_acr}
    extra = {"ui_locales": str(get_locale()), "scope": requested_scope()}
    if wanted_acr:
        extra["acr_values"] = wanted_acr  # Core §3.1.2.1: step-up
    return idp().authorize_redirect(_settings().redirect_uri, **extra)


def _id_token_rules() -> dict:
    """Core §3.1.3.7 items 2-3: iss is our issuer exactly, aud holds our client_id."""
    conf = _settings().oidc
    return {
        "iss": {"essential": True, "value": conf.issuer},
        "aud": {"essential": True, "value": conf.client_id},
        "sub": {"essential": True},
    }


def _complete_sign_in() -> dict:
    """Check the authorization response, redeem the code, return the member's claims."""
    # RFC 9207 §2.4: an answer from another issuer (or none, when ours always names itself)
    # is a mix-up; its code is never redeemed.
    iss = request.args.get("iss")
    required = idp().load_server_metadata().get("authorization_response_iss_parameter_supported")
    if (iss is None and required) or (iss is not None and iss != _settings().oidc.issuer):
        raise SignInError("iss")
    # State, PKCE verifier and nonce come from the server-side session; signature, iss, aud,
    # exp, nonce and at_hash are checked here.
    token = idp().authorize_access_token(claims_options=_id_token_rules())
    id_claims = token.get("userinfo")
    if not id_claims:
        raise SignInError("no ID token")
    userinfo = idp().userinfo(token=token)
    if userinfo.get("sub") != id_claims["sub"]:  # Core §5.3.2: the same member, or nothing
        raise SignInError("userinfo sub")
    return {**userinfo, **id_claims, "id_token": token["id_token"]}


@bp.get("/auth/callback")
def callback() -> ResponseReturnValue:
    pending = session.pop("sign_in", None) or {}
    try:
        claims = _complete_sign_in()
    except (SignInError, OAuthError, JoseError) as error:
        current_app.logger.warning("sign-in refused: %s", failure_code(error))
        return render_template("auth/sign_in_failed.html", reason=plain_reason(error)), 400
    except requests.RequestException as error:
        current_app.logger.warning("identity provider unreachable: %s", type(error).__name__)
        return render_template("auth/sign_in_failed.html", unreachable=True), 502
    start_member_session(claims)
    if pending.get("acr") and claims.get("acr") != pending["acr"]:
        return render_template("auth/step_up_failed.html", next=pending.get("next")), 403
    return redirect(pending.get("next") or "/")


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End our session, then the identity provider's (RP-Initiated Logout 1.0 §2)."""
    id_token = (session.get("member") or {}).get("id_token")
    session.clear()
    session.regenerate()
    try:
        endpoint = idp().load_server_metadata().get("end_session_endpoint")
    except requests.RequestException:
        endpoint = None
    if not (endpoint and id_token):
        return redirect("/")  # the identity provider offers no sign-out: ours is done
    return idp().logout_redirect(
        post_logout_redirect_uri=_settings().post_logout_redirect_uri,
        id_token_hint=id_token,
        client_id=_settings().oidc.client_id,
        ui_locales=str(get_locale()),
    )


def signed_out_here() -> bool:
    """On the post-logout landing page: whether the `state` is the one we sent (§3)."""
    if "state" not in request.args:
        return False
    try:
        idp().validate_logout_response()
    except OAuthError:
        return False
    return True
