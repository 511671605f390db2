"""Inviting employer administrators: an emailed, single-use, expiring link to choose a password.

The link works like the account links (idp/account/links.py): an itsdangerous-signed nonce
whose SHA-256 is an `action_tokens` row, used once by a conditional update. Following it and
choosing a password opens the identity and proves the email address.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from .. import audit
from ..auth.passwords import hash_password
from ..auth.policy import password_problem
from ..clock import utcnow
from ..db import db
from ..extensions import settings
from ..hashing import secret_digest
from ..mail import DeliveryError, send_template
from ..members import EMAIL_PATTERN, normalize_email
from ..models import ActionToken, Employer, EmployerAdmin, Member
from ..models.account import revoke_unused, use_once
from ..models.identity import new_subject
from .employers import EmployerError

PURPOSE = "employer_invite"
LIFETIME = timedelta(hours=72)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(settings().server.secret_key, salt=f"idp-{PURPOSE}")


def _identity_for(email: str, name: str) -> Member:
    """The identity with this email, or a new one that is not a member (no number, no NIK)."""
    member = db.session.scalar(select(Member).where(Member.email == email))
    if member is not None:
        return member
    now = utcnow()
    member = Member(
        subject=new_subject(),
        name=name,
        email=email,
        email_verified=False,
        status="active",
        created_at=now,
        updated_at=now,
    )
    db.session.add(member)
    db.session.flush()
    return member


def _issue_link(member: Member) -> str:
    now = utcnow()
    revoke_unused(member.id, PURPOSE, now)
    nonce = secrets.token_urlsafe(24)
    db.session.add(
        ActionToken(
            purpose=PURPOSE,
            member_id=member.id,
            nonce_hash=secret_digest(nonce),
            target=member.email,
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    return f"{settings().server.issuer}/employer/invitation/{_serializer().dumps(nonce)}"


def invite_admin(
    employer: Employer, email: str, name: str = "", *, invited_by: Member | None = None
) -> tuple[Member, str | None]:
    """Make `email` an administrator of `employer`; the caller commits, then `send_invitation`.

    Returns the identity and the link to choose a password, or None when the identity can
    already sign in (it is told by mail instead).
    """
    email = normalize_email(email)
    if len(email) > 320 or not EMAIL_PATTERN.match(email):
        raise EmployerError("email", str(_l("Enter a valid email address.")))
    name = " ".join(name.split()) or email
    if len(name) > 200:
        raise EmployerError("name", str(_l("The name is too long (at most 200 characters).")))
    member = _identity_for(email, name)
    already = db.session.scalar(
        select(EmployerAdmin.id).where(
            EmployerAdmin.employer_id == employer.id, EmployerAdmin.member_id == member.id
        )
    )
    if already is not None and member.password_hash is not None:
        raise EmployerError("email", str(_l("This person already administers this employer.")))
    if already is None:
        db.session.add(
            EmployerAdmin(
                employer_id=employer.id,
                member_id=member.id,
                invited_by=invited_by.id if invited_by else None,
                created_at=utcnow(),
            )
        )
    # Inviting again someone who has not accepted yet sends a new link (the old one dies).
    link = None if member.password_hash else _issue_link(member)
    audit.record(
        "employer_admin_invited",
        member_id=invited_by.id if invited_by else None,
        detail={
            "employer_id": employer.id,
            "admin_member_id": member.id,
            "by": f"admin:{invited_by.id}" if invited_by else "operator",
        },
    )
    return member, link


def send_invitation(employer: Employer, member: Member, link: str | None) -> bool:
    """Mail the invitation (or, for an existing account, the news); False if it failed."""
    template = "employer_invite" if link else "employer_admin_added"
    portal = f"{settings().server.issuer}/employer"
    try:
        send_template(
            member.email, template, member.locale, name=member.name, employer=employer.name,
            link=link, portal=portal,
        )  # fmt: skip
    except DeliveryError:
        audit.record("mail_failed", detail={"template": template})
        db.session.commit()
        return False
    return True


def _find(token: str) -> ActionToken | None:
    try:
        nonce = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(nonce, str):
        return None
    row = db.session.scalar(
        select(ActionToken).where(
            ActionToken.nonce_hash == secret_digest(nonce), ActionToken.purpose == PURPOSE
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    if row.target != row.member.email or row.member.password_hash is not None:
        return None
    return row


def pending_invitation(token: str) -> Member | None:
    """The invited identity behind a live link, without using it."""
    row = _find(token)
    return row.member if row else None


def accept_invitation(token: str, password: str) -> Member | dict[str, str]:
    """Set the password and confirm the email; field errors if the password is refused.

    The caller commits. An unusable link answers {"form": ...}.
    """
    row = _find(token)
    if row is None:
        return {"form": str(_l("This invitation link has expired or was already used."))}
    member = row.member
    problem = password_problem(password, name=member.name, email=member.email or "")
    if problem:
        return {"password": problem}
    if not use_once(row, utcnow()):  # lost a race with another use of the link
        return {"form": str(_l("This invitation link has expired or was already used."))}
    member.password_hash = hash_password(password)
    member.email_verified = True  # the link reached this address
    member.updated_at = utcnow()
    audit.record("employer_invitation_accepted", member_id=member.id)
    audit.record("email_verified", member_id=member.id)
    return member
