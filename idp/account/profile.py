"""Profile changes a member makes: address, phone (confirmed by SMS code), email (re-verified).

Registry data (name, NIK, birthdate, membership number) is read-only here. Every change moves
`updated_at`, which relying parties see as the `updated_at` claim.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit
from ..clock import utcnow
from ..codes import CodeError, check_code, code_problem, issue_code, live_code
from ..db import db
from ..mail import DeliveryError
from ..members import EMAIL_PATTERN, MemberError, normalize_email, normalize_phone
from ..models import ActionToken, Member
from ..notifications import send_mail_quietly as send_quietly
from ..sms import send_sms
from .links import issue_link

ADDRESS_FIELDS = ("street_address", "locality", "region", "postal_code")


class ProfileError(ValueError):
    """A field-level problem; `field` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _touch(member: Member, event: str) -> None:
    member.updated_at = utcnow()
    audit.record(event, member_id=member.id)


def update_address(member: Member, form: dict[str, str]) -> None:
    """Validate and store the address; the caller commits."""
    values = {name: " ".join(form.get(name, "").split())[:200] for name in ADDRESS_FIELDS}
    if not values["street_address"] or not values["locality"]:
        raise ProfileError("street_address", _("Enter at least the street and the city."))
    if values["postal_code"] and not (
        len(values["postal_code"]) == 5 and values["postal_code"].isdigit()
    ):
        raise ProfileError("postal_code", _("A postal code has 5 digits."))
    parts = [values["street_address"], values["locality"], values["region"], values["postal_code"]]
    member.address = values | {
        "country": "ID",
        "formatted": ", ".join(p for p in parts if p) + ", Indonesia",
    }
    _touch(member, "address_changed")


def start_phone_change(member: Member, raw_phone: str) -> str:
    """Text a 6-digit code to the new number (nothing is saved yet); return the number."""
    try:
        phone = normalize_phone(raw_phone)
    except MemberError as error:
        raise ProfileError("phone", error.message) from error
    try:
        code = issue_code(member, "verify_phone", phone)
    except CodeError as error:
        raise ProfileError("phone", code_problem(error)) from error
    message = _(
        "Your Social Security Portal code is %(code)s. It is valid for 5 minutes.", code=code
    )
    try:
        send_sms(phone, message)
    except DeliveryError as error:
        db.session.rollback()
        raise ProfileError("phone", _("We could not send the SMS. Please try again.")) from error
    db.session.commit()
    return phone


def pending_phone(member: Member) -> str | None:
    """The number waiting for its SMS code, if a code is still live."""
    pending = live_code(member, "verify_phone")
    return pending.target if pending is not None else None


def confirm_phone_change(member: Member, code: str) -> None:
    """Save the new number if the code is right; at most 5 tries per code."""
    try:
        pending = check_code(member, "verify_phone", code)
    except CodeError as error:
        raise ProfileError("code", code_problem(error)) from error
    member.phone = pending.target
    member.phone_verified = True
    _touch(member, "phone_changed")


def start_email_change(member: Member, raw_email: str) -> None:
    """Send a confirmation link to the new address and a notice to the old one."""
    new_email = normalize_email(raw_email)
    if len(new_email) > 320 or not EMAIL_PATTERN.match(new_email):
        raise ProfileError("email", _("Enter a valid email address."))
    if new_email == member.email:
        raise ProfileError("email", _("This is already your email address."))
    owner = db.session.scalar(select(Member).where(Member.email == new_email))
    audit.record("email_change_requested", member_id=member.id)
    if owner is not None:
        # Answer as usual; the owner of that address learns of the attempt, nobody else.
        db.session.commit()
        send_quietly(new_email, "email_in_use", member.locale, name=member.name)
        return
    link = issue_link(member, "change_email", "account.confirm_email", target=new_email)
    db.session.commit()
    send_quietly(new_email, "verify_email", member.locale, name=member.name, link=link)
    if member.email:
        send_quietly(
            member.email, "email_change_requested", member.locale, name=member.name,
            new_email=new_email,
        )  # fmt: skip


def finish_email_change(token: ActionToken) -> bool:
    """Apply a confirmed change unless the address was taken meanwhile; the caller commits."""
    member = token.member
    taken = db.session.scalar(
        select(Member).where(Member.email == token.target, Member.id != member.id)
    )
    if taken is not None:
        return False
    old = member.email
    member.email = token.target
    member.email_verified = True
    _touch(member, "email_changed")
    if old:
        send_quietly(old, "email_changed", member.locale, name=member.name, new_email=token.target)
    return True
