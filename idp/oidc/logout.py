"""RP-initiated logout: the end-session endpoint.

OIDC RP-Initiated Logout 1.0 §2 (request), §3 (post-logout redirection), §4 (validation).
Ending the session sends back-channel logout to every client it signed into (backchannel.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from authlib.common.urls import add_params_to_uri
from flask import Blueprint, redirect, render_template, request
from flask_babel import gettext as _

from ..auth.sessions import current_session, end_sessions
from ..db import db
from ..extensions import issuer, keystore
from ..keys import InvalidSignature
from ..models import Client
from ..models.oauth import find_client
from ..security import csrf_exempt

bp = Blueprint("logout", __name__)

LOGOUT_FIELDS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales")


class LogoutRequestError(Exception):
    """A request we cannot act on; shown as a page, never redirected (§4)."""


@dataclass
class LogoutRequest:
    params: dict
    client: Client | None
    redirect_uri: str | None
    unregistered_redirect: bool
    hint_subject: str | None

    def matches(self, subject: str) -> bool:
        return self.hint_subject is not None and self.hint_subject == subject


def _hint_claims(hint: str) -> dict:
    # §2: an expired ID token is still a valid hint; only our signature and issuer matter.
    try:
        claims = keystore().verify(hint)[1]
    except InvalidSignature as error:
        raise LogoutRequestError(_("The id_token_hint is not an ID token we issued.")) from error
    if claims.get("iss") != issuer() or not isinstance(claims.get("sub"), str):
        raise LogoutRequestError(_("The id_token_hint is not an ID token we issued."))
    return claims


def parse_logout_request(values) -> LogoutRequest:
    params = {name: values.get(name) for name in LOGOUT_FIELDS if values.get(name)}
    claims = _hint_claims(params["id_token_hint"]) if "id_token_hint" in params else {}
    audiences = claims.get("aud", [])
    audiences = [audiences] if isinstance(audiences, str) else audiences
    client_id = params.get("client_id") or (audiences[0] if len(audiences) == 1 else None)
    if claims and client_id not in audiences:
        raise LogoutRequestError(_("The client_id does not match the id_token_hint."))
    client = find_client(client_id) if client_id else None
    if client_id and client is None:
        raise LogoutRequestError(_("The application is not registered."))
    wanted = params.get("post_logout_redirect_uri")
    # §3: redirect only to a URI registered for this client, exact match.
    allowed = client is not None and wanted in (client.post_logout_redirect_uris or [])
    return LogoutRequest(
        params=params,
        client=client,
        redirect_uri=wanted if allowed else None,
        unregistered_redirect=bool(wanted) and not allowed,
        hint_subject=claims.get("sub"),
    )


def _finish(logout: LogoutRequest, *, signed_out: bool):
    if logout.redirect_uri:
        state = logout.params.get("state")
        params = [("state", state)] if state else []
        return redirect(add_params_to_uri(logout.redirect_uri, params))
    return render_template("oidc/signed_out.html", logout=logout, signed_out=signed_out)


def _refused(error: LogoutRequestError):
    return render_template(
        "oidc/error.html",
        heading=_("Sign-out request refused"),
        error="invalid_request",
        description=str(error),
    ), 400


@bp.route("/end-session", methods=["GET", "POST"])
@csrf_exempt  # the relying party sends this request; the confirmation form is protected
def end_session():
    try:
        logout = parse_logout_request(request.values)
    except LogoutRequestError as error:
        return _refused(error)
    sso = current_session()
    if sso is None:
        return _finish(logout, signed_out=True)
    if not logout.matches(sso.member.subject):
        # §2: without a hint for this member, ask, so a third party cannot sign them out.
        return render_template("oidc/confirm_logout.html", logout=logout)
    end_sessions([sso], "rp_logout")
    db.session.commit()
    return _finish(logout, signed_out=True)


@bp.route("/end-session/confirm", methods=["POST"])
def confirm_end_session():
    try:
        logout = parse_logout_request(request.form)
    except LogoutRequestError as error:
        return _refused(error)
    sso = current_session()
    if request.form.get("decision") != "logout":
        # Declined: no redirect, so the client cannot mistake it for a sign-out.
        return render_template("oidc/signed_out.html", logout=logout, signed_out=sso is None)
    if sso is not None:
        end_sessions([sso], "rp_logout")
        db.session.commit()
    return _finish(logout, signed_out=True)
