"""Forgot password and change password: one way to set a new password, with its effects.

A new password ends every SSO session (but the one in use when the member changed it
themselves) with back-channel logout to their clients, revokes every token of the member,
offline grants too, kills outstanding reset links, and tells the member by email.
"""

from __future__ import annotations

from .. import audit
from ..auth import lockout
from ..auth.passwords import hash_password
from ..auth.policy import password_problem
from ..auth.signin import normalize_identifier
from ..clock import utcnow
from ..db import db
from ..extensions import settings
from ..models import Member, SsoSession
from ..models.account import revoke_unused
from ..models.identity import find_by_identifier
from ..notifications import send_mail_quietly as send_quietly
from ..ratelimits import ip_allows_message
from ..sso import end_member_sessions
from .links import issue_link, over_hourly_limit


def request_reset(identifier: str) -> None:
    """Email a reset link if the identifier names an account; say nothing either way.

    Both paths do the same work in the request (a lookup, an audit row, a commit; the mail
    itself leaves through the outbox), so the answer's timing tells no account apart either
    (security invariant 4). Limited per client IP and to 5 links an hour per account, with
    the same answer when limited.
    """
    normalized = normalize_identifier(identifier)
    member = find_by_identifier(normalized) if identifier.strip() else None
    usable = member is not None and member.has_online_access and bool(member.email)
    allowed = ip_allows_message("reset")
    if not (usable and allowed) or over_hourly_limit(member.id, "reset_password"):
        audit.record(
            "reset_not_sent", detail={"identifier_hash": lockout.throttle_key(normalized)[:16]}
        )
        db.session.commit()
        return
    link = issue_link(member, "reset_password", "account.reset_password")
    audit.record("reset_requested", member_id=member.id)
    db.session.commit()
    send_quietly(member.email, "reset_password", member.locale, name=member.name, link=link)


def new_password_problem(member: Member, password: str) -> str | None:
    """The policy's objection to this member's new password, if any."""
    return password_problem(
        password,
        name=member.name,
        email=member.email or "",
        membership_number=member.membership_number,
        birthdate=member.birthdate,
    )


def set_password(member: Member, password: str, *, keep_session: SsoSession | None = None) -> None:
    """Store a new password and apply its effects; the caller commits."""
    now = utcnow()
    member.password_hash = hash_password(password)
    member.updated_at = now
    revoke_unused(member.id, "reset_password", now)
    end_member_sessions(member.id, "password_changed", keep=keep_session, all_grants=True)
    audit.record("password_changed", member_id=member.id)
    # Lockout must not become a denial of service: a member who proves control of the
    # account by setting a new password is unlocked (issue 6).
    lockout.unlock_member(member, reason="password_set")


def notify_password_changed(member: Member) -> None:
    send_quietly(
        member.email,
        "password_changed",
        member.locale,
        name=member.name,
        reset_url=f"{settings().server.issuer}/account/reset",
    )
