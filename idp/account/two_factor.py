"""Two-factor management on /account/security: enrol, remove, recovery codes (issue 5).

Every change needs recent authentication (the password within 10 minutes) and, once the
member has a factor, a valid code from one of them; every change is audited and emailed.
"""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from .. import audit
from ..auth import mfa
from ..auth.lockout import Lock
from ..auth.sessions import current_session
from ..codes import CodeError, code_problem
from ..db import db
from ..mail import DeliveryError
from ..security import safe_next
from . import security_log
from .routes import bp, recent_auth_required


def _kind_label(kind: str) -> str:
    labels = {
        "totp": _("Authenticator app"),
        "email": _("Code by email"),
        "sms": _("Code by SMS"),
    }
    return labels[kind]


def security_page(errors: dict | None = None, status: int = 200, **context):
    member = current_session().member
    if "next" in request.args:
        session["after_enrol"] = safe_next(request.args["next"])
    factors = mfa.factors(member)
    page = render_template(
        "account/security.html",
        events=security_log.member_events(member.id),
        mfa_enabled=mfa.enabled(),
        factors=factors,
        methods=mfa.methods(member),
        addable=[k for k in mfa.KINDS if k not in {f.kind for f in factors}],
        targets={k: mfa.code_target(member, k) for k in mfa.CODE_FACTORS},
        recovery_left=mfa.recovery_codes_left(member),
        label=_kind_label,
        enrol=request.args.get("enrol") == "1",
        errors=errors or {},
        **context,
    )
    return page, status


def _proof(member) -> str | None:
    """Check the code from an existing factor; the problem to show, or None when proven."""
    if not mfa.factors(member):
        return None
    method = request.form.get("method", "")
    code = request.form.get("code", "")[:64]
    if not code.strip():
        return _("Enter a code from your current two-factor method.")
    outcome = mfa.check(member, member.sign_in_identifier, method, code, purpose="mfa_manage")
    if isinstance(outcome, Lock):
        return _("Too many wrong codes. Please try again later.")
    return None if outcome else _("The code is not correct.")


CHANGES = {
    "added": lambda kind: _("%(method)s was added to your two-factor sign-in.",
                            method=_kind_label(kind)),
    "removed": lambda kind: _("%(method)s was removed from your two-factor sign-in.",
                              method=_kind_label(kind)),
    "recovery": lambda kind: _("New recovery codes were made; the old ones no longer work."),
}  # fmt: skip


def _changed(member, change: str, kind: str = "") -> None:
    """Audit and commit a factor change, then email the member (in their language)."""
    audit.record(
        "second_factor_changed", member_id=member.id, detail={"change": change, "kind": kind}
    )
    db.session.commit()
    mfa.send_notice(member, lambda: CHANGES[change](kind))


def _finish_enrolment(member, kind: str):
    """After a factor is confirmed: first one gets recovery codes, shown once."""
    first = mfa.recovery_codes_left(member) == 0
    codes = mfa.new_recovery_codes(member) if first else None
    _changed(member, "added", kind)
    if codes:
        return render_template("account/recovery_codes.html", codes=codes, next=_after_enrol())
    return redirect(_after_enrol())


def _after_enrol() -> str:
    return session.pop("after_enrol", None) or url_for("account.security")


@bp.route("/security/send-code", methods=["POST"])
@recent_auth_required
def security_send_code():
    """Send an email or SMS code to prove an existing factor before a change."""
    member = current_session().member
    method = request.form.get("method", "")
    if method not in mfa.CODE_FACTORS or method not in mfa.methods(member):
        return security_page({"code": _("Choose a method that sends a code.")}, 400)
    try:
        mfa.send_code(member, method, f"mfa_manage_{method}")
    except CodeError as error:
        return security_page({"code": code_problem(error)}, 400)
    except DeliveryError:
        return security_page({"code": _("We could not send the code. Please try again.")}, 400)
    return security_page(sent=method)


@bp.route("/security/totp", methods=["POST"])
@recent_auth_required
def security_totp():
    """Enrol an authenticator app: start (QR code and secret), then confirm with a code."""
    member = current_session().member
    if not mfa.enabled():
        return security_page({"form": _("Two-factor sign-in is turned off.")}, 400)
    if request.form.get("action") == "confirm":
        enrolment = mfa.pending_totp(member)
        if enrolment is None:
            return security_page({"form": _("Start again: the set-up has expired.")}, 400)
        if mfa.confirm_totp(member, request.form.get("code", "")[:64]):
            return _finish_enrolment(member, "totp")
        errors = {"code": _("The code is not correct. Check the time on your phone.")}
        return render_template("account/totp_enrol.html", enrolment=enrolment, errors=errors), 400
    if problem := _proof(member):
        return security_page({"code": problem}, 400)
    enrolment = mfa.start_totp(member)
    db.session.commit()
    return render_template("account/totp_enrol.html", enrolment=enrolment, errors={})


@bp.route("/security/add", methods=["POST"])
@recent_auth_required
def security_add_code_factor():
    """Enrol email or SMS codes: send a code to the confirmed address, then confirm it."""
    member = current_session().member
    kind = request.form.get("kind", "")
    if not mfa.enabled() or kind not in mfa.CODE_FACTORS or mfa.code_target(member, kind) is None:
        return security_page({"form": _("This method is not available for your account.")}, 400)
    if request.form.get("action") == "confirm":
        if mfa.confirm_code_factor(member, kind, request.form.get("code", "")[:64]):
            return _finish_enrolment(member, kind)
        db.session.rollback()
        errors = {"code": _("The code is not correct.")}
        return render_template("account/code_enrol.html", kind=kind, errors=errors), 400
    if problem := _proof(member):
        return security_page({"code": problem}, 400)
    try:
        mfa.send_code(member, kind, f"mfa_enrol_{kind}")
    except CodeError as error:
        return security_page({"form": code_problem(error)}, 400)
    except DeliveryError:
        return security_page({"form": _("We could not send the code. Please try again.")}, 400)
    return render_template("account/code_enrol.html", kind=kind, errors={})


@bp.route("/security/remove", methods=["POST"])
@recent_auth_required
def security_remove():
    member = current_session().member
    kind = request.form.get("kind", "")
    if kind not in {f.kind for f in mfa.factors(member)}:
        return security_page({"form": _("Choose a method to remove.")}, 400)
    if problem := _proof(member):
        return security_page({"code": problem}, 400)
    mfa.remove_factor(member, kind)
    _changed(member, "removed", kind)
    return redirect(url_for("account.security"))


@bp.route("/security/recovery", methods=["POST"])
@recent_auth_required
def security_recovery():
    """New recovery codes (the old ones stop working), shown once."""
    member = current_session().member
    if not mfa.factors(member):
        return security_page({"form": _("Set up two-factor sign-in first.")}, 400)
    if problem := _proof(member):
        return security_page({"code": problem}, 400)
    codes = mfa.new_recovery_codes(member)
    _changed(member, "recovery")
    return render_template("account/recovery_codes.html", codes=codes, next=_after_enrol())
