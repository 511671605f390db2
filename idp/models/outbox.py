"""Outgoing mail and SMS: one row per message until it is delivered or given up.

Rows make retries survive a restart and let any node (or `idp worker`) send them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, db


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), index=True)  # "mail" or "sms"
    # The message as the backend takes it: RFC 5322 bytes for mail, {"to", "body"} JSON for SMS.
    # Emptied once delivered or given up: messages carry one-time codes and links.
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
