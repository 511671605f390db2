"""The member's security log: their own account events, in plain language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth.devices import browser_name
from ..db import db
from ..models import AuditEvent

# Audit events a member sees, with how the log names them; everything else stays internal.
MEMBER_EVENTS = {
    "signin": _l("Signed in"),
    "signin_failed": _l("Failed sign-in attempt"),
    "account_locked": _l("Account temporarily locked"),
    "signin_refused_locked": _l("Sign-in refused while locked"),
    "account_unlocked": _l("Account unlocked"),
    "activated": _l("Online access opened"),
    "email_verified": _l("Email address confirmed"),
    "email_change_requested": _l("Email change requested"),
    "email_changed": _l("Email address changed"),
    "phone_changed": _l("Phone number changed"),
    "address_changed": _l("Address changed"),
    "reset_requested": _l("Password reset requested"),
    "password_changed": _l("Password changed"),
    "second_factor_changed": _l("Two-factor sign-in changed"),
    "session_ended": _l("Signed out"),
}
PAGE_SIZE = 50


def member_events(member_id: int) -> list[dict]:
    """The newest events of this member only (security invariant: never anyone else's)."""
    rows = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.member_id == member_id, AuditEvent.event.in_(MEMBER_EVENTS))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(PAGE_SIZE)
    )
    return [
        {
            "at": row.created_at,
            "what": str(MEMBER_EVENTS[row.event]),
            "ip": row.ip or "—",
            "browser": browser_name(row.user_agent or ""),
            "warning": row.event in ("signin_failed", "account_locked"),
        }
        for row in rows
    ]
