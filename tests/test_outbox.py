"""Mail and SMS out of the request path: a database outbox, retries with backoff, a worker."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from prometheus_client.parser import text_string_to_metric_families

from idp.db import db
from idp.models import OutboxMessage
from idp.outbox import flush

from .helpers import Actions, csrf_from, mails


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request_reset(client, identifier: str = "siti@example.id"):
    page = client.get("/account/reset")
    return client.post(
        "/account/reset", data={"identifier": identifier, "csrf_token": csrf_from(page.text)}
    )


def _rows(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


class _Gateway(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's hook name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    _Gateway.received = []
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms", _Gateway.received
    server.shutdown()
    server.server_close()


def test_worker_mode_queues_in_the_request_and_the_worker_sends(make_app, make_config, cli):
    app = make_app(delivery={"mode": "worker"})
    client = app.test_client()

    Actions(app, client).create_member()
    assert _request_reset(client).status_code == 200
    assert mails(app) == []  # nothing sent inside the request
    (queued,) = _rows(app)
    assert queued.channel == "mail" and queued.attempts == 0 and queued.delivered_at is None

    config = make_config(delivery={"mode": "worker"})
    listed = json.loads(cli("deliveries", "list", "--pending", "--json", config=config).output)
    assert [(r["channel"], r["state"]) for r in listed] == [("mail", "pending")]
    assert "siti@example.id" not in json.dumps(listed)  # no address, no content

    assert cli("worker", "--once", config=config).exit_code == 0
    (message,) = mails(app)
    assert (
        message["To"] == "siti@example.id"
        and "/account/reset/" in message.get_body(("plain",)).get_content()
    )
    (sent,) = _rows(app)
    assert sent.delivered_at is not None and sent.attempts == 1
    assert sent.payload == b""  # the reset link does not linger in the database
    assert cli("deliveries", "list", "--pending", "--json", config=config).output.strip() == "[]"


def test_sms_gateway_is_called_by_the_worker_not_the_request(make_app, make_config, cli, gateway):
    url, received = gateway
    sections = {"delivery": {"mode": "worker"}, "sms": {"backend": "webhook", "webhook_url": url}}
    app = make_app(**sections)
    with app.app_context():
        from idp.sms import send_sms

        send_sms("+6281234567890", "Kode Anda 123456")
    assert received == []
    assert cli("worker", "--once", config=make_config(**sections)).exit_code == 0
    assert received == [{"to": "+6281234567890", "body": "Kode Anda 123456"}]


def test_a_failing_gateway_is_retried_with_backoff_then_given_up(make_app, make_config, cli, clock):
    sections = {
        "delivery": {"mode": "worker", "retry_delays": [30, 120]},
        "sms": {"backend": "webhook", "webhook_url": f"http://127.0.0.1:{_free_port()}/sms",
                "webhook_retries": 0, "webhook_timeout": 2},
    }  # fmt: skip
    app = make_app(**sections)
    client = app.test_client()

    def failed_count() -> float:
        text = client.get("/metrics").get_data(as_text=True)
        return sum(
            s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == "idp_deliveries_total"
            and s.labels == {"channel": "sms", "result": "failed"}
        )

    failed_before = failed_count()
    with app.app_context():
        from idp.sms import send_sms

        send_sms("+6281234567890", "Kode Anda 654321")
        assert flush() == 1  # first attempt fails
        clock.advance(seconds=29)
        assert flush() == 0  # not due before its backoff
        clock.advance(seconds=2)
        assert flush() == 1
        clock.advance(seconds=119)
        assert flush() == 0
        clock.advance(seconds=2)
        assert flush() == 1  # the last retry: given up
        assert flush() == 0
    (row,) = _rows(app)
    assert row.attempts == 3 and row.next_attempt_at is None and row.delivered_at is None
    assert row.payload == b"" and "SMS gateway did not accept" in row.last_error
    assert failed_count() == failed_before + 1

    config = make_config(**sections)
    listed = json.loads(cli("deliveries", "list", "--failed", "--json", config=config).output)
    assert [(r["channel"], r["state"], r["attempts"]) for r in listed] == [("sms", "failed", 3)]
    assert "654321" not in json.dumps(listed)
    text = cli("deliveries", "list", config=config).output
    assert "failed" in text and "last error" in text
    # A given-up message is visible, but the queue is not stuck.
    assert client.get("/readyz").status_code == 200


def test_serving_processes_send_in_the_background(make_app):
    app = make_app(delivery={"mode": "serve"})
    app.config["IDP_BACKGROUND_SENDER"] = True  # as `idp serve` sets it
    client = app.test_client()

    Actions(app, client).create_member()
    assert _request_reset(client).status_code == 200
    assert app.extensions["idp.outbox"].wait_idle(timeout=10)
    assert len(mails(app)) == 1
    assert _rows(app)[0].delivered_at is not None


def test_deliveries_list_refuses_contradictory_filters(cli):
    result = cli("deliveries", "list", "--failed", "--pending")
    assert result.exit_code != 0 and "not both" in result.output


def test_bad_delivery_settings_are_refused_naming_the_key(cli, make_config):
    for sections, key in (
        ({"delivery": {"mode": "sometimes"}}, "[delivery] mode"),
        ({"delivery": {"retry_delays": []}}, "[delivery] retry_delays"),
        ({"delivery": {"retry_delays": [-1]}}, "[delivery] retry_delays"),
        ({"delivery": {"poll_seconds": 0}}, "[delivery] poll_seconds"),
    ):
        result = cli("deliveries", "list", config=make_config(**sections))
        assert result.exit_code != 0 and key in result.output


@pytest.mark.slow
def test_the_worker_process_sends_until_told_to_stop(make_app, make_config):
    import os
    import signal
    import subprocess
    import sys
    import time

    app = make_app(delivery={"mode": "worker"})
    Actions(app, app.test_client()).create_member()
    config = make_config(delivery={"mode": "worker"})
    idp = os.path.join(os.path.dirname(sys.executable), "idp")
    worker = subprocess.Popen(  # noqa: S603 - our own command
        [idp, "--config", str(config), "worker"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("IDP_")},
    )
    try:
        assert _request_reset(app.test_client()).status_code == 200
        deadline = time.monotonic() + 60
        while not mails(app) and time.monotonic() < deadline:
            time.sleep(0.2)  # a real process polls the queue every [delivery] poll_seconds
        assert len(mails(app)) == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=30)
    assert worker.returncode == 0, stderr.decode()
    assert _rows(app)[0].delivered_at is not None
