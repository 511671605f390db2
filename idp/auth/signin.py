"""Password sign-in: one answer for a wrong password and an unknown identifier."""

from __future__ import annotations

import unicodedata

from ..models import Member
from ..models.identity import find_by_identifier
from . import lockout
from .lockout import Lock
from .passwords import hash_password, hashing_slot, needs_rehash, verify_password

MAX_IDENTIFIER_LENGTH = 320
MAX_PASSWORD_LENGTH = 1024  # far above the policy maximum; caps argon2 input size


def normalize_identifier(identifier: str) -> str:
    """Emails compare case-insensitively; membership numbers ignore spaces."""
    value = unicodedata.normalize("NFKC", identifier).strip()
    if "@" in value:
        return value.lower()
    return "".join(value.split())


def account_key(member: Member) -> str:
    """The account's own counter (second-factor failures), whichever identifier was typed."""
    return normalize_identifier(member.sign_in_identifier)


def authenticate(identifier: str, password: str) -> Member | Lock | None:
    """The member whose password this is; else None, or the Lock that refuses the attempt.

    A locked identifier is refused before the password is even checked, for existing and
    unknown identifiers alike. The count is cleared only when the whole sign-in succeeds
    (`lockout.clear`), so a known password does not reset second-factor failures.
    """
    normalized = normalize_identifier(identifier)
    member = find_by_identifier(normalized) if normalized else None
    with hashing_slot():  # raises HashingBusy before the attempt is counted
        attempt = lockout.begin_attempt(normalized, member)
        if attempt.lock is not None:
            return attempt.lock
        usable = member is not None and member.has_online_access
        verified = verify_password(member.password_hash if usable else None, password)
    if not verified:
        return lockout.attempt_failed(attempt)
    lockout.attempt_succeeded(attempt)
    # Wrong second-factor codes lock the account itself; only the right password learns it.
    account_lock = lockout.current_lock(account_key(member))
    if account_lock is not None:
        return account_lock
    if needs_rehash(member.password_hash):
        member.password_hash = hash_password(password)
    return member
