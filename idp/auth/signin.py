"""Password sign-in: one answer for a wrong password and an unknown identifier."""

from __future__ import annotations

import unicodedata

from ..audit import record
from ..db import db
from ..hashing import secret_digest
from ..models import Member
from ..models.identity import find_by_identifier
from .passwords import hash_password, needs_rehash, verify_password

MAX_IDENTIFIER_LENGTH = 320
MAX_PASSWORD_LENGTH = 1024  # far above the policy maximum; caps argon2 input size


def normalize_identifier(identifier: str) -> str:
    """Emails compare case-insensitively; membership numbers ignore spaces."""
    value = unicodedata.normalize("NFKC", identifier).strip()
    if "@" in value:
        return value.lower()
    return "".join(value.split())


def authenticate(identifier: str, password: str) -> Member | None:
    """Return the member whose credentials these are, or None; record the attempt."""
    normalized = normalize_identifier(identifier)
    member = find_by_identifier(normalized) if normalized else None
    usable = member is not None and member.has_online_access
    ok = verify_password(member.password_hash if usable else None, password)
    if not ok:
        record(
            "signin_failed",
            member_id=member.id if member else None,
            # Security invariant 9: an unknown identifier is logged only as a hash.
            detail=None if member else {"identifier_hash": secret_digest(normalized)[:16]},
        )
        db.session.commit()
        return None
    if needs_rehash(member.password_hash):
        member.password_hash = hash_password(password)
    record("signin", member_id=member.id)
    return member
