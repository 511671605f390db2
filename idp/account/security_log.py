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
    "passkey_counter_regressed": _l("Passkey refused: its counter went backwards"),
    "session_ended": _l("Signed out"),
}
WARNINGS = ("signin_failed", "account_locked", "passkey_counter_regressed")
PAGE_SIZE = 50


def _what(row: AuditEvent) -> str:
    """The event in plain words; a passkey's change under the name the member gave it."""
    name = (row.detail or {}).get("name")
    label = str(MEMBER_EVENTS[row.event])
    return f"{label}: {name}" if isinstance(name, str) and name else label


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
            "what": _what(row),
            "ip": row.ip or "—",
            "browser": browser_name(row.user_agent or ""),
            "warning": row.event in WARNINGS,
        }
        for row in rows
    ]
