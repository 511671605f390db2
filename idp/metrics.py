"""Prometheus metrics: thin hooks that count, and `/metrics` for operators only.

Counters are fed from three places without touching the flows themselves: audit events
(sign-ins, lockouts), Authlib's `client_authenticated` signal plus the token response (tokens
by grant and client), and one request hook (latency by endpoint, throttled answers). Queue
ages are read from the database at scrape time. Under gunicorn, `idp serve` sets
PROMETHEUS_MULTIPROC_DIR before this module is imported, so every worker's counts add up
(prometheus-client multiprocess mode).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

bp = Blueprint("metrics", __name__)
# prometheus-client chose its value store on import from the same variable (gunicorn workers).
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

SIGNINS = Counter("idp_signins", "Sign-in attempts by result and factor", ["result", "factor"])
LOCKOUTS = Counter("idp_lockouts", "Identifiers locked after repeated failures")
THROTTLED = Counter("idp_throttled_requests", "Requests refused with 429", ["endpoint"])
TOKENS = Counter("idp_tokens_issued", "Token responses by grant and client", ["grant", "client"])
REQUESTS = Counter(
    "idp_http_requests", "HTTP requests by endpoint and status", ["endpoint", "status"]
)
LATENCY = Histogram(
    "idp_request_duration_seconds",
    "Request latency by endpoint",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DELIVERIES = Counter(
    "idp_deliveries", "Mail, SMS and back-channel logout attempts by result", ["channel", "result"]
)

# Audit event -> (result, factor) of a sign-in attempt.
SIGNIN_EVENTS = {
    "signin_failed": ("failure", "password"),
    "mfa_failed": ("failure", "second_factor"),
    "signin_refused_locked": ("locked", "password"),
}


def audit_event(event: str, detail: dict | None) -> None:
    """Count what an audit event says about sign-ins and lockouts."""
    if event == "signin":
        acr = (detail or {}).get("acr")
        SIGNINS.labels("success", "second_factor" if acr == "mfa" else "password").inc()
    elif event in SIGNIN_EVENTS:
        SIGNINS.labels(*SIGNIN_EVENTS[event]).inc()
    elif event == "account_locked":
        LOCKOUTS.inc()


def delivery(channel: str, result: str) -> None:
    """Count one delivery attempt: channel mail, sms or backchannel; result sent, retry, failed."""
    DELIVERIES.labels(channel, result).inc()


def _client_authenticated(sender, client=None, grant=None, **_) -> None:
    g.metrics_grant = (getattr(grant, "GRANT_TYPE", "unknown"), client.get_client_id())


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
    started = g.pop("metrics_started", None)
    if started is not None:
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    REQUESTS.labels(endpoint, str(response.status_code)).inc()
    if response.status_code == 429:
        THROTTLED.labels(endpoint).inc()
    grant = g.pop("metrics_grant", None)
    if grant and response.status_code == 200 and endpoint.endswith(".token"):
        TOKENS.labels(*grant).inc()
    return response


class QueueCollector:
    """Scrape-time gauges: age of the oldest undelivered item per queue, and how many wait."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self):
        from .queues import queue_state

        age = GaugeMetricFamily(
            "idp_delivery_queue_oldest_seconds",
            "Age of the oldest undelivered item",
            labels=["channel"],
        )
        depth = GaugeMetricFamily(
            "idp_delivery_queue_pending", "Undelivered items still to try", labels=["channel"]
        )
        failed = GaugeMetricFamily(
            "idp_delivery_queue_failed", "Items that gave up after every retry", labels=["channel"]
        )
        with self.app.app_context():
            for channel, state in queue_state().items():
                age.add_metric([channel], state.oldest_seconds)
                depth.add_metric([channel], state.pending)
                failed.add_metric([channel], state.failed)
        yield from (age, depth, failed)


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (SIGNINS, LOCKOUTS, THROTTLED, TOKENS, REQUESTS, LATENCY, DELIVERIES):
            registry.register(collector)
    registry.register(QueueCollector(current_app._get_current_object()))
    return registry


def _allowed() -> bool:
    """Only `[metrics] allow_from` networks, or a caller with `[metrics] bearer_token`."""
    conf = current_app.extensions["idp.settings"].metrics
    header = request.headers.get("Authorization", "")
    if conf.bearer_token and header.startswith("Bearer "):
        # constant time: the token is a secret
        return hmac.compare_digest(header[7:].encode(), conf.bearer_token.encode())
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network) for network in conf.allow_from)


@bp.get("/metrics")
def metrics() -> Response:
    if not _allowed():
        abort(404)  # not there for anyone else
    return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    from authlib.integrations.flask_oauth2 import client_authenticated

    client_authenticated.connect(_client_authenticated, weak=False)
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_observe)
    app.register_blueprint(bp)
