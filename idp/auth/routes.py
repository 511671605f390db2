"""Sign-in, sign-out and consent screens. They never mint tokens: `oidc` does."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Flask,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from .. import audit, notifications
from ..clock import utcnow
from ..codes import CodeError, code_problem
from ..db import db
from ..mail import DeliveryError
from ..models import Member
from ..oidc import interaction
from ..oidc.scopes import describe_scopes
from ..security import safe_next, service_unavailable
from ..sso import current_session, end_sessions, start_session
from . import devices, lockout, mfa
from .factors import SecondFactorError
from .factors.passkey import MAX_RESPONSE_LENGTH, PASSWORDLESS, authentication_options
from .lockout import Lock
from .passwords import HashingBusy
from .signin import MAX_IDENTIFIER_LENGTH, MAX_PASSWORD_LENGTH, authenticate, normalize_identifier

bp = Blueprint("auth", __name__)


def _login_page(status: int = 200, **context):
    """The sign-in page; with second factors on, it also offers a passkey (a new challenge)."""
    options = authentication_options(PASSWORDLESS) if mfa.enabled() else None
    return render_template("auth/login.html", passkey_options=options, **context), status


@bp.route("/login", methods=["GET", "POST"])
@lockout.ip_throttled
def login():
    next_url = safe_next(request.values.get("next"))
    identifier = request.values.get("identifier", request.args.get("login_hint", ""))
    if request.method == "GET":
        return _login_page(next=next_url, identifier=identifier)

    password = request.form.get("password", "")
    errors = {}
    if not identifier.strip() or len(identifier) > MAX_IDENTIFIER_LENGTH:
        errors["identifier"] = _("Enter your email or membership number.")
    if not password or len(password) > MAX_PASSWORD_LENGTH:
        errors["password"] = _("Enter your password.")
    if errors:
        return _login_page(400, next=next_url, identifier=identifier, errors=errors)
    outcome = authenticate(identifier, password)
    if isinstance(outcome, Lock):
        return render_template("auth/locked.html", lock=outcome), 403
    if outcome is None:
        errors["form"] = _("The email, membership number or password is incorrect.")
        return _login_page(400, next=next_url, identifier=identifier, errors=errors)
    if mfa.enabled() and mfa.methods(outcome):
        db.session.commit()  # keep a password rehash
        return mfa.begin_second_step(outcome, identifier, next_url, password=True)
    return complete_sign_in(outcome, identifier, acr="pwd", amr=["pwd"], next_url=next_url)


@bp.route("/login/passkey", methods=["POST"])
@lockout.ip_throttled
def passkey_sign_in():
    """Passwordless: a passkey with user verification signs in on its own (acr mfa)."""
    next_url = safe_next(request.form.get("next"))
    response = request.form.get("credential", "")[:MAX_RESPONSE_LENGTH]
    if not mfa.enabled() or not response.strip():
        errors = {"form": _("Use your passkey, or sign in with your password.")}
        return _login_page(400, next=next_url, identifier="", errors=errors)
    outcome = mfa.passwordless(response)
    if isinstance(outcome, Lock):
        return render_template("auth/locked.html", lock=outcome), 403
    if outcome is None:
        errors = {"form": _("This passkey could not be used. Sign in with your password.")}
        return _login_page(400, next=next_url, identifier="", errors=errors)
    return complete_sign_in(
        outcome, outcome.sign_in_identifier, acr="mfa", amr=mfa.PASSWORDLESS_AMR,
        next_url=next_url,
    )  # fmt: skip


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
        return _login_page(400, next="/account", identifier="", errors=errors)
    available = mfa.methods(member)
    method = request.values.get("method", "")
    method = method if method in available else available[0]
    factor = mfa.method(method)

    def page(**context):
        return render_template(
            "auth/second_factor.html",
            method=method,
            factor=factor,
            available=[mfa.method(kind) for kind in available],
            **factor.step_context(member, "mfa_signin"),
            **context,
        )

    if request.method == "GET":
        return page(errors={})
    if request.form.get("action") == "send":
        return page(**send_challenge(member, method, "mfa_signin"))
    code = request.form.get("code", "")[: factor.max_answer]
    if not code.strip():
        return page(errors={"code": str(factor.missing_answer or _("Enter the code."))}), 400
    identifier = pending["identifier"]
    outcome = mfa.check(member, method, code)
    if isinstance(outcome, Lock):
        session.pop("mfa", None)
        return render_template("auth/locked.html", lock=outcome), 403
    if not outcome:
        return page(errors={"code": _("The code is not correct.")}), 400
    session.pop("mfa", None)
    notice = mfa.recovery_used_notice(member) if method == "recovery" else None
    response = complete_sign_in(
        member, identifier, acr="mfa", amr=mfa.amr_for(method), next_url=pending["next"],
        password=pending.get("password", True),
    )  # fmt: skip
    if notice is not None:
        notifications.notify(member, notice)
    return response


def send_challenge(member, method: str, purpose: str) -> dict:
    """Send a code for kinds that send one; the page context saying what happened."""
    factor = mfa.method(method)
    if factor is None or not factor.sends_code:
        return {"errors": {}}
    try:
        factor.challenge(member, purpose)
    except CodeError as error:
        return {"errors": {"code": code_problem(error)}}
    except DeliveryError:
        return {"errors": {"code": _("We could not send the code. Please try again.")}}
    except SecondFactorError as error:
        return {"errors": {"code": error.message}}
    return {"errors": {}, "sent": True}


def complete_sign_in(
    member, identifier: str, *, acr: str, amr: list[str], next_url: str, password: bool = True
):
    """Every factor is done: open the SSO session, clear the failure counts, go on.

    Without a password (a step-up inside a session) the session's auth_time stays the time
    the password was entered, and no forced re-authentication counts as done.
    """
    sso = start_session(member, acr=acr, amr=amr, password=password)
    lockout.clear(normalize_identifier(identifier))
    if acr == "mfa":
        lockout.clear(mfa.account_key(member))
    device = devices.device_hash()
    new_device = devices.is_new_device(member, device)
    audit.record(
        "signin",
        member_id=member.id,
        detail={"acr": acr, "amr": amr, "password": password, "device": device},
    )
    if password:
        interaction.login_finished(sso.sid)
    db.session.commit()
    if new_device:
        devices.notify_new_device(member)
    return redirect(next_url)


@bp.route("/logout", methods=["POST"])
def logout():
    sso = current_session()
    if sso is not None:
        end_sessions([sso], "signed_out")
        db.session.commit()
    return redirect(url_for("auth.login"))


@bp.route("/consent", methods=["GET", "POST"])
def consent():
    pending = interaction.details()
    if pending.prompt is not None and pending.prompt.name != "consent":
        return redirect(pending.resume_url)  # something comes first (sign-in, step-up)
    page = functools.partial(
        render_template,
        "auth/consent.html",
        client=pending.request.client,
        scopes=describe_scopes(pending.request.scope),
        action=url_for("auth.consent") + "?" + pending.request.query_string,
    )
    if request.method == "GET":
        return page()
    decision = request.form.get("decision")
    if decision not in ("allow", "deny"):
        return page(error=_("Choose Allow or Deny.")), 400
    return interaction.finish(pending, granted=decision == "allow", consent=True)


# -- The screens the protocol hands the browser to, one per prompt (oidc/prompts.py) -------


def login_screen(pending: interaction.Interaction):
    return redirect(url_for("auth.login", next=pending.resume_url, login_hint=pending.login_hint))


def second_factor_screen(pending: interaction.Interaction):
    """Step-up: the second step with a factor the member has, or enrolment of a first one."""
    member = pending.session.member
    if mfa.methods(member):
        return mfa.begin_second_step(
            member, member.sign_in_identifier, pending.resume_url, password=False
        )
    return redirect(url_for("account.security", enrol=1, next=pending.resume_url))


def consent_screen(pending: interaction.Interaction):
    return redirect(url_for("auth.consent") + "?" + pending.request.query_string)


RETRY_AFTER_BUSY = 1  # seconds: a hash takes tens of milliseconds


def refuse_when_busy(error: HashingBusy):
    """Every argon2 slot stayed taken: 503, and the member may simply send the form again."""
    current_app.logger.warning("password hashing busy: request refused with 503")
    return service_unavailable(RETRY_AFTER_BUSY)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_error_handler(HashingBusy, refuse_when_busy)
    devices.init_app(app)
    interaction.register_screen(app, "login", login_screen)
    interaction.register_screen(app, "mfa", second_factor_screen)
    interaction.register_screen(app, "consent", consent_screen)
