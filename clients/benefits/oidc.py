"""Signing members in through the identity provider: the reference integration to copy.

OpenID Connect Core 1.0 §3.1 authorization code flow with PKCE S256 (RFC 7636), state and nonce;
the `iss` response parameter (RFC 9207); ID token validation (Core §3.1.3.7: signature by the
JWKS, iss, aud, exp, nonce, at_hash); userinfo (Core §5.3); step-up with `acr_values` (Core
§3.1.2.1); RP-Initiated Logout 1.0. Authlib runs the protocol; this module adds the checks it
leaves to the application, and nothing else. With `[oidc] key_file` the app uses a key instead
of a secret, pushes its authorization requests and binds its tokens with DPoP (pop.py).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth, OAuthError
from flask import Blueprint, Flask, current_app, redirect, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from joserfc.errors import JoseError

from .access import start_member_session
from .config import Settings
from .pop import (
    DpopKey,
    KeyFileError,
    ShortLivedPrivateKeyJWT,
    client_assertion,
    load_key_file,
    mount_dpop,
    push_authorization_request,
)
from .security import safe_next
from .sign_in_failures import failure_code, plain_reason

SCOPE = "openid profile email membership"
ROLES_SCOPE = "roles"  # the identity provider's roles scope: staff roles such as claims_officer
bp = Blueprint("auth", __name__)


class SignInError(Exception):
    """The callback is not a sign-in we asked for; nothing is stored."""


def init_app(app: Flask) -> None:
    conf = app.extensions["benefits.settings"].oidc
    client_kwargs = {
        "scope": SCOPE,
        "code_challenge_method": "S256",
        "default_timeout": conf.timeout,
    }
    keyed = {}
    if conf.key_file:
        # private_key_jwt through Authlib; every call to the identity provider carries a proof.
        dpop = app.extensions["benefits.dpop"] = DpopKey()
        client_kwargs["token_endpoint_auth_method"] = ShortLivedPrivateKeyJWT.name
        keyed = {
            "client_auth_methods": [ShortLivedPrivateKeyJWT()],
            "compliance_fix": lambda session: mount_dpop(session, conf.issuer, dpop),
        }
    OAuth(app).register(
        "idp",
        client_id=conf.client_id,
        client_secret=conf.client_secret,
        server_metadata_url=f"{conf.issuer}/.well-known/openid-configuration",
        client_kwargs=client_kwargs,
        **keyed,
    )


def uses_key() -> bool:
    """Whether this app signs in with its key, PAR and DPoP (`[oidc] key_file`)."""
    return bool(_settings().oidc.key_file)


def _client_key():
    """The app's private key, loaded once; Authlib's PrivateKeyJWT signs with it."""
    client = idp()
    if not isinstance(client.client_secret, str | None):
        return client.client_secret
    client.client_secret = load_key_file(_settings().oidc_key_path)
    return client.client_secret


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
    if not uses_key():
        return idp().authorize_redirect(_settings().redirect_uri, **extra)
    try:
        return _pushed_authorization_redirect(extra)
    except (OAuthError, KeyFileError) as error:
        current_app.logger.warning("pushed authorization refused: %s", failure_code(error))
        return render_template("auth/sign_in_failed.html", reason=plain_reason(error)), 400
    except requests.RequestException as error:
        current_app.logger.warning("identity provider unreachable: %s", type(error).__name__)
        return render_template("auth/sign_in_failed.html", unreachable=True), 502


def _pushed_authorization_redirect(extra: dict) -> ResponseReturnValue:
    """RFC 9126: Authlib makes the request (state, nonce, PKCE, kept in the session); it is
    pushed over the back channel and the browser carries only client_id and request_uri."""
    client, conf = idp(), _settings().oidc
    key = _client_key()
    created = client.create_authorization_url(_settings().redirect_uri, **extra)
    client.save_authorize_data(redirect_uri=_settings().redirect_uri, **created)
    metadata = client.load_server_metadata()
    params = dict(parse_qsl(urlsplit(created["url"]).query))
    with mount_dpop(requests.Session(), conf.issuer, current_app.extensions["benefits.dpop"]) as s:
        request_uri = push_authorization_request(
            s,
            metadata["pushed_authorization_request_endpoint"],
            params,
            client_assertion(key, conf.client_id, conf.issuer),
            conf.timeout,
        )
    query = urlencode({"client_id": conf.client_id, "request_uri": request_uri})
    return redirect(f"{metadata['authorization_endpoint']}?{query}")


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
    if uses_key():
        _client_key()
    token = idp().authorize_access_token(claims_options=_id_token_rules())
    id_claims = token.get("userinfo")
    if not id_claims:
        raise SignInError("no ID token")
    userinfo = _dpop_userinfo(token) if uses_key() else idp().userinfo(token=token)
    if userinfo.get("sub") != id_claims["sub"]:  # Core §5.3.2: the same member, or nothing
        raise SignInError("userinfo sub")
    return {**userinfo, **id_claims, "id_token": token["id_token"]}


def _dpop_userinfo(token: dict) -> dict:
    """RFC 9449 §7.1: the bound token with the DPoP scheme and a proof naming it."""
    if str(token.get("token_type", "")).lower() != "dpop":
        raise SignInError("token not DPoP-bound")
    endpoint = idp().load_server_metadata()["userinfo_endpoint"]
    conf = _settings().oidc
    with mount_dpop(requests.Session(), conf.issuer, current_app.extensions["benefits.dpop"]) as s:
        response = s.get(
            endpoint,
            headers={"Authorization": f"DPoP {token['access_token']}"},
            timeout=conf.timeout,
        )
    if response.status_code != 200:
        raise SignInError(f"userinfo {response.status_code}")
    return response.json()


@bp.get("/auth/callback")
def callback() -> ResponseReturnValue:
    pending = session.pop("sign_in", None) or {}
    try:
        claims = _complete_sign_in()
    except (SignInError, OAuthError, JoseError, KeyFileError) as error:
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
