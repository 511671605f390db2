"""Helpdesk operations on a member's online account, run by operators through `idp users`.

Each change is audited (`by: helpdesk`) and emailed to the member in their language, so a
change the member did not ask for never goes unnoticed. Nothing here reveals a secret: the NIK
is shown masked, second factors only by kind.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from . import audit
from .clock import utcnow
from .db import db
from .extensions import settings
from .mail import send_template
from .members import EMAIL_PATTERN, MemberError, normalize_email, normalize_phone
from .models import (
    AuditEvent,
    LoginThrottle,
    Member,
    Passkey,
    RecoveryCode,
    SecondFactor,
    SsoSession,
)
from .models.identity import find_by_identifier


class HelpdeskError(Exception):
    """The operation was refused; the message says why. Nothing was changed."""


def find_member(identifier: str) -> Member:
    """The member with this email or membership number."""
    raw = identifier.strip()
    member = find_by_identifier(normalize_email(raw) if "@" in raw else raw)
    if member is None:
        raise HelpdeskError(f"no member with email or membership number {identifier!r}")
    return member


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _locked_until(member: Member) -> datetime | None:
    from .auth.lockout import throttle_key

    keys = [throttle_key(v) for v in (member.email, member.membership_number) if v]
    until = db.session.scalar(
        select(func.max(LoginThrottle.locked_until)).where(LoginThrottle.key.in_(keys))
    )
    return until if until and until > utcnow() else None


def describe(member: Member) -> dict:
    """What the helpdesk may see: no password hash, secrets or full NIK."""
    now = utcnow()
    factors = db.session.scalars(
        select(SecondFactor.kind).where(
            SecondFactor.member_id == member.id, SecondFactor.confirmed_at.is_not(None)
        )
    ).all()
    if db.session.scalar(select(Passkey.id).where(Passkey.member_id == member.id).limit(1)):
        factors = [*factors, "passkey"]
    recovery_left = db.session.scalar(
        select(func.count()).where(
            RecoveryCode.member_id == member.id, RecoveryCode.used_at.is_(None)
        )
    )
    sessions = db.session.scalar(
        select(func.count()).where(
            SsoSession.member_id == member.id,
            SsoSession.ended_at.is_(None),
            SsoSession.expires_at > now,
        )
    )
    last_signin = db.session.scalar(
        select(func.max(AuditEvent.created_at)).where(
            AuditEvent.member_id == member.id, AuditEvent.event == "signin"
        )
    )
    return {
        "membership_number": member.membership_number,
        "sub": member.subject,
        "name": member.name,
        "nik": member.nik_masked,
        "birthdate": member.birthdate.isoformat(),
        "employer": member.employer_name,
        "email": member.email,
        "email_verified": member.email_verified,
        "phone": member.phone,
        "phone_verified": member.phone_verified,
        "locale": member.locale,
        "status": member.status,
        "online_access": member.has_online_access,
        "second_factors": sorted(factors),
        "recovery_codes_left": recovery_left,
        "locked_until": _stamp(_locked_until(member)),
        "open_sessions": sessions,
        "last_signin": _stamp(last_signin),
        "created": _stamp(member.created_at),
        "updated": _stamp(member.updated_at),
    }


def _notify(member: Member, address: str | None, notice) -> None:
    """Email a security notice to the member (or to an address they had) in their language."""
    if not address:
        return
    with force_locale(member.locale):
        text = notice()
    send_template(address, "security_notice", member.locale, name=member.name, notice=text,
                  reset_url=f"{settings().server.issuer}/account/reset")  # fmt: skip


def _record(event: str, member: Member, reason: str, **detail) -> None:
    member.updated_at = utcnow()
    audit.record(event, member_id=member.id, detail={"by": "helpdesk", "reason": reason} | detail)


def _end_everything(member: Member) -> int:
    from .sso import end_member_sessions

    return end_member_sessions(member.id, "helpdesk", all_grants=True)


def reset_factors(member: Member, reason: str) -> dict:
    """Lost phone: remove every second factor and recovery code, and end every session."""
    removed = db.session.execute(
        delete(SecondFactor).where(SecondFactor.member_id == member.id)
    ).rowcount
    removed += db.session.execute(delete(Passkey).where(Passkey.member_id == member.id)).rowcount
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
    ended = _end_everything(member)
    _record("second_factors_reset", member, reason, removed=removed)
    db.session.commit()
    _notify(member, member.email, lambda: _(
        "At your request, the helpdesk removed your two-step sign-in methods and signed you out "
        "everywhere. Sign in with your password and set up two-step sign-in again."))  # fmt: skip
    return {"second_factors_removed": removed, "sessions_ended": ended}


def set_email(member: Member, new_email: str, reason: str) -> dict:
    """Change the address; it must be confirmed again from a link sent to it."""
    from .account.links import issue_link

    email = normalize_email(new_email)
    if len(email) > 320 or not EMAIL_PATTERN.match(email):
        raise HelpdeskError(f"{new_email!r} is not a valid email address")
    taken = db.session.scalar(
        select(Member.id).where(Member.email == email, Member.id != member.id)
    )
    if taken is not None:
        raise HelpdeskError(f"{email} is already used by another member")
    old = member.email
    member.email, member.email_verified = email, False
    with current_app.test_request_context(base_url=settings().server.issuer):
        link = issue_link(member, "verify_email", "account.verify_email", target=email)
    _record("email_changed", member, reason)
    db.session.commit()
    send_template(email, "verify_email", member.locale, name=member.name, link=link)
    _notify(member, old, lambda: _(
        "At your request, the helpdesk changed the email address of your account to %(email)s. "
        "Messages now go there once it is confirmed.", email=email))  # fmt: skip
    return {"email": email, "email_verified": False, "previous_notified": bool(old)}


def set_phone(member: Member, new_phone: str, reason: str) -> dict:
    """Change the number; it must be confirmed again with an SMS code from the account page."""
    try:
        phone = normalize_phone(new_phone)
    except MemberError as error:
        raise HelpdeskError(f"{new_phone!r}: {error.message}") from error
    member.phone, member.phone_verified = phone, False
    _record("phone_changed", member, reason)
    db.session.commit()
    _notify(member, member.email, lambda: _(
        "At your request, the helpdesk changed the mobile number of your account to one ending "
        "in %(last)s. Confirm it on your account page before codes are sent there.",
        last=phone[-4:]))  # fmt: skip
    return {"phone": phone, "phone_verified": False}


def set_status(member: Member, status: str, reason: str) -> dict:
    """Disable (every session and grant ends at once) or enable the online account."""
    if member.status == status:
        raise HelpdeskError(f"{member.membership_number} is already {status}")
    member.status = status
    ended = _end_everything(member) if status == "disabled" else 0
    _record("account_disabled" if status == "disabled" else "account_enabled", member, reason)
    db.session.commit()
    if status == "disabled":
        _notify(member, member.email, lambda: _(
            "The helpdesk suspended online access to your account. Call the helpdesk to "
            "restore it."))  # fmt: skip
    else:
        _notify(member, member.email, lambda: _(
            "The helpdesk restored online access to your account. You can sign in "
            "again."))  # fmt: skip
    return {"status": status, "sessions_ended": ended}
