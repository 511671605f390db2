"""Signed one-time links: itsdangerous signature (one salt per purpose) + a single-use row."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from ..clock import utcnow
from ..db import db
from ..extensions import settings
from ..hashing import secret_digest
from ..models import ActionToken, Member
from ..models.account import revoke_unused, use_once

LIFETIMES = {
    "verify_email": timedelta(hours=24),
    "reset_password": timedelta(minutes=30),
    "change_email": timedelta(hours=24),
}


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(settings().server.secret_key, salt=f"idp-{purpose}")


def issue_link(member: Member, purpose: str, endpoint: str, *, target: str | None = None) -> str:
    """Create a link for `purpose` (killing older unused ones); the caller commits."""
    now = utcnow()
    revoke_unused(member.id, purpose, now)
    nonce = secrets.token_urlsafe(24)
    db.session.add(
        ActionToken(
            purpose=purpose,
            member_id=member.id,
            nonce_hash=secret_digest(nonce),
            target=target,
            created_at=now,
            expires_at=now + LIFETIMES[purpose],
        )
    )
    token = _serializer(purpose).dumps(nonce)
    return settings().server.issuer + url_for(endpoint, token=token)


MESSAGES_PER_HOUR = 5  # links of one kind mailed to one account


def over_hourly_limit(member_id: int, purpose: str) -> bool:
    """Whether this account was already sent the hour's share of links of this kind."""
    sent = db.session.scalar(
        select(func.count()).where(
            ActionToken.member_id == member_id,
            ActionToken.purpose == purpose,
            ActionToken.created_at > utcnow() - timedelta(hours=1),
        )
    )
    return sent >= MESSAGES_PER_HOUR


def last_issued(member_id: int, purpose: str) -> ActionToken | None:
    return db.session.scalar(
        select(ActionToken)
        .where(ActionToken.member_id == member_id, ActionToken.purpose == purpose)
        .order_by(ActionToken.created_at.desc(), ActionToken.id.desc())
        .limit(1)
    )


def _find(token: str, purpose: str) -> ActionToken | None:
    try:
        nonce = _serializer(purpose).loads(token)
    except BadSignature:
        return None
    if not isinstance(nonce, str):
        return None
    return db.session.scalar(
        select(ActionToken).where(
            ActionToken.nonce_hash == secret_digest(nonce), ActionToken.purpose == purpose
        )
    )


def peek_link(token: str, purpose: str) -> ActionToken | None:
    """The live token behind a link, without using it (to show the form it leads to)."""
    row = _find(token, purpose)
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def redeem_link(token: str, purpose: str) -> ActionToken | None:
    """The live token behind a link, now marked used; None if forged, used or expired."""
    row = _find(token, purpose)
    if row is None or not use_once(row, utcnow()):
        return None
    return row
