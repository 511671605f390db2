"""The employer's employee list: search by name or membership number, pages, the export."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from ..db import db
from ..models import Employer, Employment, Member

PAGE_SIZE = 20


def _search(employer: Employer, query: str):
    statement = (
        select(Employment)
        .join(Member, Member.id == Employment.member_id)
        .where(Employment.employer_id == employer.id)
    )
    query = query.strip()
    if query:
        pattern = "%" + query.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
        statement = statement.where(
            or_(func.lower(Member.name).like(pattern), Member.membership_number.like(pattern))
        )
    return statement


def employees_page(employer: Employer, query: str, page: int) -> tuple[list[Employment], int]:
    """One page of this employer's employments (open ones first, by name) and the page count."""
    statement = _search(employer, query)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = db.session.scalars(
        statement.order_by(Employment.end_date.is_not(None), Member.name, Employment.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    return list(rows), pages


def all_employees(employer: Employer) -> list[Employment]:
    return list(
        db.session.scalars(
            _search(employer, "").order_by(
                Employment.end_date.is_not(None), Member.name, Employment.id
            )
        )
    )
