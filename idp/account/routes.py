"""The member's own account pages."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from .. import audit
from ..auth import lockout
from ..auth.lockout import Lock
from ..auth.passwords import verify_password
from ..auth.signin import normalize_identifier
from ..clock import utcnow
from ..db import db
from ..members import normalize_email
from ..models.employer import current_employer_name, member_roles
from ..notifications import send_mail_quietly
from ..oidc import interaction
from ..ratelimits import ip_allows_message
from ..security import safe_next
from ..sso import current_session
from . import activation, passwords, sessions, two_factor  # noqa: F401 (their routes)
from . import profile as changes
from .activation import ActivationForm
from .blueprint import bp, login_required, recent_auth_required
from .links import issue_link, last_issued, over_hourly_limit, peek_link, redeem_link


@bp.route("")
@login_required
def profile():
    sso = current_session()
    return render_template(
        "account/profile.html",
        member=sso.member,
        sso=sso,
        roles=member_roles(sso.member_id),
        employer=current_employer_name(sso.member),
    )


ACTIVATION_FIELDS = ("membership_number", "nik", "birthdate", "email", "password")
RESEND_INTERVAL = timedelta(seconds=60)


@bp.route("/activate", methods=["GET", "POST"])
@lockout.ip_throttled
def activate():
    """Register for online access ("Daftar")."""
    if request.method == "GET":
        # Issue 20: the employee invitation links here with the membership number filled in.
        number = request.args.get("membership_number", "")[:32]
        return render_template(
            "account/activate.html", values={"membership_number": number}, errors={}
        )
    values = {name: request.form.get(name, "")[:1024] for name in ACTIVATION_FIELDS}
    form = ActivationForm(**values)
    errors, born = form.errors()
    outcome = None if errors else activation.activate(form, born, str(get_locale()))
    if isinstance(outcome, Lock):
        return render_template("auth/locked.html", lock=outcome, activation=True), 403
    if isinstance(outcome, activation.PasswordRefused):
        errors["password"] = outcome.message
    if not errors and not outcome:
        errors["form"] = _(
            "These details do not match a membership without online access. Check them, or"
            " ask your employer to confirm your registration."
        )
    if errors:
        values.pop("password")
        return render_template("account/activate.html", values=values, errors=errors), 400
    return render_template("account/activate_sent.html", email=normalize_email(form.email))


@bp.route("/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    """Confirm an email address. GET only shows a button: mail scanners must not use the link."""
    if request.method == "GET":
        return render_template("account/verify.html", token=token)
    used = redeem_link(token, "verify_email")
    if used is None or used.target != used.member.email:
        return render_template("account/verify.html", token=token, failed=True), 400
    used.member.email_verified = True
    used.member.updated_at = utcnow()
    audit.record("email_verified", member_id=used.member_id)
    db.session.commit()
    return render_template("account/verified.html")


@bp.route("/verify", methods=["GET", "POST"])
@login_required
def verification_needed():
    """Shown when an unverified account tries to sign in to a service; offers a new link."""
    member = current_session().member
    next_url = safe_next(request.values.get("next"))
    if member.email_verified:
        return redirect(next_url)
    sent = False
    if request.method == "POST":
        last = last_issued(member.id, "verify_email")
        too_soon = last is not None and utcnow() - last.created_at < RESEND_INTERVAL
        if (
            too_soon
            or over_hourly_limit(member.id, "verify_email")
            or not ip_allows_message("verify_email")
        ):
            db.session.commit()  # the IP's count stands
            return render_template(
                "account/verify_needed.html", member=member, next=next_url, throttled=True
            ), 429
        link = issue_link(member, "verify_email", "account.verify_email", target=member.email)
        db.session.commit()
        send_mail_quietly(member.email, "verify_email", member.locale, name=member.name, link=link)
        sent = True
    return render_template("account/verify_needed.html", member=member, next=next_url, sent=sent)


@bp.route("/reset", methods=["GET", "POST"])
def reset_request():
    """Forgot password: the answer is the same whether or not the account exists."""
    if request.method == "POST":
        passwords.request_reset(request.form.get("identifier", "")[:320])
        return render_template("account/reset_sent.html")
    return render_template("account/reset_request.html")


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from a reset link (used only when the new password is accepted)."""
    found = peek_link(token, "reset_password")
    if found is None:
        return render_template("account/reset_password.html", expired=True), 400
    member = found.member
    if request.method == "GET":
        return render_template("account/reset_password.html", errors={})
    password = request.form.get("password", "")[:1024]
    if problem := passwords.new_password_problem(member, password):
        errors = {"password": problem}
        return render_template("account/reset_password.html", errors=errors), 400
    if redeem_link(token, "reset_password") is None:  # lost a race with another use
        return render_template("account/reset_password.html", expired=True), 400
    passwords.set_password(member, password)
    db.session.commit()
    passwords.notify_password_changed(member)
    return render_template("account/reset_done.html")


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change the password from the account page; the current one is required."""
    sso = current_session()
    member = sso.member
    if request.method == "GET":
        return render_template("account/change_password.html", errors={})
    errors = {}
    checked = _check_password_again(member, request.form.get("current_password", ""))
    if isinstance(checked, Lock):
        return render_template("auth/locked.html", lock=checked), 403
    if not checked:
        errors["current_password"] = _("The current password is not correct.")
    password = request.form.get("password", "")[:1024]
    if problem := passwords.new_password_problem(member, password):
        errors["password"] = problem
    if errors:
        return render_template("account/change_password.html", errors=errors), 400
    passwords.set_password(member, password, keep_session=sso)
    db.session.commit()
    passwords.notify_password_changed(member)
    return render_template("account/change_password.html", errors={}, changed=True)


@bp.route("/security")
@login_required
def security():
    """Two-factor sign-in and the security log (sign-ins, failures, locks, changes)."""
    return two_factor.security_page()


def _check_password_again(member, password: str) -> bool | Lock:
    """A signed-in member re-enters the password: wrong ones count toward the lockout too,
    so a borrowed or stolen session cannot be used to guess it."""
    attempt = lockout.begin_attempt(normalize_identifier(member.sign_in_identifier), member)
    if attempt.lock is not None:
        return attempt.lock
    if verify_password(member.password_hash, password[:1024]):
        lockout.attempt_succeeded(attempt)
        return True
    return lockout.attempt_failed(attempt) or False


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
def confirm_password():
    """Re-enter the password before a sensitive change; counts as a fresh authentication."""
    sso = current_session()
    next_url = safe_next(request.values.get("next"))
    if request.method == "POST":
        checked = _check_password_again(sso.member, request.form.get("password", ""))
        if isinstance(checked, Lock):
            return render_template("auth/locked.html", lock=checked), 403
        if checked:
            sso.auth_time = utcnow()
            audit.record("signin", member_id=sso.member_id, detail={"reason": "confirm"})
            db.session.commit()
            return redirect(next_url)
        errors = {"password": _("The password is not correct.")}
        return render_template("account/confirm.html", next=next_url, errors=errors), 400
    return render_template("account/confirm.html", next=next_url, errors={})


def _edit_page(template: str, member, **context):
    return render_template(template, member=member, errors={}, **context)


@bp.route("/address", methods=["GET", "POST"])
@recent_auth_required
def address():
    member = current_session().member
    if request.method == "GET":
        return _edit_page("account/address.html", member, values=member.address or {})
    values = {name: request.form.get(name, "") for name in changes.ADDRESS_FIELDS}
    try:
        changes.update_address(member, values)
    except changes.ProfileError as error:
        db.session.rollback()
        errors = {error.field: error.message}
        return render_template(
            "account/address.html", member=member, values=values, errors=errors
        ), 400
    db.session.commit()
    return redirect(url_for("account.profile", saved="address"))


@bp.route("/phone", methods=["GET", "POST"])
@recent_auth_required
def phone():
    """Step 1: the new number gets a code by SMS. Step 2 (`code`): the code saves it."""
    member = current_session().member
    if request.method == "GET":
        return _edit_page("account/phone.html", member, pending=None)
    try:
        if "code" in request.form:
            changes.confirm_phone_change(member, request.form.get("code", "")[:16])
            db.session.commit()
            return redirect(url_for("account.profile", saved="phone"))
        pending = changes.start_phone_change(member, request.form.get("phone", "")[:32])
    except changes.ProfileError as error:
        pending = changes.pending_phone(member) if error.field == "code" else None
        errors = {error.field: error.message}
        return render_template(
            "account/phone.html", member=member, pending=pending, errors=errors
        ), 400
    return _edit_page("account/phone.html", member, pending=pending)


@bp.route("/email", methods=["GET", "POST"])
@recent_auth_required
def change_email():
    member = current_session().member
    if request.method == "GET":
        return _edit_page("account/email.html", member, sent=False)
    try:
        changes.start_email_change(member, request.form.get("email", "")[:320])
    except changes.ProfileError as error:
        errors = {error.field: error.message}
        return render_template("account/email.html", member=member, errors=errors), 400
    return _edit_page("account/email.html", member, sent=True)


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """Confirm a new address from the link sent to it (GET shows a button, POST uses it)."""
    if request.method == "GET":
        return render_template("account/verify.html", token=token, endpoint="account.confirm_email")
    used = redeem_link(token, "change_email")
    if used is None or not changes.finish_email_change(used):
        db.session.rollback()
        return render_template(
            "account/verify.html", token=token, endpoint="account.confirm_email", failed=True
        ), 400
    db.session.commit()
    return render_template("account/verified.html")


def verify_email_screen(pending: interaction.Interaction):
    """The protocol's `verify_email` prompt: ask for the email link before going on."""
    return redirect(url_for("account.verification_needed", next=pending.resume_url))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    interaction.register_screen(app, "verify_email", verify_email_screen)
