"""Password hashing with argon2id (security invariant 3), parameters from config."""

from __future__ import annotations

import threading
import unicodedata

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app

from ..extensions import settings


def normalize_password(password: str) -> str:
    """NIST SP 800-63B §5.1.1.2: apply Unicode NFKC before hashing."""
    return unicodedata.normalize("NFKC", password)


_BUILDING = threading.Lock()


def _hasher() -> PasswordHasher:
    cached = current_app.extensions.get("idp.hasher")
    if cached is not None:
        return cached
    with _BUILDING:  # the first requests of a new worker arrive together
        if "idp.hasher" not in current_app.extensions:
            conf = settings().passwords
            hasher = PasswordHasher(
                time_cost=conf.argon2_time_cost,
                memory_cost=conf.argon2_memory_cost,
                parallelism=conf.argon2_parallelism,
                type=Type.ID,
            )
            # Verified when no account matches, so a miss costs as much as a wrong password;
            # published only together with the hasher, so no request sees one without the other.
            current_app.extensions["idp.dummy_hash"] = hasher.hash("dummy password for timing")
            current_app.extensions["idp.hasher"] = hasher
    return current_app.extensions["idp.hasher"]


def hash_password(password: str) -> str:
    return _hasher().hash(normalize_password(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, burn the same time on a dummy and fail."""
    hasher = _hasher()
    candidate = password_hash or current_app.extensions["idp.dummy_hash"]
    try:
        ok = hasher.verify(candidate, normalize_password(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)
