"""One background sender per process for a queue kept in the database.

The queue's rows are the truth (any node may send them); the thread only wakes when told
(after a commit that queued work) or when the next retry is due, and outlives database
hiccups. Used by the mail/SMS outbox and by back-channel logout.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from flask import Flask

from .clock import utcnow
from .db import db

IDLE_POLL_SECONDS = 30.0


def seconds_until(upcoming: datetime | None) -> float:
    """How long the sender may sleep before the earliest queued attempt (at most the poll)."""
    if upcoming is None:
        return IDLE_POLL_SECONDS
    return min(IDLE_POLL_SECONDS, max(0.0, (upcoming - utcnow()).total_seconds()))


class BackgroundSender:
    """Runs `send_due` in a daemon thread; `seconds_until_next` says when to look again."""

    def __init__(
        self,
        app: Flask,
        name: str,
        send_due: Callable[[], object],
        seconds_until_next: Callable[[], float],
    ) -> None:
        self.app = app
        self.name = name
        self._send_due = send_due
        self._seconds_until_next = seconds_until_next
        self._log = logging.getLogger(f"idp.{name}")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ensure_started(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def notify(self) -> None:
        self.ensure_started()
        with self._lock:
            self._idle.clear()
            self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            with self.app.app_context():
                try:
                    self._send_due()
                    wait = self._seconds_until_next()
                except Exception:  # the sender must outlive a database hiccup
                    self._log.exception("%s sender failed; retrying later", self.name)
                    wait = IDLE_POLL_SECONDS
                finally:
                    db.session.remove()
            with self._lock:
                if not self._wake.is_set():
                    self._idle.set()
            self._wake.wait(timeout=wait)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is due right now (for tests and shutdown)."""
        return self._idle.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
