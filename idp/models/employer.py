"""Employers, their administrators, employments and roles (issue 20)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    String,
    UniqueConstraint,
    bindparam,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import UTCDateTime, db
from .identity import Member

PROGRAMS = ("JKK", "JKM", "JHT", "JP")
EMPLOYER_ADMIN = "employer_admin"


class Employer(db.Model):
    __tablename__ = "employers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    registration_number: Mapped[str] = mapped_column(String(32), unique=True)
    address: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EmployerAdmin(db.Model):
    """An identity holding the employer administrator role for one employer."""

    __tablename__ = "employer_admins"
    __table_args__ = (UniqueConstraint("employer_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(
        ForeignKey("employers.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    employer: Mapped[Employer] = relationship(lazy="joined")
    member: Mapped[Member] = relationship(foreign_keys=[member_id], lazy="joined")


class Employment(db.Model):
    """A worker's membership record employed by an employer; ending it keeps the membership."""

    __tablename__ = "employments"

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(
        ForeignKey("employers.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    monthly_wage: Mapped[int] = mapped_column(BigInteger)  # whole rupiah
    programs: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    employer: Mapped[Employer] = relationship(lazy="joined")
    member: Mapped[Member] = relationship(lazy="joined")


class MemberRole(db.Model):
    """A role granted by an operator (`idp users grant-role`), e.g. `claims_officer`."""

    __tablename__ = "member_roles"
    __table_args__ = (UniqueConstraint("member_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(48))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


def member_roles(member_id: int) -> list[str]:
    """Every role of a member: granted ones, and `employer_admin` while administering one."""
    granted = set(
        db.session.scalars(select(MemberRole.role).where(MemberRole.member_id == member_id))
    )
    administers = db.session.scalar(
        select(EmployerAdmin.id)
        .join(Employer, Employer.id == EmployerAdmin.employer_id)
        .where(EmployerAdmin.member_id == member_id, Employer.status == "active")
        .limit(1)
    )
    if administers is not None:
        granted.add(EMPLOYER_ADMIN)
    return sorted(granted)


_LATEST_EMPLOYMENT = (
    select(Employment.end_date, Employer.name)
    .join(Employer, Employer.id == Employment.employer_id)
    .where(Employment.member_id == bindparam("member_id"))
    .order_by(
        Employment.end_date.is_(None).desc(), Employment.start_date.desc(), Employment.id.desc()
    )
    .limit(1)
)


def current_employer_name(member: Member) -> str | None:
    """The employer of the open employment that started last (a worker may hold more than
    one); a worker never employed through the portal keeps the employer name the registry
    import brought, and has none once every employment has ended. One query."""
    latest = db.session.execute(_LATEST_EMPLOYMENT, {"member_id": member.id}).first()
    if latest is None:
        return member.employer_name
    return latest.name if latest.end_date is None else None
