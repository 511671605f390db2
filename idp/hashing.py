"""Hashes for random secrets (client secrets, codes, session tokens) and keyed NIK matching."""

from __future__ import annotations

import hashlib
import hmac


def secret_digest(value: str) -> str:
    """SHA-256 of a random secret: enough for high-entropy values, cheap on hot paths."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def secret_matches(value: str, digest: str | None) -> bool:
    """Compare a presented secret with a stored digest in constant time."""
    if not digest:
        return False
    return hmac.compare_digest(secret_digest(value), digest)


def keyed_digest(key: str, value: str) -> str:
    """HMAC-SHA-256 of a low-entropy identifier (NIK) so a stolen table can't be brute-forced."""
    return hmac.new(key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()
