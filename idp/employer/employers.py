"""Employers and who administers them: the portal's access rule lives here."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import audit
from ..clock import utcnow
from ..db import db
from ..models import Employer, EmployerAdmin

REGISTRATION_NUMBER_PATTERN = re.compile(r"^[0-9A-Z][0-9A-Z.\-/]{3,31}$")


class EmployerError(ValueError):
    """Invalid employer or employee data; `field` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def create_employer(name: str, registration_number: str, address: str | None = None) -> Employer:
    """Validate and add an employer (the caller commits)."""
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise EmployerError("name", str(_l("Enter the company name (at most 200 characters).")))
    number = registration_number.strip().upper()
    if not REGISTRATION_NUMBER_PATTERN.match(number):
        raise EmployerError(
            "registration_number",
            str(
                _l("The registration number must be 4-32 letters, digits, dots, dashes or slashes.")
            ),
        )
    if db.session.scalar(select(Employer.id).where(Employer.registration_number == number)):
        raise EmployerError(
            "registration_number", str(_l("An employer with this registration number exists."))
        )
    address = " ".join((address or "").split()) or None
    if address and len(address) > 500:
        raise EmployerError("address", str(_l("The address is too long (at most 500 characters).")))
    employer = Employer(
        name=name, registration_number=number, address=address, status="active", created_at=utcnow()
    )
    db.session.add(employer)
    db.session.flush()
    audit.record("employer_created", detail={"employer_id": employer.id, "by": "operator"})
    return employer


def all_employers() -> list[Employer]:
    return list(db.session.scalars(select(Employer).order_by(Employer.id)))


def administered_by(member_id: int) -> list[Employer]:
    """The active employers this identity administers."""
    return list(
        db.session.scalars(
            select(Employer)
            .join(EmployerAdmin, EmployerAdmin.employer_id == Employer.id)
            .where(EmployerAdmin.member_id == member_id, Employer.status == "active")
            .order_by(Employer.name, Employer.id)
        )
    )


def administered_employer(member_id: int, employer_id: int) -> Employer | None:
    """The employer if this identity administers it (and it is active); else None (403)."""
    return db.session.scalar(
        select(Employer)
        .join(EmployerAdmin, EmployerAdmin.employer_id == Employer.id)
        .where(
            EmployerAdmin.member_id == member_id,
            Employer.id == employer_id,
            Employer.status == "active",
        )
    )


def administrators(employer_id: int) -> list[EmployerAdmin]:
    return list(
        db.session.scalars(
            select(EmployerAdmin)
            .where(EmployerAdmin.employer_id == employer_id)
            .order_by(EmployerAdmin.created_at, EmployerAdmin.id)
        )
    )
