"""Claims officers' work: the queue of open claims and moving one claim a step on.

The queue's rules: only open claims (submitted, in review, approved), and never a claim an
officer filed or one about their own membership (no one decides their own case). A claim
outside these rules is not found at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from .claim_mail import notify_filer
from .claims import OPEN_STATUSES, ClaimTransitionError, Person, move_claim
from .db import db
from .models import Claim

REJECTION_REASON_LENGTH = (10, 500)


@dataclass
class MoveForm:
    status: str
    reason: str
    errors: dict[str, str]


def _in_queue(officer: Person):
    rules = [Claim.status.in_(OPEN_STATUSES), or_(Claim.filed_by.is_(None),
                                                  Claim.filed_by != officer.sub)]  # fmt: skip
    if officer.membership_number:
        rules.append(Claim.membership_number != officer.membership_number)
    return and_(*rules)


def queue(officer: Person) -> list[Claim]:
    """Open claims this officer may handle, oldest first."""
    return list(db.session.scalars(select(Claim).where(_in_queue(officer)).order_by(Claim.id)))


def find_in_queue(officer: Person, claim_id: int) -> Claim | None:
    return db.session.scalar(select(Claim).where(Claim.id == claim_id, _in_queue(officer)))


def check_move(form: Mapping[str, str]) -> MoveForm:
    """A rejection needs a reason the member can read; other steps need none."""
    checked = MoveForm(form.get("status", ""), form.get("reason", "").strip(), {})
    shortest, longest = REJECTION_REASON_LENGTH
    if checked.status == "rejected" and not shortest <= len(checked.reason) <= longest:
        checked.errors["reason"] = _(
            "Give the member the reason for the rejection in %(min)d to %(max)d characters.",
            min=shortest, max=longest,
        )  # fmt: skip
    return checked


def process(claim: Claim, form: MoveForm, officer: Person) -> bool:
    """Move the claim, commit, then tell the filer; whether the mail went out.

    ClaimTransitionError (nothing changed) when the claim cannot take that step.
    """
    note = form.reason if form.status == "rejected" else None
    try:
        event = move_claim(claim, form.status, officer, note)
    except (ClaimTransitionError, KeyError):
        db.session.rollback()
        raise ClaimTransitionError(f"{claim.status} -> {form.status}") from None
    db.session.commit()
    return notify_filer(claim, event)
