"""Profile changes a member makes: address, phone (confirmed by SMS code), email (re-verified).

Registry data (name, NIK, birthdate, membership number) is read-only here. Every change moves
`updated_at`, which relying parties see as the `updated_at` claim.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit
from ..clock import utcnow
from ..db import db
from ..extensions import settings
from ..hashing import keyed_digest
from ..mail import DeliveryError
from ..members import EMAIL_PATTERN, MemberError, normalize_email, normalize_phone
from ..models import ActionToken, Member
from ..models.account import revoke_unused
from ..sms import send_sms
from .activation import send_quietly
from .links import issue_link, last_issued

ADDRESS_FIELDS = ("street_address", "locality", "region", "postal_code")
PHONE_CODE_LIFETIME = timedelta(minutes=5)
PHONE_CODE_TRIES = 5
RESEND_INTERVAL = timedelta(seconds=60)


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


def _code_digest(salt: str, code: str) -> str:
    # Keyed and salted: a database leak does not let anyone try the million possible codes.
    return keyed_digest(settings().server.secret_key, f"phone-code:{salt}:{code}")


def start_phone_change(member: Member, raw_phone: str) -> str:
    """Text a 6-digit code to the new number (nothing is saved yet); return the number."""
    try:
        phone = normalize_phone(raw_phone)
    except MemberError as error:
        raise ProfileError("phone", error.message) from error
    now = utcnow()
    last = last_issued(member.id, "verify_phone")
    if last is not None and now - last.created_at < RESEND_INTERVAL:
        raise ProfileError("phone", _("A code was sent less than a minute ago. Please wait."))
    code = f"{secrets.randbelow(1_000_000):06d}"
    salt = secrets.token_hex(8)
    revoke_unused(member.id, "verify_phone", now)
    db.session.add(
        ActionToken(
            purpose="verify_phone",
            member_id=member.id,
            nonce_hash=f"{salt}${_code_digest(salt, code)}",
            target=phone,
            created_at=now,
            expires_at=now + PHONE_CODE_LIFETIME,
            attempts=0,
        )
    )
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


def _live_phone_code(member: Member, *, lock: bool = False) -> ActionToken | None:
    query = select(ActionToken).where(
        ActionToken.member_id == member.id,
        ActionToken.purpose == "verify_phone",
        ActionToken.used_at.is_(None),
        ActionToken.expires_at > utcnow(),
    )
    return db.session.scalar(query.with_for_update(of=ActionToken) if lock else query)


def pending_phone(member: Member) -> str | None:
    """The number waiting for its SMS code, if a code is still live."""
    pending = _live_phone_code(member)
    return pending.target if pending is not None and pending.attempts < PHONE_CODE_TRIES else None


def confirm_phone_change(member: Member, code: str) -> None:
    """Save the new number if the code is right; at most 5 tries per code."""
    pending = _live_phone_code(member, lock=True)
    if pending is None or pending.attempts >= PHONE_CODE_TRIES:
        raise ProfileError("code", _("The code has expired. Ask for a new one."))
    pending.attempts += 1
    salt, _sep, digest = pending.nonce_hash.partition("$")
    candidate = code.strip()
    if not (candidate.isdigit() and len(candidate) == 6) or not hmac.compare_digest(
        _code_digest(salt, candidate), digest
    ):
        db.session.commit()  # the failed try counts
        raise ProfileError("code", _("The code is not correct."))
    pending.used_at = utcnow()
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
