"""Second factors: when to ask for one, and one lockout-counted check for every use.

The kinds themselves (passkeys, TOTP, email and SMS codes, recovery codes) are the registry in
`factors/`; this module is the policy around them.
"""

from __future__ import annotations

from datetime import timedelta

from flask import redirect, session, url_for

from ..clock import utcnow
from ..db import db
from ..extensions import settings
from ..models import Member
from . import lockout
from .factors import BY_KIND, Factor, enrolled, usable
from .factors.passkey import PASSWORDLESS, PasskeyError, authenticate
from .factors.recovery import new_recovery_codes, recovery_codes_left, recovery_used_notice
from .signin import account_key, normalize_identifier

__all__ = [
    "PASSWORDLESS_AMR", "SECOND_STEP_LIFETIME", "account_key", "amr_for", "begin_second_step",
    "check", "enabled", "enrolled", "forget_fallbacks", "method", "methods", "new_recovery_codes",
    "passwordless", "recovery_codes_left", "recovery_used_notice", "remove_factor", "verify",
]  # fmt: skip

SECOND_STEP_LIFETIME = timedelta(minutes=5)


def enabled() -> bool:
    return settings().mfa.policy != "off"


def methods(member: Member) -> list[str]:
    """The kinds the member can use at the second step, in display order."""
    return [factor.kind for factor in usable(member)]


def method(kind: str) -> Factor | None:
    return BY_KIND.get(kind)


# RFC 8176: a passkey with user verification alone; see docs/integration.md.
PASSWORDLESS_AMR = ["hwk", "user", "mfa"]


def amr_for(kind: str) -> list[str]:
    """RFC 8176 references for a password followed by this factor."""
    return ["pwd", BY_KIND[kind].amr, "mfa"]


def begin_second_step(member: Member, identifier: str, next_url: str, *, password: bool):
    """Bind the second step to this browser and this sign-in (or step-up); 5 minutes.

    `password` says whether a password was just entered: a step-up inside a session is a
    second factor alone, and the session's time of authentication must not move for it.
    """
    session["mfa"] = {
        "member": member.id,
        "identifier": normalize_identifier(identifier),
        "started": utcnow().timestamp(),
        "next": next_url,
        "password": password,
    }
    return redirect(url_for("auth.second_factor"))


def verify(member: Member, kind: str, code: str, *, purpose: str = "mfa_signin") -> bool:
    """Whether `code` proves `kind` for this member now (and uses it up); caller commits."""
    if kind not in methods(member):
        return False
    return BY_KIND[kind].verify(member, code, purpose)


def check(
    member: Member, kind: str, code: str, *, purpose: str = "mfa_signin"
) -> bool | lockout.Lock:
    """`verify`, counted toward the account's lockout: True, False, or the refusing Lock."""
    attempt = lockout.begin_attempt(account_key(member), member)
    if attempt.lock is not None:
        return attempt.lock
    if verify(member, kind, code, purpose=purpose):
        lockout.attempt_succeeded(attempt)
        return True
    db.session.rollback()
    return lockout.attempt_failed(attempt, event="mfa_failed") or False


def passwordless(response: str) -> Member | lockout.Lock | None:
    """The member whose passkey answered this browser's sign-in challenge, or the Lock that
    refuses them; None if the passkey was refused. The caller commits the passkey's counter.

    User verification is required, so the passkey is two factors on its own.
    """
    try:
        member = authenticate(PASSWORDLESS, response).member
    except PasskeyError:
        return None
    if not member.has_online_access:
        db.session.rollback()
        return None
    # Wrong codes lock the account itself; a passkey does not get round that lock.
    lock = lockout.current_lock(account_key(member))
    if lock is not None:
        db.session.rollback()
        return lock
    return member


def remove_factor(member: Member, kind: str) -> None:
    """Remove a factor; without any factor left, the fallbacks go too. Caller commits."""
    BY_KIND[kind].remove(member)
    forget_fallbacks(member)


def forget_fallbacks(member: Member) -> None:
    """Without any factor left, recovery codes go too (they work only beside one)."""
    if not enrolled(member):
        for fallback in (f for f in BY_KIND.values() if not f.enrol_template):
            fallback.remove(member)
