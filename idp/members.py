"""The membership registry: creating members, NIK rules, phone and email normalisation."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from .clock import utcnow
from .db import db
from .extensions import settings
from .hashing import keyed_digest
from .models import Member
from .models.identity import new_subject

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MEMBERSHIP_NUMBER_PATTERN = re.compile(r"^[0-9A-Z]{6,20}$")
ISSUED_LENGTH = 11  # ten random digits and a Luhn check digit


def luhn_check_digit(payload: str) -> str:
    """The Luhn (ISO/IEC 7812-1 Annex B) digit that makes `payload + digit` check out."""
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:  # doubled: every second digit counting from the check digit
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """True if the last digit is the Luhn check digit of the others."""
    return (
        len(number) >= 2
        and number.isascii()
        and number.isdigit()
        and luhn_check_digit(number[:-1]) == number[-1]
    )


def typo_neighbours(number: str) -> set[str]:
    """Every single-digit substitution and adjacent transposition of a number."""
    variants = set()
    for i, char in enumerate(number):
        variants.update(number[:i] + d + number[i + 1 :] for d in "0123456789" if d != char)
        if i + 1 < len(number) and number[i + 1] != char:
            variants.add(number[:i] + number[i + 1] + char + number[i + 2 :])
    return variants


def issue_membership_number() -> str:
    """A fresh 11-digit number whose last digit is a Luhn check digit (issue 20).

    Luhn catches every single-digit typo and every adjacent transposition but 09/90, so
    numbers holding "09" or "90" are never issued: a mistyped issued number is then never
    another issued number. Candidates one such typo away from any existing number (operators'
    registry numbers included) are skipped too, so the typo finds no record at all and
    activation and sign-in give their usual "not found" answer.
    """
    while True:
        payload = str(secrets.randbelow(9 * 10 ** (ISSUED_LENGTH - 2)) + 10 ** (ISSUED_LENGTH - 2))
        number = payload + luhn_check_digit(payload)
        if "09" in number or "90" in number:
            continue
        taken = db.session.scalar(
            select(Member.id)
            .where(Member.membership_number.in_(typo_neighbours(number) | {number}))
            .limit(1)
        )
        if taken is None:
            return number


class MemberError(ValueError):
    """Invalid member data; `field` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def nik_problem(nik: str, birthdate: date) -> str | None:
    """Why a NIK is not valid for this birthdate, or None (Dukcapil NIK layout)."""
    if not (len(nik) == 16 and nik.isascii() and nik.isdigit()):
        return str(_l("NIK must be exactly 16 digits."))
    if nik[:6] == "000000":
        return str(_l("The region code in the NIK (first 6 digits) is not valid."))
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if day > 40:  # women: 40 is added to the day of birth
        day -= 40
    if (day, month, year) != (birthdate.day, birthdate.month, birthdate.year % 100):
        return str(_l("The NIK does not match the date of birth."))
    return None


def nik_digest(nik: str) -> str:
    return keyed_digest(settings().members.nik_hmac_key, nik)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def normalize_phone(phone: str) -> str:
    """Indonesian mobile numbers (08…, 628…, +628…) to E.164 (+628…)."""
    digits = re.sub(r"[\s\-().]", "", phone)
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("0"):
        digits = "62" + digits[1:]
    if not (digits.isdigit() and digits.startswith("628") and 10 <= len(digits) <= 15):
        raise MemberError("phone", str(_l("Enter an Indonesian mobile number, e.g. 0812…")))
    return "+" + digits


@dataclass(frozen=True)
class NewMember:
    membership_number: str | None  # None (or empty): the identity provider issues one
    nik: str
    name: str
    birthdate: date
    email: str | None = None
    phone: str | None = None
    employer_name: str | None = None


def create_member(data: NewMember, *, password_hash: str | None = None) -> Member:
    """Validate and add a member to the session (the caller commits)."""
    number = (data.membership_number or "").strip().upper()
    if number and not MEMBERSHIP_NUMBER_PATTERN.match(number):
        raise MemberError("membership_number", "membership number must be 6-20 letters or digits")
    name = " ".join(data.name.split())
    if not name or len(name) > 200:
        raise MemberError("name", "name must be 1-200 characters")
    if problem := nik_problem(data.nik, data.birthdate):
        raise MemberError("nik", problem)
    email = normalize_email(data.email) if data.email else None
    if email and (len(email) > 320 or not EMAIL_PATTERN.match(email)):
        raise MemberError("email", "email address is not valid")
    phone = normalize_phone(data.phone) if data.phone else None
    digest = nik_digest(data.nik)
    clash = db.session.scalar(
        select(Member).where(
            or_(
                Member.membership_number == number if number else False,
                Member.nik_hash == digest,
                Member.email == email if email else False,
            )
        )
    )
    if clash is not None:
        raise MemberError(
            "membership_number", "a member with this membership number, NIK or email exists"
        )
    now = utcnow()
    member = Member(
        subject=new_subject(),
        membership_number=number or issue_membership_number(),
        nik_hash=digest,
        nik_last4=data.nik[-4:],
        name=name,
        birthdate=data.birthdate,
        email=email,
        email_verified=email is not None and password_hash is not None,
        phone=phone,
        employer_name=data.employer_name,
        password_hash=password_hash,
        created_at=now,
        updated_at=now,
    )
    db.session.add(member)
    return member
