"""Filing benefit claims of the four programs, and moving them through their statuses.

JHT (old-age savings): a reason and a bank account. JP (pension): retirement, disability or
survivors (the last about a deceased member). JKK (work accident): the incident date and what
happened. JKM (death benefit): filed by an heir signed in with their own account, naming the
deceased's membership number, the relationship and the date of death. Every claim carries one
supporting document. A form that fails validation saves nothing, file included.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import FileStorage

from . import documents
from .clock import today, utcnow
from .db import db
from .labels import JHT_REASONS, JP_KINDS, JP_SURVIVORS, RELATIONSHIPS
from .models import Claim, ClaimEvent

# Each status and where it may go next: no skipping, no going back.
NEXT_STATUSES = {
    "submitted": {"in_review", "rejected"},
    "in_review": {"approved", "rejected"},
    "approved": {"paid_out"},
    "paid_out": set(),
    "rejected": set(),
}
OPEN_STATUSES = ("submitted", "in_review", "approved")
DESCRIPTION_LENGTH = (20, 1000)
MEMBERSHIP_NUMBER = re.compile(r"[0-9A-Z]{6,20}")  # as the identity provider's registry


class ClaimTransitionError(ValueError):
    """A claim cannot move from its status to the one asked for."""


@dataclass(frozen=True)
class Person:
    """Who files or handles a claim, from the identity provider's claims."""

    sub: str
    membership_number: str | None = None
    name: str | None = None
    email: str | None = None
    locale: str = "id"


@dataclass
class ClaimForm:
    """What a member typed, and a message per field that failed."""

    values: dict[str, str]
    errors: dict[str, str]
    upload: documents.Upload | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ClaimKind:
    """One kind of claim: its program, form check, template and what to prepare first."""

    program: str
    title: str
    check: Callable[[Mapping[str, str], Person], ClaimForm]
    requirements: tuple[str, ...]
    needs_membership: bool = True


def _iso_date(text: str) -> date | None:
    """YYYY-MM-DD exactly (fromisoformat alone also takes 20240131 and week dates)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _check_bank_account(values: dict, errors: dict) -> None:
    account = values["bank_account"]
    if not (account.isascii() and account.isdigit() and 10 <= len(account) <= 16):
        errors["bank_account"] = _("Enter your bank account number: 10 to 16 digits, nothing else.")


def _check_deceased(form: Mapping[str, str], filer: Person, values: dict, errors: dict,
                    relationships: tuple[str, ...]) -> None:  # fmt: skip
    values["deceased_number"] = form.get("deceased_number", "").strip().upper()
    values["relationship"] = form.get("relationship", "")
    values["date_of_death"] = form.get("date_of_death", "").strip()
    if not MEMBERSHIP_NUMBER.fullmatch(values["deceased_number"]):
        errors["deceased_number"] = _("Enter the membership number: 6 to 20 letters or digits.")
    elif values["deceased_number"] == filer.membership_number:
        errors["deceased_number"] = _("This is your own membership number.")
    if values["relationship"] not in relationships:
        errors["relationship"] = _("Choose how you are related to the member.")
    died = _iso_date(values["date_of_death"])
    if died is None:
        errors["date_of_death"] = _("Enter the date of death as YYYY-MM-DD.")
    elif died > today():
        errors["date_of_death"] = _("The date of death cannot be in the future.")


def check_jht(form: Mapping[str, str], filer: Person) -> ClaimForm:
    values = {
        "reason": form.get("reason", ""),
        "bank_account": form.get("bank_account", "").strip(),
    }
    errors: dict[str, str] = {}
    if values["reason"] not in JHT_REASONS:
        errors["reason"] = _("Choose the reason for your claim.")
    _check_bank_account(values, errors)
    return ClaimForm(values, errors)


def check_jp(form: Mapping[str, str], filer: Person) -> ClaimForm:
    values = {
        "reason": form.get("reason", ""),
        "bank_account": form.get("bank_account", "").strip(),
    }
    errors: dict[str, str] = {}
    if values["reason"] not in JP_KINDS:
        errors["reason"] = _("Choose the kind of pension you claim.")
    elif values["reason"] == "survivors":
        _check_deceased(form, filer, values, errors, JP_SURVIVORS)
    elif not filer.membership_number:
        errors["reason"] = _("A retirement or disability pension needs your own membership.")
    _check_bank_account(values, errors)
    return ClaimForm(values, errors)


def check_jkk(form: Mapping[str, str], filer: Person) -> ClaimForm:
    values = {
        "incident_date": form.get("incident_date", "").strip(),
        "description": form.get("description", "").strip(),
    }
    errors: dict[str, str] = {}
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


def check_jkm(form: Mapping[str, str], filer: Person) -> ClaimForm:
    values = {"bank_account": form.get("bank_account", "").strip()}
    errors: dict[str, str] = {}
    _check_deceased(form, filer, values, errors, tuple(RELATIONSHIPS))
    _check_bank_account(values, errors)
    return ClaimForm(values, errors)


# Registry of claim kinds by their URL segment (/claims/new/<kind>).
KINDS: dict[str, ClaimKind] = {
    "jht": ClaimKind(
        "JHT",
        _l("Claim your JHT savings"),
        check_jht,
        (
            _l("Your bank account number, in your own name."),
            _l(
                "A document showing the reason: a letter of resignation or dismissal, proof "
                "of retirement, a doctor's statement of total disability, or proof of leaving "
                "Indonesia."
            ),
        ),
    ),  # fmt: skip
    "jp": ClaimKind(
        "JP",
        _l("Claim your pension (JP)"),
        check_jp,
        (
            _l("Your bank account number, in your own name."),
            _l("For a survivors' pension: the member's membership number and date of death."),
            _l(
                "A document: proof of retirement, a doctor's statement of disability, or the "
                "death certificate and proof of your relationship."
            ),
        ),
        needs_membership=False,
    ),  # fmt: skip
    "jkk": ClaimKind(
        "JKK",
        _l("Report a work accident (JKK)"),
        check_jkk,
        (
            _l("The date of the accident and a short account of what happened."),
            _l("A document: the employer's accident report or a doctor's statement."),
        ),
    ),
    "jkm": ClaimKind(
        "JKM",
        _l("Claim the death benefit (JKM)"),
        check_jkm,
        (
            _l("You sign in with your own account, as the member's heir."),
            _l("The member's membership number, the date of death and how you are related."),
            _l("Your bank account number, in your own name."),
            _l("A document: the death certificate, with proof of your relationship."),
        ),
        needs_membership=False,
    ),  # fmt: skip
}


def check(kind: ClaimKind, form: Mapping[str, str], filer: Person,
          file: FileStorage | None) -> ClaimForm:  # fmt: skip
    """Check the fields and the document together, so the member sees every problem at once."""
    checked = kind.check(form, filer)
    try:
        checked.upload = documents.check_upload(file)
    except documents.DocumentError as error:
        checked.errors["document"] = str(error)
    return checked


def _build_claim(program: str, filer: Person, values: dict[str, str]) -> Claim:
    target = values.get("deceased_number") or filer.membership_number
    claim = Claim(
        membership_number=target,
        program=program,
        status="submitted",
        filed_at=utcnow(),
        filed_by=filer.sub,
        filer_name=filer.name,
        contact_email=filer.email,
        locale=filer.locale,
        reason=values.get("reason"),
        bank_account=values.get("bank_account"),
        description=values.get("description"),
        kinship=values.get("relationship"),
    )
    if values.get("incident_date"):
        claim.incident_date = date.fromisoformat(values["incident_date"])
    if values.get("date_of_death"):
        claim.date_of_death = date.fromisoformat(values["date_of_death"])
    claim.events.append(
        ClaimEvent(status="submitted", at=claim.filed_at, actor_sub=filer.sub,
                   actor_name=filer.name)
    )  # fmt: skip
    return claim


def submit(kind: ClaimKind, filer: Person, form: ClaimForm) -> Claim:
    """Save a checked claim and its document in one transaction; no file outlives a failure."""
    claim = _build_claim(kind.program, filer, form.values)
    written: list[Path] = []
    try:
        written.append(documents.store(claim, form.upload))
        db.session.add(claim)
        db.session.commit()
    except (OSError, SQLAlchemyError):
        db.session.rollback()
        documents.discard(written)
        raise
    return claim


def file_claim(filer: Person, program: str, values: dict[str, str]) -> Claim:
    """Record a checked claim without a document (seeding and tests; the caller commits)."""
    claim = _build_claim(program, filer, values)
    db.session.add(claim)
    return claim


def move_claim(claim: Claim, status: str, actor: Person | None = None,
               note: str | None = None) -> ClaimEvent:  # fmt: skip
    """Move a claim to its next status, recording who and when (the caller commits)."""
    if status not in NEXT_STATUSES[claim.status]:
        raise ClaimTransitionError(f"a {claim.status} claim cannot become {status}")
    claim.status = status
    event = ClaimEvent(
        status=status,
        at=utcnow(),
        actor_sub=actor.sub if actor else None,
        actor_name=actor.name if actor else None,
        note=note,
    )
    claim.events.append(event)
    return event


def _visible_to(person: Person):
    """A claim is the filer's; claims from before filers were recorded go by membership."""
    mine = Claim.filed_by == person.sub
    if person.membership_number:
        legacy = (Claim.filed_by.is_(None)) & (Claim.membership_number == person.membership_number)
        return or_(mine, legacy)
    return mine


def claims_of(person: Person) -> list[Claim]:
    query = select(Claim).where(_visible_to(person)).order_by(Claim.id.desc())
    return list(db.session.scalars(query))


def find_claim(person: Person, claim_id: int) -> Claim | None:
    """A claim this person filed: anyone else's claim number finds nothing."""
    return db.session.scalar(select(Claim).where(Claim.id == claim_id, _visible_to(person)))
