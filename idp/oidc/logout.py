"""RP-initiated logout on Authlib's end-session endpoint.

OIDC RP-Initiated Logout 1.0 §2 (request), §3 (post-logout redirection), §4 (validation).
Ending the session runs the session store's end-of-session hooks, so every client it signed
into is told by back-channel logout (backchannel.py).
"""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest
from flask import Blueprint, Flask, render_template, request
from flask_babel import gettext as _

from ..db import db
from ..extensions import issuer, keystore
from ..keys import InvalidSignature
from ..security import csrf_exempt
from ..sso import current_session, end_sessions
from .server import authorization_server

bp = Blueprint("logout", __name__)

LOGOUT_FIELDS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales")


class EndSession(EndSessionEndpoint):
    def get_server_jwks(self) -> dict:
        return keystore().jwks()

    def get_algorithms(self) -> list[str]:
        # RFC 8725 §3.1: only the algorithms our keys sign with.
        return keystore().algorithms

    def _validate_id_token_hint(self, id_token_hint: str) -> dict:
        # §2: only our signature matters (an expired hint is accepted). Authlib 1.9 also checks
        # iat against the wall clock; ours is the injectable clock (security invariant 10), so
        # the key store's own check (kid, the key's algorithm) is used instead.
        try:
            return keystore().verify(id_token_hint)[1]
        except InvalidSignature as error:
            raise InvalidRequestError("The id_token_hint is not an ID token we issued.") from error

    def validate_request(self, request_) -> EndSessionRequest:
        checked = super().validate_request(request_)
        claims = checked.id_token_claims
        # §2: the hint must be an ID token we issued (the signature alone does not say so).
        if claims is not None and (
            claims.get("iss") != issuer() or not isinstance(claims.get("sub"), str)
        ):
            raise InvalidRequestError("The id_token_hint is not an ID token we issued.")
        if request_.payload.data.get("client_id") and checked.client is None:
            raise InvalidRequestError("The client_id is not registered.")
        return checked

    def is_post_logout_redirect_uri_legitimate(self, request_, uri, client, logout_hint) -> bool:
        # §3: without a hint, the member's confirmation (end_session below) is our other means.
        return True

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        sso = current_session()
        if sso is not None:
            end_sessions([sso], "rp_logout")
            db.session.commit()


def _page_context(logout: EndSessionRequest) -> dict:
    wanted = request.values.get("post_logout_redirect_uri")
    return {
        "client": logout.client,
        "params": {
            name: request.values[name] for name in LOGOUT_FIELDS if request.values.get(name)
        },
        "unregistered_redirect": bool(wanted) and logout.redirect_uri is None,
    }


def _hint_names_member(logout: EndSessionRequest, subject: str) -> bool:
    return logout.id_token_claims is not None and logout.id_token_claims.get("sub") == subject


def _signed_out(logout: EndSessionRequest):
    """End the session (if any) and answer: back to the client, or our page (§3)."""
    response = authorization_server().create_endpoint_response(EndSession.ENDPOINT_NAME, logout)
    if response is not None:
        return response
    return render_template("oidc/signed_out.html", logout=_page_context(logout), signed_out=True)


def _refused(error: OAuth2Error):
    # §4: an invalid request is never redirected.
    return render_template(
        "oidc/error.html",
        heading=_("Sign-out request refused"),
        error=error.error,
        description=error.description or "",
    ), 400


@bp.route("/end-session", methods=["GET", "POST"])
@csrf_exempt  # the relying party sends this request; the confirmation form is protected
def end_session():
    try:
        logout = authorization_server().validate_endpoint_request(EndSession.ENDPOINT_NAME)
    except OAuth2Error as error:
        return _refused(error)
    sso = current_session()
    if sso is not None and not _hint_names_member(logout, sso.member.subject):
        # §2: without a hint for this member, ask, so a third party cannot sign them out.
        return render_template("oidc/confirm_logout.html", logout=_page_context(logout))
    return _signed_out(logout)


@bp.route("/end-session/confirm", methods=["POST"])
def confirm_end_session():
    try:
        logout = authorization_server().validate_endpoint_request(EndSession.ENDPOINT_NAME)
    except OAuth2Error as error:
        return _refused(error)
    if request.form.get("decision") != "logout":
        # Declined: no redirect, so the client cannot mistake it for a sign-out.
        return render_template(
            "oidc/signed_out.html",
            logout=_page_context(logout),
            signed_out=current_session() is None,
        )
    return _signed_out(logout)


def init_app(app: Flask) -> None:
    app.extensions["idp.oauth"].register_endpoint(EndSession)
    app.register_blueprint(bp)
