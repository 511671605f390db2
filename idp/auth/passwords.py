"""Password hashing with argon2id (security invariant 3), parameters from config."""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

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


class HashingBusy(Exception):
    """Every hashing slot stayed taken for `[passwords] hash_wait_seconds`: answer 503."""


_holding = threading.local()


def _slots() -> threading.BoundedSemaphore:
    slots = current_app.extensions.get("idp.hash_slots")
    if slots is None:
        with _BUILDING:
            slots = current_app.extensions.setdefault(
                "idp.hash_slots",
                threading.BoundedSemaphore(settings().passwords.max_concurrent_hashes),
            )
    return slots


@contextmanager
def hashing_slot() -> Iterator[None]:
    """Hold one of the process's argon2 slots (re-entrant in a thread), or raise HashingBusy.

    A caller that records something before hashing (a sign-in attempt) takes the slot first,
    so a refused request has changed nothing.
    """
    if getattr(_holding, "depth", 0):
        _holding.depth += 1
        try:
            yield
        finally:
            _holding.depth -= 1
        return
    slots = _slots()
    if not slots.acquire(timeout=settings().passwords.hash_wait_seconds):
        raise HashingBusy()
    _holding.depth = 1
    try:
        yield
    finally:
        _holding.depth = 0
        slots.release()


def hash_password(password: str) -> str:
    with hashing_slot():
        return _hasher().hash(normalize_password(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, burn the same time on a dummy and fail."""
    hasher = _hasher()
    candidate = password_hash or current_app.extensions["idp.dummy_hash"]
    try:
        with hashing_slot():
            ok = hasher.verify(candidate, normalize_password(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)
