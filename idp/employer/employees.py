"""Employee registration: validate a worker's details, create or find the membership, employ.

A NIK that already has a membership keeps its number and gains a new employment: a worker
changing employers is never duplicated. Registering a worker who is already employed here
changes nothing, so a re-uploaded file is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import audit
from ..clock import utcnow
from ..db import db
from ..members import (
    EMAIL_PATTERN,
    MemberError,
    NewMember,
    create_member,
    nik_digest,
    nik_problem,
    normalize_email,
    normalize_phone,
)
from ..models import Employer, Employment, Member
from ..models.employer import PROGRAMS

FIELDS = ("name", "nik", "birthdate", "email", "phone", "start_date", "monthly_wage", "programs")
MAX_WAGE = 10**12


@dataclass(frozen=True)
class NewEmployee:
    name: str
    nik: str
    birthdate: date
    email: str
    phone: str | None
    start_date: date
    monthly_wage: int
    programs: tuple[str, ...]


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _programs(value: str) -> tuple[str, ...] | None:
    chosen = [p.strip().upper() for p in value.split(";") if p.strip()]
    if not chosen or any(p not in PROGRAMS for p in chosen):
        return None
    return tuple(p for p in PROGRAMS if p in chosen)  # canonical order, no repeats


def parse_employee(values: dict[str, str]) -> tuple[NewEmployee | None, dict[str, str]]:
    """Field-level problems with one worker's details (no database lookups)."""
    errors: dict[str, str] = {}
    value = {name: (values.get(name) or "").strip() for name in FIELDS}
    name = " ".join(value["name"].split())
    if not name or len(name) > 200:
        errors["name"] = str(_l("Enter the full name (at most 200 characters)."))
    born = _parse_date(value["birthdate"])
    if born is None:
        errors["birthdate"] = str(_l("Enter the date of birth as YYYY-MM-DD."))
    elif born > utcnow().date():
        errors["birthdate"] = str(_l("The date of birth cannot be in the future."))
    nik = value["nik"]
    if born is not None and "birthdate" not in errors:
        if problem := nik_problem(nik, born):
            errors["nik"] = problem
    elif not (len(nik) == 16 and nik.isascii() and nik.isdigit()):
        errors["nik"] = str(_l("NIK must be exactly 16 digits."))
    email = normalize_email(value["email"])
    if len(email) > 320 or not EMAIL_PATTERN.match(email):
        errors["email"] = str(_l("Enter a valid email address."))
    phone = None
    if value["phone"]:
        try:
            phone = normalize_phone(value["phone"])
        except MemberError as error:
            errors["phone"] = error.message
    start = _parse_date(value["start_date"])
    if start is None:
        errors["start_date"] = str(_l("Enter the start date as YYYY-MM-DD."))
    elif born is not None and start < born:
        errors["start_date"] = str(_l("The start date cannot be before the date of birth."))
    wage = value["monthly_wage"]
    if not (wage.isascii() and wage.isdigit() and 0 < int(wage) <= MAX_WAGE):
        errors["monthly_wage"] = str(_l("Enter the monthly wage in whole rupiah, digits only."))
    programs = _programs(value["programs"])
    if programs is None:
        errors["programs"] = str(_l("Choose one or more of JKK, JKM, JHT and JP."))
    if errors:
        return None, errors
    return NewEmployee(name, nik, born, email, phone, start, int(wage), programs), {}


def _member_by_nik(nik: str) -> Member | None:
    return db.session.scalar(select(Member).where(Member.nik_hash == nik_digest(nik)))


def _open_employment(employer_id: int, member_id: int) -> Employment | None:
    return db.session.scalar(
        select(Employment).where(
            Employment.employer_id == employer_id,
            Employment.member_id == member_id,
            Employment.end_date.is_(None),
        )
    )


def registry_problems(employer: Employer, employee: NewEmployee) -> dict[str, str]:
    """Problems only the registry can reveal: a NIK on record with another birthdate, or an
    email address that belongs to another account."""
    member = _member_by_nik(employee.nik)
    if member is not None:
        if member.birthdate != employee.birthdate:
            return {"nik": str(_l("This NIK is registered with another date of birth."))}
        return {}
    owner = db.session.scalar(select(Member.id).where(Member.email == employee.email))
    if owner is not None:
        return {"email": str(_l("This email address belongs to another account."))}
    return {}


def already_employed(employer: Employer, employee: NewEmployee) -> bool:
    member = _member_by_nik(employee.nik)
    return member is not None and _open_employment(employer.id, member.id) is not None


def register_employee(
    employer: Employer, employee: NewEmployee, admin: Member | None
) -> tuple[Employment | None, Member | None]:
    """Create or find the membership and add the employment (the caller commits).

    Returns the new employment (None if the worker is already employed here) and the member
    to invite (None if they already have online access or nothing changed).
    """
    member = _member_by_nik(employee.nik)
    new_record = member is None
    if new_record:
        member = create_member(
            NewMember(None, employee.nik, employee.name, employee.birthdate, employee.email,
                      employee.phone)
        )  # fmt: skip
        db.session.flush()
    elif _open_employment(employer.id, member.id) is not None:
        return None, None
    employment = Employment(
        employer_id=employer.id,
        member_id=member.id,
        start_date=employee.start_date,
        monthly_wage=employee.monthly_wage,
        programs=list(employee.programs),
        created_at=utcnow(),
    )
    db.session.add(employment)
    db.session.flush()
    audit.record(
        "employee_registered",
        member_id=admin.id if admin else None,
        detail={
            "employer_id": employer.id,
            "employment_id": employment.id,
            "employee_member_id": member.id,
            "new_membership": new_record,
            "by": f"admin:{admin.id}" if admin else "operator",
        },
    )
    invite = member if (member.email and not member.has_online_access) else None
    return employment, invite


def employment_of(employer: Employer, employment_id: int) -> Employment | None:
    """The employment if it belongs to this employer; None otherwise (the caller answers 403)."""
    employment = db.session.get(Employment, employment_id)
    if employment is None or employment.employer_id != employer.id:
        return None
    return employment


def end_employment(employment: Employment, end_date: date, admin: Member) -> None:
    """End an employment; the worker keeps the membership (the caller commits)."""
    employment.end_date = end_date
    audit.record(
        "employment_ended",
        member_id=admin.id,
        detail={
            "employer_id": employment.employer_id,
            "employment_id": employment.id,
            "employee_member_id": employment.member_id,
            "end_date": end_date.isoformat(),
            "by": f"admin:{admin.id}",
        },
    )


def end_date_problem(employment: Employment, value: str) -> tuple[date | None, str | None]:
    ended = _parse_date(value)
    if ended is None:
        return None, str(_l("Enter the end date as YYYY-MM-DD."))
    if ended < employment.start_date:
        return None, str(_l("The end date cannot be before the start date."))
    if ended > utcnow().date():
        return None, str(_l("The end date cannot be in the future."))
    if employment.end_date is not None:
        return None, str(_l("This employment has already ended."))
    return ended, None
