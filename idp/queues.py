"""State of the delivery queues (back-channel logout, and the mail/SMS outbox), for
`/readyz`, `/metrics` and `idp deliveries list`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from .clock import utcnow
from .db import db
from .models import LogoutDelivery, OutboxMessage


@dataclass(frozen=True)
class QueueState:
    pending: int  # still to be tried
    failed: int  # gave up after every retry
    oldest_seconds: float  # age of the oldest pending item; 0 when none
    overdue_seconds: float  # how long the most overdue pending item has waited past its time


def _state(model, channel_filter, now: datetime) -> QueueState:
    pending = [model.delivered_at.is_(None), model.next_attempt_at.is_not(None), *channel_filter]
    count, oldest, due = db.session.execute(
        select(func.count(), func.min(model.created_at), func.min(model.next_attempt_at)).where(
            *pending
        )
    ).one()
    failed = db.session.scalar(
        select(func.count()).where(
            model.delivered_at.is_(None), model.next_attempt_at.is_(None), *channel_filter
        )
    )
    return QueueState(
        pending=count,
        failed=failed,
        oldest_seconds=(now - oldest).total_seconds() if oldest else 0.0,
        overdue_seconds=max(0.0, (now - due).total_seconds()) if due else 0.0,
    )


def queue_state() -> dict[str, QueueState]:
    """Each channel's queue, read from the shared database."""
    now = utcnow()
    states = {"backchannel": _state(LogoutDelivery, [], now)}
    for channel in ("mail", "sms"):
        states[channel] = _state(OutboxMessage, [OutboxMessage.channel == channel], now)
    return states


def stuck(threshold: timedelta) -> list[str]:
    """Channels whose due items have waited longer than the threshold: no sender is running."""
    return [
        channel
        for channel, state in queue_state().items()
        if state.overdue_seconds > threshold.total_seconds()
    ]


def _delivery_state(delivered_at, next_attempt_at) -> str:
    if delivered_at is not None:
        return "delivered"
    return "pending" if next_attempt_at is not None else "failed"


def list_deliveries(state: str | None = None, limit: int = 50) -> list[dict]:
    """Recent deliveries of every channel, newest first; addresses and contents left out."""
    rows = []
    for model, channel in ((OutboxMessage, OutboxMessage.channel), (LogoutDelivery, None)):
        query = select(model).order_by(model.created_at.desc()).limit(limit)
        if state == "pending":
            query = query.where(model.delivered_at.is_(None), model.next_attempt_at.is_not(None))
        elif state == "failed":
            query = query.where(model.delivered_at.is_(None), model.next_attempt_at.is_(None))
        for row in db.session.scalars(query):
            rows.append(
                {
                    "channel": row.channel if channel is not None else "backchannel",
                    "id": row.id,
                    "client_id": getattr(row, "client_id", None),
                    "state": _delivery_state(row.delivered_at, row.next_attempt_at),
                    "attempts": row.attempts,
                    "created": row.created_at.isoformat(),
                    "next_attempt": row.next_attempt_at.isoformat()
                    if row.next_attempt_at
                    else None,
                    "delivered": row.delivered_at.isoformat() if row.delivered_at else None,
                    "last_error": row.last_error,
                }
            )
    rows.sort(key=lambda r: r["created"], reverse=True)
    return rows[:limit]
