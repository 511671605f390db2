"""One injectable source of time: every stored time is UTC (security invariant 10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app


class Clock:
    """Wall clock in UTC; tests swap in a FrozenClock through the app factory."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def timestamp(self) -> int:
        return int(self.now().timestamp())


class FrozenClock(Clock):
    """Clock that moves only when told to, for deterministic expiry tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 15, 8, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


def clock() -> Clock:
    """Return the current app's clock."""
    return current_app.extensions["idp.clock"]


def utcnow() -> datetime:
    """Return the current app's time (aware, UTC)."""
    return clock().now()
