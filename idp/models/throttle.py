"""Brute-force counters: per-identifier lock state and per-IP sliding-window buckets.

Both are changed only by single atomic statements (upserts and conditional updates), so
parallel requests on any number of nodes never lose a count.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, db


class LoginThrottle(db.Model):
    __tablename__ = "login_throttles"

    # Keyed digest of the normalised identifier, whether or not an account has it.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in the current window
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    total_failures: Mapped[int] = mapped_column(Integer, default=0)  # every refused attempt
    lock_count: Mapped[int] = mapped_column(Integer, default=0)  # locks since the last success
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RateBucket(db.Model):
    """Failures from one source in one fixed time bucket; two buckets make a sliding window."""

    __tablename__ = "rate_buckets"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. a client IP
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)  # epoch seconds // window
    count: Mapped[int] = mapped_column(Integer, default=0)
