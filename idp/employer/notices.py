"""Mail to registered employees: the invitation to open online access."""

from __future__ import annotations

from urllib.parse import urlencode

from .. import audit
from ..db import db
from ..extensions import settings
from ..mail import DeliveryError, send_template
from ..models import Employer, Member


def activation_link(member: Member) -> str:
    """The activation page with the membership number filled in (the rest the worker types)."""
    query = urlencode({"membership_number": member.membership_number})
    return f"{settings().server.issuer}/account/activate?{query}"


def invite_employees(employer: Employer, members: list[Member]) -> int:
    """Send each new employee the invitation, after the import committed; count failures."""
    failed = 0
    for member in members:
        try:
            send_template(
                member.email, "employee_invite", member.locale, name=member.name,
                employer=employer.name, membership_number=member.membership_number,
                link=activation_link(member),
            )  # fmt: skip
        except DeliveryError:
            failed += 1
            audit.record("mail_failed", detail={"template": "employee_invite"})
    if failed:
        db.session.commit()
    return failed
