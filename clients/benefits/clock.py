"""One injectable source of time; stored times are UTC, members' dates are Jakarta's (WIB)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

MEMBER_TIMEZONE = ZoneInfo("Asia/Jakarta")


class Clock:
    """Wall clock in UTC; tests pass a FrozenClock to the app factory."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    """Clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


def utcnow() -> datetime:
    """The current app's time (aware, UTC)."""
    return current_app.extensions["benefits.clock"].now()


def today() -> date:
    """The member's calendar date: claims and statements speak Jakarta time."""
    return utcnow().astimezone(MEMBER_TIMEZONE).date()
