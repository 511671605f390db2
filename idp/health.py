"""Liveness and readiness for load balancers and orchestrators.

`/healthz`: the process answers. `/readyz`: this node can serve sign-ins: the database
answers, an RS256 signing key is active (OIDC Core §15.1), and no delivery queue is stuck
(a due message waiting past `[health] queue_stuck_seconds` means no sender is running).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, Flask, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .db import db
from .extensions import keystore, settings
from .keys import KeyStoreError

bp = Blueprint("health", __name__)
log = logging.getLogger("idp.health")


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


def _database() -> str | None:
    db.session.execute(text("SELECT 1"))
    return None


def _signing_key() -> str | None:
    return None if "RS256" in keystore().algorithms else "no active RS256 signing key"


def _delivery_queue() -> str | None:
    from .queues import stuck

    late = stuck(timedelta(seconds=settings().health.queue_stuck_seconds))
    return f"stuck: {', '.join(late)}" if late else None


# Registry: readiness check name -> function returning None (ok) or a short problem.
CHECKS = {"database": _database, "signing_key": _signing_key, "delivery_queue": _delivery_queue}


@bp.get("/readyz")
def readyz():
    results = {}
    for name, check in CHECKS.items():
        try:
            problem = check()
        except (SQLAlchemyError, KeyStoreError) as error:
            db.session.rollback()
            log.warning("readiness check %s failed: %s", name, type(error).__name__)
            problem = "unavailable"
        results[name] = problem or "ok"
    ready = all(result == "ok" for result in results.values())
    response = jsonify(status="ready" if ready else "not ready", checks=results)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
