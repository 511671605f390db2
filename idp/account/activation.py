"""Activation ("Daftar"): a registered worker opens online access and verifies the email.

The details must match one membership record without an online account; any mismatch gets
one generic answer, so the page reveals neither which field was wrong nor whether the
membership exists (security invariant 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit
from ..auth import lockout
from ..auth.lockout import Lock
from ..auth.passwords import hash_password
from ..auth.policy import password_problem
from ..auth.signin import normalize_identifier
from ..clock import utcnow
from ..db import db
from ..members import EMAIL_PATTERN, nik_digest, nik_problem, normalize_email
from ..models import Member
from ..notifications import send_mail_quietly as send_quietly
from .links import issue_link


@dataclass
class ActivationForm:
    membership_number: str
    nik: str
    birthdate: str
    email: str
    password: str

    def errors(self) -> tuple[dict[str, str], date | None]:
        """Field-level problems, checked before any lookup; and the parsed birthdate."""
        errors: dict[str, str] = {}
        if not self.membership_number.strip() or len(self.membership_number) > 32:
            errors["membership_number"] = _("Enter your membership number.")
        born = None
        try:
            born = date.fromisoformat(self.birthdate)
            if born > utcnow().date():
                errors["birthdate"] = _("The date of birth cannot be in the future.")
        except ValueError:
            errors["birthdate"] = _("Enter your date of birth as YYYY-MM-DD.")
        if born and "birthdate" not in errors and (problem := nik_problem(self.nik, born)):
            errors["nik"] = problem
        elif not born and not (len(self.nik) == 16 and self.nik.isdigit()):
            errors["nik"] = _("NIK must be exactly 16 digits.")
        email = normalize_email(self.email)
        if len(email) > 320 or not EMAIL_PATTERN.match(email):
            errors["email"] = _("Enter a valid email address.")
        problem = password_problem(
            self.password,
            email=email,
            membership_number=self.membership_number.strip(),
            nik=self.nik,
            birthdate=born,
        )
        if problem:
            errors["password"] = problem
        return errors, born


def _matching_record(form: ActivationForm, born: date) -> Member | None:
    member = db.session.scalar(
        select(Member).where(
            Member.membership_number == form.membership_number.strip().upper(),
            Member.nik_hash == nik_digest(form.nik),
        )
    )
    if member is None or member.birthdate != born or member.password_hash is not None:
        return None
    return member


def _email_taken(email: str, member: Member) -> bool:
    owner = db.session.scalar(select(Member).where(Member.email == email))
    return owner is not None and owner.id != member.id


def activate(form: ActivationForm, born: date, locale: str) -> bool | Lock:
    """Open online access; False (with nothing stored) when the details match no record.

    Wrong details count toward the membership number's lockout (issue 6): while it is locked
    the attempt is refused and the Lock returned.
    """
    identifier = normalize_identifier(form.membership_number)
    if lockout.current_lock(identifier) is not None:
        return lockout.register_failure(identifier, None, event="activation_refused_locked")
    member = _matching_record(form, born)
    if member is None:
        return lockout.register_failure(identifier, None, event="activation_failed") or False
    email = normalize_email(form.email)
    if _email_taken(email, member):
        # Do not reveal the other account: tell that address's owner instead, answer as usual.
        send_quietly(email, "email_in_use", locale, name=member.name)
        audit.record("activation_email_in_use", member_id=member.id)
        db.session.commit()
        return True
    member.email = email
    member.email_verified = False
    member.password_hash = hash_password(form.password)
    member.locale = locale
    member.updated_at = utcnow()
    link = issue_link(member, "verify_email", "account.verify_email", target=email)
    audit.record("activated", member_id=member.id)
    db.session.commit()
    send_quietly(email, "verify_email", locale, name=member.name, link=link)
    return True
