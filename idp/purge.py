"""`idp purge`: delete rows that no longer serve any purpose, so storage stays bounded.

Each rule is one DELETE, named by what it removes; `[retention]` sets how long history is kept.
Run by `idp worker` every `[retention] purge_interval` seconds, or from cron.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Delete, delete, or_

from .clock import utcnow
from .config import Settings
from .db import db
from .extensions import settings
from .models import (
    ActionToken,
    AuditEvent,
    AuthorizationCode,
    InitialAccessToken,
    LoginThrottle,
    LogoutDelivery,
    OutboxMessage,
    RateBucket,
    RefreshToken,
    SpentAssertion,
    SpentChallenge,
    SsoSession,
    Token,
)

# An expired code is kept a day, so a late replay is still recognised (RFC 6749 §4.1.2).
CODE_GRACE = timedelta(days=1)


def _days(value: int) -> timedelta:
    return timedelta(days=value)


def _finished(model, before: datetime):
    """Delivered or given up, and older than `before`."""
    return delete(model).where(
        or_(model.delivered_at.is_not(None), model.next_attempt_at.is_(None)),
        model.created_at < before,
    )


def _rate_buckets(conf: Settings, now: datetime) -> Delete:
    window = conf.lockout.ip_window
    # A bucket is epoch seconds // window; the sliding window reads the current and last one.
    return delete(RateBucket).where(RateBucket.bucket < int(now.timestamp()) // window - 1)


# Registry: what is purged -> the DELETE for it.
RULES: dict[str, Callable[[Settings, datetime], Delete]] = {
    "authorization_codes": lambda c, now: delete(AuthorizationCode).where(
        AuthorizationCode.expires_at < now - CODE_GRACE
    ),
    "access_tokens": lambda c, now: delete(Token).where(Token.expires_at < now),
    # Rotated links stay until the family ends: a replayed one must still revoke the family.
    "refresh_tokens": lambda c, now: delete(RefreshToken).where(
        RefreshToken.family_expires_at < now
    ),
    "sso_sessions": lambda c, now: delete(SsoSession).where(
        or_(
            SsoSession.ended_at < now - _days(c.retention.session_days),
            SsoSession.expires_at < now - _days(c.retention.session_days),
        )
    ),  # fmt: skip
    "action_tokens": lambda c, now: delete(ActionToken).where(
        or_(ActionToken.used_at.is_not(None), ActionToken.expires_at < now)
    ),
    "outbox_messages": lambda c, now: _finished(
        OutboxMessage, now - _days(c.retention.delivered_days)
    ),
    "logout_deliveries": lambda c, now: _finished(
        LogoutDelivery, now - _days(c.retention.delivered_days)
    ),
    "login_throttles": lambda c, now: delete(LoginThrottle).where(
        LoginThrottle.updated_at < now - _days(c.retention.throttle_days),
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
    ),
    "rate_buckets": _rate_buckets,
    "initial_access_tokens": lambda c, now: delete(InitialAccessToken).where(
        or_(InitialAccessToken.expires_at < now, InitialAccessToken.uses_left <= 0)
    ),
    "spent_assertions": lambda c, now: delete(SpentAssertion).where(
        SpentAssertion.expires_at < now
    ),
    "spent_webauthn_challenges": lambda c, now: delete(SpentChallenge).where(
        SpentChallenge.expires_at < now
    ),
    "audit_events": lambda c, now: delete(AuditEvent).where(
        AuditEvent.created_at < now - _days(c.retention.audit_days)
    ),
}


def purge() -> dict[str, int]:
    """Apply every rule in one transaction; return how many rows each removed."""
    conf, now = settings(), utcnow()
    counts = {
        name: db.session.execute(
            rule(conf, now), execution_options={"synchronize_session": False}
        ).rowcount
        for name, rule in RULES.items()
    }
    db.session.commit()
    return counts
