"""Structured audit events: stored for the member's security log and logged as JSON."""

from __future__ import annotations

import json
import logging

from flask import has_request_context, request

from . import metrics
from .clock import utcnow
from .db import db
from .models import AuditEvent

log = logging.getLogger("idp.audit")


def client_ip() -> str | None:
    """The caller's address; X-Forwarded-For is trusted only via ProxyFix when configured."""
    return request.remote_addr if has_request_context() else None


def record(
    event: str,
    *,
    member_id: int | None = None,
    client_id: str | None = None,
    detail: dict | None = None,
) -> None:
    """Add an audit event to the current transaction (the caller commits)."""
    user_agent = request.user_agent.string[:255] if has_request_context() else None
    entry = AuditEvent(
        created_at=utcnow(),
        event=event,
        member_id=member_id,
        client_id=client_id,
        ip=client_ip(),
        user_agent=user_agent,
        detail=detail,
    )
    db.session.add(entry)
    metrics.audit_event(event, detail)
    # One log line per event; with [log] format = "json" the fields are the line's own keys.
    fields = {"member_id": member_id, "client_id": client_id, "ip": entry.ip} | (detail or {})
    log.info("audit %s %s", event, json.dumps(fields), extra={"audit": {"event": event} | fields})
