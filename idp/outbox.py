"""Mail and SMS leave the request through a database outbox, delivered with retries.

A request only adds a row (`enqueue`); a sender hands it to the [mail]/[sms] backend later, so a
slow or failing gateway never slows a sign-in. Who sends is `[delivery] mode`: `serve` (a
background thread in every serving process), `worker` (only `idp worker`) or `inline` (within
the request, right after the row is committed: tests and debugging). Rows are claimed with a
lease, so several nodes and workers never send one message twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from email import message_from_bytes, policy

from flask import Flask, current_app
from sqlalchemy import func, select, update

from . import metrics
from .background import BackgroundSender, seconds_until
from .clock import utcnow
from .db import db
from .extensions import settings
from .models import OutboxMessage

log = logging.getLogger("idp.outbox")

LEASE_SECONDS = 120  # longer than any backend's timeout and retries


def _send_mail(payload: bytes) -> None:
    from .mail import BACKENDS

    conf = settings()
    BACKENDS[conf.mail.backend](conf, message_from_bytes(payload, policy=policy.default))


def _send_sms(payload: bytes) -> None:
    from .sms import BACKENDS

    conf = settings()
    document = json.loads(payload)
    BACKENDS[conf.sms.backend](conf, document["to"], document["body"])


# Registry: channel -> function that hands one payload to the configured backend.
CHANNELS: dict[str, Callable[[bytes], None]] = {"mail": _send_mail, "sms": _send_sms}


def enqueue(channel: str, payload: bytes) -> None:
    """Queue one message and commit (like the send it replaces); inline mode sends it now."""
    now = utcnow()
    db.session.add(OutboxMessage(channel=channel, payload=payload, attempts=0,
                                 created_at=now, next_attempt_at=now))  # fmt: skip
    db.session.commit()
    mode = settings().delivery.mode
    if mode == "inline":
        deliver_due()
    elif mode == "serve" and current_app.config.get("IDP_BACKGROUND_SENDER"):
        sender().notify()


def _claim_due(limit: int) -> list[OutboxMessage]:
    """Take due messages, moving their next attempt out so no other sender takes them too."""
    now = utcnow()
    due = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    ).all()
    lease = now + timedelta(seconds=LEASE_SECONDS)
    claimed = []
    for message in due:
        taken = db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message.id,
                OutboxMessage.next_attempt_at == message.next_attempt_at,
            )
            .values(next_attempt_at=lease)
        ).rowcount
        if taken:
            claimed.append(message)
    db.session.commit()
    return claimed


def _attempt(message: OutboxMessage) -> None:
    from .mail import DeliveryError

    now = utcnow()
    message.attempts += 1
    try:
        CHANNELS[message.channel](message.payload)
    except DeliveryError as error:
        delays = settings().delivery.retry_delays
        message.last_error = str(error)[:200]
        if message.attempts > len(delays):
            message.next_attempt_at, message.payload = None, b""
            metrics.delivery(message.channel, "failed")
            log.warning("%s %d gave up after %d attempts", message.channel, message.id,
                        message.attempts)  # fmt: skip
        else:
            message.next_attempt_at = now + timedelta(seconds=delays[message.attempts - 1])
            metrics.delivery(message.channel, "retry")
            log.info("%s %d failed; retry at %s", message.channel, message.id,
                     message.next_attempt_at.isoformat())  # fmt: skip
        return
    message.delivered_at, message.next_attempt_at, message.payload = now, None, b""
    message.last_error = None
    metrics.delivery(message.channel, "sent")


def deliver_due(limit: int = 50) -> int:
    """Try every due message once; return how many were attempted."""
    claimed = _claim_due(limit)
    for message in claimed:
        _attempt(message)
        db.session.commit()
    return len(claimed)


def flush() -> int:
    """Deliver until nothing is due (for CLI commands and tests)."""
    total = 0
    while attempted := deliver_due():
        total += attempted
    return total


def seconds_until_next() -> float:
    return seconds_until(
        db.session.scalar(
            select(func.min(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.delivered_at.is_(None)
            )
        )
    )


def sender() -> BackgroundSender:
    return current_app.extensions["idp.outbox"]


def init_app(app: Flask) -> None:
    app.extensions["idp.outbox"] = outbox_sender = BackgroundSender(
        app, "outbox", flush, seconds_until_next
    )

    @app.before_request
    def start_sender() -> None:
        # A serving process also sends what others queued (after a restart, or from the CLI).
        if app.config.get("IDP_BACKGROUND_SENDER") and settings().delivery.mode == "serve":
            outbox_sender.ensure_started()
