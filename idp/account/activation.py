"""Activation ("Daftar"): a registered worker opens online access and verifies the email.

The details must match one membership record without an online account; any mismatch gets
one generic answer, so the page reveals neither which field was wrong nor whether the
membership exists (security invariant 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

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


@dataclass(frozen=True)
class PasswordRefused:
    """The details matched, but the password fails the policy with the member's own data."""

    message: str


def _claim(member: Member, email: str, password_hash: str, locale: str) -> bool:
    """Give the record online access, atomically: of parallel activations exactly one wins."""
    try:
        claimed = db.session.execute(
            update(Member)
            .where(Member.id == member.id, Member.password_hash.is_(None))
            .values(
                email=email,
                email_verified=False,
                password_hash=password_hash,
                locale=locale,
                updated_at=utcnow(),
            )
        ).rowcount
    except IntegrityError:  # the address was taken by a parallel activation of another record
        db.session.rollback()
        return False
    if claimed != 1:
        db.session.rollback()
        return False
    db.session.refresh(member)
    return True


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


def activate(form: ActivationForm, born: date, locale: str) -> bool | Lock | PasswordRefused:
    """Open online access; False (with nothing stored) when the details match no record.

    Wrong details count toward the membership number's lockout (issue 6): while it is locked
    the attempt is refused and the Lock returned.
    """
    identifier = normalize_identifier(form.membership_number)
    attempt = lockout.begin_attempt(identifier, None, refused_event="activation_refused_locked")
    if attempt.lock is not None:
        return attempt.lock
    member = _matching_record(form, born)
    if member is None:
        return lockout.attempt_failed(attempt, event="activation_failed") or False
    lockout.attempt_succeeded(attempt)
    db.session.commit()
    email = normalize_email(form.email)
    # The whole policy, now that the record (and so the member's name) is known.
    problem = password_problem(
        form.password, name=member.name, email=email, membership_number=member.membership_number,
        nik=form.nik, birthdate=born,
    )  # fmt: skip
    if problem:
        return PasswordRefused(problem)
    if _email_taken(email, member):
        # Do not reveal the other account: tell that address's owner instead, answer as usual.
        send_quietly(email, "email_in_use", locale, name=member.name)
        audit.record("activation_email_in_use", member_id=member.id)
        db.session.commit()
        return True
    if not _claim(member, email, hash_password(form.password), locale):
        return False  # a parallel activation of this record won; it has online access now
    link = issue_link(member, "verify_email", "account.verify_email", target=email)
    audit.record("activated", member_id=member.id)
    db.session.commit()
    send_quietly(email, "verify_email", locale, name=member.name, link=link)
    return True
