"""Two-factor management on /account/security: add, remove, recovery codes (issue 5).

Every change needs recent authentication (the password within 10 minutes) and, once the
member has a factor, a valid code from one of them; every change is audited and emailed.
The routes are generic over the factor registry (`auth/factors`).
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from .. import audit, notifications
from ..auth import mfa
from ..auth.factors import FACTORS, SecondFactorError, enrolled
from ..auth.factors.passkey import PasskeyError, passkeys, remove_passkey, rename_passkey
from ..auth.lockout import Lock
from ..auth.routes import send_challenge
from ..codes import CodeError, code_problem
from ..db import db
from ..mail import DeliveryError
from ..security import safe_next
from ..sso import current_session
from . import security_log
from .blueprint import bp, recent_auth_required


def security_page(errors: dict | None = None, status: int = 200, **context):
    member = current_session().member
    if "next" in request.args:
        session["after_enrol"] = safe_next(request.args["next"])
    methods = [mfa.method(kind) for kind in mfa.methods(member)]
    page = render_template(
        "account/security.html",
        member=member,
        events=security_log.member_events(member.id),
        mfa_enabled=mfa.enabled(),
        factors=enrolled(member),
        methods=methods,
        passkeys=passkeys(member),
        # One challenge for every form's "confirm with your passkey" (a single use).
        proof_context=next((m.step_context(member, "mfa_manage") for m in methods if m.many), {}),
        addable=[f for f in FACTORS if f.can_enrol(member)],
        recovery_left=mfa.recovery_codes_left(member),
        enrol=request.args.get("enrol") == "1",
        errors=errors or {},
        **context,
    )
    return page, status


def _proof(member) -> str | None:
    """Check the code from an existing factor; the problem to show, or None when proven."""
    if not enrolled(member):
        return None
    method = request.form.get("method", "")
    factor = mfa.method(method)
    code = request.form.get("code", "")[: factor.max_answer if factor else 64]
    if not code.strip():
        return _("Enter a code from your current two-factor method.")
    outcome = mfa.check(member, method, code, purpose="mfa_manage")
    if isinstance(outcome, Lock):
        return _("Too many wrong codes. Please try again later.")
    return None if outcome else _("The code is not correct.")


def _named(factor, name: str | None) -> str:
    """A factor as the member knows it: "Passkey “Work laptop”", or just its label."""
    return _("%(method)s “%(name)s”", method=factor.label, name=name) if name else factor.label


CHANGES = {
    "added": lambda factor, name: _("%(method)s was added to your two-factor sign-in.",
                                    method=_named(factor, name)),
    "removed": lambda factor, name: _("%(method)s was removed from your two-factor sign-in.",
                                      method=_named(factor, name)),
    "renamed": lambda factor, name: _("A passkey was renamed to “%(name)s”.", name=name),
    "recovery": lambda factor, name: _(
        "New recovery codes were made; the old ones no longer work."),
}  # fmt: skip


def _changed(member, change: str, factor=None, name: str | None = None) -> None:
    """Audit and commit a factor change, then email the member (in their language)."""
    detail = {"change": change, "kind": factor.kind if factor else ""}
    if name:
        detail["name"] = name  # the security log shows the passkey under its name
    audit.record("second_factor_changed", member_id=member.id, detail=detail)
    db.session.commit()
    notifications.notify(member, lambda: CHANGES[change](factor, name))


def _finish_enrolment(member, factor):
    """After a factor is confirmed: the first one gets recovery codes, shown once."""
    first = mfa.recovery_codes_left(member) == 0
    codes = mfa.new_recovery_codes(member) if first else None
    _changed(member, "added", factor, factor.new_name(member))
    if codes:
        return render_template("account/recovery_codes.html", codes=codes, next=_after_enrol())
    return redirect(_after_enrol())


def _after_enrol() -> str:
    return session.pop("after_enrol", None) or url_for("account.security")


@bp.route("/security/send-code", methods=["POST"])
@recent_auth_required
def security_send_code():
    """Send a code by message to prove an existing factor before a change."""
    member = current_session().member
    method = request.form.get("method", "")
    factor = mfa.method(method)
    if factor is None or not factor.sends_code or method not in mfa.methods(member):
        return security_page({"code": _("Choose a method that sends a code.")}, 400)
    outcome = send_challenge(member, method, "mfa_manage")
    if outcome["errors"]:
        return security_page(outcome["errors"], 400)
    return security_page(sent=method)


@bp.route("/security/add", methods=["POST"])
@bp.route("/security/<kind>", methods=["POST"])
@recent_auth_required
def security_add(kind: str | None = None):
    """Add a factor of any registered kind: start (after proof), then confirm with a code."""
    member = current_session().member
    factor = mfa.method(kind or request.form.get("kind", ""))
    if factor is None and kind is not None:
        abort(404)
    if not mfa.enabled():
        return security_page({"form": _("Two-factor sign-in is turned off.")}, 400)
    if request.form.get("action") == "confirm":
        return _confirm(member, factor)
    if factor is None or not factor.can_enrol(member):
        return security_page({"form": _("This method is not available for your account.")}, 400)
    if problem := _proof(member):
        return security_page({"code": problem}, 400)
    try:
        context = factor.start_enrolment(member)
    except CodeError as error:
        return security_page({"form": code_problem(error)}, 400)
    except DeliveryError:
        return security_page({"form": _("We could not send the code. Please try again.")}, 400)
    except SecondFactorError as error:
        return security_page({"form": error.message}, 400)
    db.session.commit()
    return render_template(factor.enrol_template, kind=factor.kind, errors={}, **context)


def _confirm(member, factor):
    if factor is None or not factor.enrol_template or not factor.enrolment_pending(member):
        return security_page({"form": _("Start again: the set-up has expired.")}, 400)
    try:
        confirmed = factor.confirm_enrolment(
            member, request.form.get("code", "")[: factor.max_answer]
        )
        problem = str(factor.wrong_enrolment_code or _("The code is not correct."))
    except SecondFactorError as error:
        confirmed, problem = False, error.message
    if confirmed:
        return _finish_enrolment(member, factor)
    db.session.rollback()
    context = factor.pending_enrolment(member) or {}  # a passkey needs a fresh challenge
    return render_template(
        factor.enrol_template, kind=factor.kind, errors={"code": problem}, **context
    ), 400


@bp.route("/security/remove", methods=["POST"])
@recent_auth_required
def security_remove():
    member = current_session().member
    factor = next((f for f in enrolled(member) if f.kind == request.form.get("kind")), None)
    if factor is None:
        return security_page({"form": _("Choose a method to remove.")}, 400)
    if problem := _proof(member):
        return security_page({"code": problem}, 400)
    mfa.remove_factor(member, factor.kind)
    _changed(member, "removed", factor)
    return redirect(url_for("account.security"))


@bp.route("/security/recovery", methods=["POST"])
@recent_auth_required
def security_recovery():
    """New recovery codes (the old ones stop working), shown once."""
    member = current_session().member
    if not enrolled(member):
        return security_page({"form": _("Set up two-factor sign-in first.")}, 400)
    if problem := _proof(member):
        return security_page({"code": problem}, 400)
    codes = mfa.new_recovery_codes(member)
    _changed(member, "recovery")
    return render_template("account/recovery_codes.html", codes=codes, next=_after_enrol())


@bp.route("/security/passkeys/<int:passkey_id>/rename", methods=["POST"])
@recent_auth_required
def passkey_rename(passkey_id: int):
    """Give a passkey another name (no code needed: the name proves nothing)."""
    member = current_session().member
    try:
        _old, name = rename_passkey(member, passkey_id, request.form.get("name", ""))
    except PasskeyError as error:
        return security_page({"passkey": error.message, "passkey_id": passkey_id}, 400)
    _changed(member, "renamed", mfa.method("passkey"), name)
    return redirect(url_for("account.security"))


@bp.route("/security/passkeys/<int:passkey_id>/remove", methods=["POST"])
@recent_auth_required
def passkey_remove(passkey_id: int):
    """Remove one passkey, after a code (or a passkey) as for any factor."""
    member = current_session().member
    if problem := _proof(member):
        return security_page({"code": problem}, 400)
    try:
        name = remove_passkey(member, passkey_id)
    except PasskeyError as error:
        db.session.rollback()
        return security_page({"passkey": error.message, "passkey_id": passkey_id}, 400)
    mfa.forget_fallbacks(member)
    _changed(member, "removed", mfa.method("passkey"), name)
    return redirect(url_for("account.security"))
