"""Six-digit one-time codes sent by SMS or email: 5 minutes, 5 tries, stored keyed and salted.

Used to confirm a new phone number and as the email and SMS second factors. A code is an
ActionToken row whose `nonce_hash` is "<salt>$<HMAC of salt and code>", so a database leak
does not let anyone try the million possible codes offline.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from .clock import utcnow
from .db import db
from .extensions import settings
from .hashing import keyed_digest
from .models import ActionToken, Member
from .models.account import revoke_unused
from .ratelimits import ip_allows_message

CODE_LIFETIME = timedelta(minutes=5)
CODE_TRIES = 5
RESEND_INTERVAL = timedelta(seconds=60)
HOURLY_LIMIT = 5


class CodeError(ValueError):
    """Why a code cannot be sent or accepted: 'wait', 'hourly', 'expired' or 'wrong'."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _digest(salt: str, code: str) -> str:
    return keyed_digest(settings().server.secret_key, f"one-time-code:{salt}:{code}")


def issue_code(member: Member, purpose: str, target: str) -> str:
    """Create a code for `purpose` sent to `target`, killing older ones; the caller sends it
    and commits. At most one a minute per purpose, and five an hour per member whatever the
    purpose or channel (sign-in, step-up, factor changes, phone confirmation share them)."""
    now = utcnow()
    recent = db.session.execute(
        select(ActionToken.purpose, ActionToken.created_at).where(
            ActionToken.member_id == member.id,
            # Codes, not links: only a code's stored hash is "<salt>$<HMAC>" (see above).
            ActionToken.nonce_hash.contains("$"),
            ActionToken.created_at > now - timedelta(hours=1),
        )
    ).all()
    if any(p == purpose and now - t < RESEND_INTERVAL for p, t in recent):
        raise CodeError("wait")
    if len(recent) >= HOURLY_LIMIT or not ip_allows_message("code"):
        raise CodeError("hourly")
    code = f"{secrets.randbelow(1_000_000):06d}"
    salt = secrets.token_hex(8)
    revoke_unused(member.id, purpose, now)
    db.session.add(
        ActionToken(
            purpose=purpose,
            member_id=member.id,
            nonce_hash=f"{salt}${_digest(salt, code)}",
            target=target,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
            attempts=0,
        )
    )
    return code


def live_code(member: Member, purpose: str, *, lock: bool = False) -> ActionToken | None:
    """The member's unused, unexpired code for `purpose` with tries left."""
    query = select(ActionToken).where(
        ActionToken.member_id == member.id,
        ActionToken.purpose == purpose,
        ActionToken.used_at.is_(None),
        ActionToken.expires_at > utcnow(),
        ActionToken.attempts < CODE_TRIES,
    )
    # Lock only the token row: PostgreSQL refuses FOR UPDATE on the joined member.
    return db.session.scalar(query.with_for_update(of=ActionToken) if lock else query)


def check_code(member: Member, purpose: str, code: str) -> ActionToken:
    """Use the live code if `code` matches it; raise CodeError otherwise.

    A wrong try is committed at once (it must count even if the request fails later); on
    success the token is marked used and the caller commits.
    """
    pending = live_code(member, purpose, lock=True)
    if pending is None:
        raise CodeError("expired")
    pending.attempts += 1
    salt, _sep, digest = pending.nonce_hash.partition("$")
    candidate = "".join(code.split())
    if not (candidate.isascii() and candidate.isdigit() and len(candidate) == 6) or not (
        hmac.compare_digest(_digest(salt, candidate), digest)
    ):
        db.session.commit()
        raise CodeError("wrong")
    pending.used_at = utcnow()
    return pending


def code_problem(error: CodeError) -> str:
    """The member-facing message for a CodeError."""
    messages = {
        "wait": _("A code was sent less than a minute ago. Please wait."),
        "hourly": _("Too many codes were sent in the last hour. Please try again later."),
        "expired": _("The code has expired. Ask for a new one."),
        "wrong": _("The code is not correct."),
    }
    return messages[error.reason]
