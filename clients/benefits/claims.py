"""Filing benefit claims and moving them through their statuses.

JHT (old-age savings) claims give a reason and a bank account; JKK (work accident) claims give
the incident date and what happened. A form that fails validation saves nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from .clock import today, utcnow
from .db import db
from .labels import JHT_REASONS
from .models import Claim, ClaimEvent

NEXT_STATUSES = {
    "submitted": {"in_review", "rejected"},
    "in_review": {"approved", "rejected"},
    "approved": {"paid"},
    "paid": set(),
    "rejected": set(),
}
DESCRIPTION_LENGTH = (20, 1000)


class ClaimTransitionError(ValueError):
    """A claim cannot move from its status to the one asked for."""


@dataclass
class ClaimForm:
    """What a member typed, and a message per field that failed."""

    values: dict[str, str]
    errors: dict[str, str]


def _iso_date(text: str) -> date | None:
    """YYYY-MM-DD exactly (fromisoformat alone also takes 20240131 and week dates)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def check_jht(form: dict[str, str]) -> ClaimForm:
    values = {
        "reason": form.get("reason", ""),
        "bank_account": form.get("bank_account", "").strip(),
    }
    errors = {}
    if values["reason"] not in JHT_REASONS:
        errors["reason"] = _("Choose the reason for your claim.")
    account = values["bank_account"]
    if not (account.isascii() and account.isdigit() and 10 <= len(account) <= 16):
        errors["bank_account"] = _("Enter your bank account number: 10 to 16 digits, nothing else.")
    return ClaimForm(values, errors)


def check_jkk(form: dict[str, str]) -> ClaimForm:
    values = {
        "incident_date": form.get("incident_date", "").strip(),
        "description": form.get("description", "").strip(),
    }
    errors = {}
    incident = _iso_date(values["incident_date"])
    if incident is None:
        errors["incident_date"] = _("Enter the date of the accident as YYYY-MM-DD.")
    elif incident > today():
        errors["incident_date"] = _("The date of the accident cannot be in the future.")
    shortest, longest = DESCRIPTION_LENGTH
    if not shortest <= len(values["description"]) <= longest:
        errors["description"] = _(
            "Describe what happened in %(min)d to %(max)d characters.", min=shortest, max=longest
        )
    return ClaimForm(values, errors)


def file_claim(number: str, program: str, values: dict[str, str]) -> Claim:
    """Record a checked claim as submitted (the caller commits)."""
    claim = Claim(membership_number=number, program=program, status="submitted", filed_at=utcnow())
    if program == "JHT":
        claim.reason, claim.bank_account = values["reason"], values["bank_account"]
    else:
        claim.incident_date = date.fromisoformat(values["incident_date"])
        claim.description = values["description"]
    claim.events.append(ClaimEvent(status="submitted", at=claim.filed_at))
    db.session.add(claim)
    return claim


def move_claim(claim: Claim, status: str) -> None:
    """Move a claim to its next status, recording when (the caller commits)."""
    if status not in NEXT_STATUSES[claim.status]:
        raise ClaimTransitionError(f"a {claim.status} claim cannot become {status}")
    claim.status = status
    claim.events.append(ClaimEvent(status=status, at=utcnow()))


def claims_of(number: str) -> list[Claim]:
    return list(
        db.session.scalars(
            select(Claim).where(Claim.membership_number == number).order_by(Claim.id.desc())
        )
    )


def find_claim(number: str, claim_id: int) -> Claim | None:
    """A claim of this member only: another member's claim number finds nothing."""
    return db.session.scalar(
        select(Claim).where(Claim.id == claim_id, Claim.membership_number == number)
    )
