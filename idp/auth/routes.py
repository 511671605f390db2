"""Sign-in, sign-out and consent screens. They never mint tokens: `oidc` does."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from .. import audit
from ..clock import utcnow
from ..codes import CodeError, code_problem
from ..db import db
from ..mail import DeliveryError
from ..models import Member
from ..models.oauth import remember_consent
from ..oidc import authorization as authz
from ..oidc.routes import authorization_error_page
from ..oidc.scopes import describe_scopes
from ..oidc.server import authorization_server
from ..security import safe_next
from . import lockout, mfa
from .lockout import Lock
from .sessions import current_session, end_sessions, start_session
from .signin import MAX_IDENTIFIER_LENGTH, MAX_PASSWORD_LENGTH, authenticate, normalize_identifier

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@lockout.ip_throttled
def login():
    next_url = safe_next(request.values.get("next"))
    identifier = request.values.get("identifier", request.args.get("login_hint", ""))
    if request.method == "GET":
        return render_template("auth/login.html", next=next_url, identifier=identifier)

    password = request.form.get("password", "")
    errors = {}
    if not identifier.strip() or len(identifier) > MAX_IDENTIFIER_LENGTH:
        errors["identifier"] = _("Enter your email or membership number.")
    if not password or len(password) > MAX_PASSWORD_LENGTH:
        errors["password"] = _("Enter your password.")
    if errors:
        return render_template(
            "auth/login.html", next=next_url, identifier=identifier, errors=errors
        ), 400
    outcome = authenticate(identifier, password)
    if isinstance(outcome, Lock):
        return render_template("auth/locked.html", lock=outcome), 403
    if outcome is None:
        errors["form"] = _("The email, membership number or password is incorrect.")
        return render_template(
            "auth/login.html", next=next_url, identifier=identifier, errors=errors
        ), 400
    if mfa.enabled() and mfa.methods(outcome):
        db.session.commit()  # keep a password rehash
        return mfa.begin_second_step(outcome, identifier, next_url)
    return complete_sign_in(outcome, identifier, acr="pwd", amr=["pwd"], next_url=next_url)


def _pending_second_step():
    """The member waiting for the second step, or None if there is none or it expired."""
    pending = session.get("mfa")
    if not isinstance(pending, dict):
        return None, None
    started = datetime.fromtimestamp(pending.get("started", 0), UTC)
    member = db.session.get(Member, pending.get("member", 0))
    if member is None or utcnow() - started > mfa.SECOND_STEP_LIFETIME:
        session.pop("mfa", None)
        return None, None
    return pending, member


@bp.route("/login/2fa", methods=["GET", "POST"])
@lockout.ip_throttled
def second_factor():
    pending, member = _pending_second_step()
    if member is None:
        errors = {"form": _("Your sign-in took too long or has ended. Please sign in again.")}
        return render_template(
            "auth/login.html", next="/account", identifier="", errors=errors
        ), 400
    available = mfa.methods(member)
    method = request.values.get("method", "")
    method = method if method in available else available[0]
    page = functools.partial(
        render_template, "auth/second_factor.html", method=method, available=available
    )
    if request.method == "GET":
        return page(errors={})
    if request.form.get("action") == "send":
        return page(**_send_code(member, method, "mfa_signin"))
    code = request.form.get("code", "")[:64]
    if not code.strip():
        return page(errors={"code": _("Enter the code.")}), 400
    identifier = pending["identifier"]
    outcome = mfa.check(member, identifier, method, code)
    if isinstance(outcome, Lock):
        session.pop("mfa", None)
        return render_template("auth/locked.html", lock=outcome), 403
    if not outcome:
        return page(errors={"code": _("The code is not correct.")}), 400
    session.pop("mfa", None)
    notice = mfa.recovery_used_notice(member) if method == "recovery" else None
    response = complete_sign_in(
        member, identifier, acr="mfa", amr=mfa.amr_for(method), next_url=pending["next"]
    )
    if notice is not None:
        mfa.send_notice(member, notice)
    return response


def _send_code(member, method: str, purpose: str) -> dict:
    """Send an email or SMS code; the page context saying what happened."""
    if method not in mfa.CODE_FACTORS:
        return {"errors": {}}
    try:
        mfa.send_code(member, method, f"{purpose}_{method}")
    except CodeError as error:
        return {"errors": {"code": code_problem(error)}}
    except DeliveryError:
        return {"errors": {"code": _("We could not send the code. Please try again.")}}
    return {"errors": {}, "sent": True}


def complete_sign_in(member, identifier: str, *, acr: str, amr: list[str], next_url: str):
    """Every factor is done: open the SSO session, clear the failure count, go on."""
    sso = start_session(member, acr=acr, amr=amr)
    lockout.clear(normalize_identifier(identifier))
    audit.record("signin", member_id=member.id, detail={"acr": acr})
    pending = session.pop("reauth_pending", None)
    if pending:
        session["reauth"] = {"key": pending, "sid": sso.sid}
    db.session.commit()
    return redirect(next_url)


@bp.route("/logout", methods=["POST"])
def logout():
    sso = current_session()
    if sso is not None:
        end_sessions([sso], "signed_out")
        db.session.commit()
    return redirect(url_for("auth.login"))


def _pending_consent():
    """The authorization request behind the consent screen, or the response that ends it."""
    sso = current_session()
    try:
        pending = authz.validate_request(sso.member if sso else None)
    except authz.AuthorizationPageError as error:
        return None, authorization_error_page(error.error, error.description)
    except OAuth2Error as error:
        if not error.redirect_uri:
            return None, authorization_error_page(error.error, error.description or "")
        return None, authorization_server().handle_error_response(None, error)
    if authz.login_reason(pending, sso):
        return None, redirect(url_for("oidc.authorize") + "?" + pending.query_string)
    return pending, None


@bp.route("/consent", methods=["GET", "POST"])
def consent():
    pending, response = _pending_consent()
    if response is not None:
        return response
    member = current_session().member
    if request.method == "GET":
        return render_template(
            "auth/consent.html",
            client=pending.client,
            scopes=describe_scopes(pending.scope),
            action=url_for("auth.consent") + "?" + pending.query_string,
        )
    decision = request.form.get("decision")
    if decision not in ("allow", "deny"):
        return render_template(
            "auth/consent.html",
            client=pending.client,
            scopes=describe_scopes(pending.scope),
            action=url_for("auth.consent") + "?" + pending.query_string,
            error=_("Choose Allow or Deny."),
        ), 400
    if decision == "deny":
        return authz.finish(pending, None)
    remember_consent(member.id, pending.client.client_id, pending.scope, utcnow())
    db.session.commit()
    return authz.finish(pending, member)
