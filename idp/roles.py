"""Roles granted by operators (`idp users grant-role`), released by the `roles` scope."""

from __future__ import annotations

import re

from sqlalchemy import delete, select

from . import audit
from .auth.signin import normalize_identifier
from .clock import utcnow
from .db import db
from .models import Member, MemberRole
from .models.employer import EMPLOYER_ADMIN, member_roles
from .models.identity import find_by_identifier

ROLE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,47}$")


class RoleError(ValueError):
    """An unknown identifier or a role name that cannot be granted."""


def _identity(identifier: str) -> Member:
    normalized = normalize_identifier(identifier)
    member = find_by_identifier(normalized) if normalized else None
    if member is None:
        raise RoleError(f"no identity with email or membership number {identifier!r}")
    return member


def _check_role(role: str) -> None:
    if not ROLE_PATTERN.match(role):
        raise RoleError("a role is 2-48 lower-case letters, digits or _, starting with a letter")
    if role == EMPLOYER_ADMIN:
        raise RoleError(
            "employer_admin comes with administering an employer: use `idp employers create"
            " --admin-email` or an invitation from the employer portal"
        )


def grant_role(identifier: str, role: str) -> dict:
    """Grant a role (no change if already held); commits."""
    _check_role(role)
    member = _identity(identifier)
    held = db.session.scalar(
        select(MemberRole.id).where(MemberRole.member_id == member.id, MemberRole.role == role)
    )
    if held is None:
        db.session.add(MemberRole(member_id=member.id, role=role, created_at=utcnow()))
        audit.record("role_granted", member_id=member.id, detail={"role": role, "by": "operator"})
        db.session.commit()
    return {"sub": member.subject, "granted": held is None, "roles": member_roles(member.id)}


def revoke_role(identifier: str, role: str) -> dict:
    """Take a granted role away (no change if not held); commits."""
    _check_role(role)
    member = _identity(identifier)
    removed = db.session.execute(
        delete(MemberRole).where(MemberRole.member_id == member.id, MemberRole.role == role)
    ).rowcount
    if removed:
        audit.record("role_revoked", member_id=member.id, detail={"role": role, "by": "operator"})
    db.session.commit()
    return {"sub": member.subject, "revoked": bool(removed), "roles": member_roles(member.id)}
