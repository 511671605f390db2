"""Back-channel logout deliveries: one row per (ended session, client) until delivered.

OIDC Back-Channel Logout 1.0 §2.7; rows make retries survive a restart and any node can send.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, db


class LogoutDelivery(db.Model):
    __tablename__ = "logout_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("clients.client_id", ondelete="CASCADE"), index=True
    )
    uri: Mapped[str] = mapped_column(Text)
    sid: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
