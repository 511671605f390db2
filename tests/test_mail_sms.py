"""Outbound mail and SMS: the outbox formats of DESIGN.md, real SMTP, and a real webhook."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiosmtpd.controller import Controller

from idp.db import db
from idp.mail import send_mail, send_template
from idp.models import OutboxMessage
from idp.sms import send_sms


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _parse(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_outbox_writes_one_multipart_eml_per_message(app):
    with app.app_context():
        send_mail("siti@example.id", "Halo", "teks biasa", "<p>teks <b>HTML</b></p>")
        outbox = app.extensions["idp.settings"].mail_outbox_dir
    files = list(outbox.iterdir())
    assert len(files) == 1 and files[0].suffix == ".eml"  # no temporary file left behind
    message = _parse(files[0].read_bytes())
    assert message["To"] == "siti@example.id" and message["Subject"] == "Halo"
    assert message["Message-ID"] and message["Date"]
    assert message.get_body(("plain",)).get_content().strip() == "teks biasa"
    assert "<b>HTML</b>" in message.get_body(("html",)).get_content()


@pytest.mark.parametrize(
    ("locale", "expected"), [("id", "Pemberitahuan keamanan"), ("en", "Security notice")]
)
def test_templates_are_localised(app, locale, expected):
    with app.test_request_context():
        send_template(
            "siti@example.id",
            "security_notice",
            locale,
            name="Siti",
            notice="-",
            reset_url="http://127.0.0.1:5000/account/reset",
        )
        outbox = app.extensions["idp.settings"].mail_outbox_dir
    message = _parse(next(outbox.iterdir()).read_bytes())
    assert message["Subject"].startswith(expected)
    assert "Siti" in message.get_body(("plain",)).get_content()


class _Collector:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    collector = _Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller.port, collector
    controller.stop()


def test_smtp_backend_delivers_to_a_real_server(make_app, smtp_server):
    port, collector = smtp_server
    app = make_app(
        mail={
            "backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
        }
    )
    with app.app_context():
        send_mail("siti@example.id", "Kode verifikasi", "kode: 123456", "<p>kode: 123456</p>")
    (sender, recipients, raw) = collector.messages[0]
    assert recipients == ["siti@example.id"] and "no-reply@localhost" in sender
    message = _parse(raw)
    assert message["Subject"] == "Kode verifikasi"
    assert message.get_body(("plain",)).get_content().strip() == "kode: 123456"


def _queued(app) -> OutboxMessage:
    with app.app_context():
        message = db.session.scalars(db.select(OutboxMessage)).one()
        db.session.expunge(message)
        return message


def _waits_for_a_retry(app, clock, error: str) -> None:
    """The failed attempt is recorded and the message waits for the first retry delay."""
    message = _queued(app)
    assert message.attempts == 1 and error in message.last_error
    assert message.delivered_at is None and message.payload  # kept for the retry
    assert message.next_attempt_at == clock.now() + timedelta(seconds=30)


def test_smtp_failure_is_queued_for_a_retry(make_app, clock):
    app = make_app(
        mail={
            "backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": _free_port(),
            "smtp_security": "none",
            "smtp_timeout": 2,
        }
    )
    with app.app_context():
        send_mail("siti@example.id", "x", "x", "x")  # the caller never sees the failure
    _waits_for_a_retry(app, clock, "SMTP delivery to 127.0.0.1 failed")


def test_sms_outbox_format(app):
    with app.app_context():
        send_sms("+6281234567890", "Kode Anda 123456")
        outbox = app.extensions["idp.settings"].sms_outbox_dir
    files = list(outbox.iterdir())
    assert len(files) == 1 and files[0].suffix == ".json"
    document = json.loads(files[0].read_text())
    assert set(document) == {"to", "body", "created_at"}
    assert document["to"] == "+6281234567890" and document["body"] == "Kode Anda 123456"


class _Gateway(BaseHTTPRequestHandler):
    statuses: list[int] = []
    received: list[tuple[str, dict]] = []

    def do_POST(self):  # noqa: N802 (http.server's hook name)
        length = int(self.headers["Content-Length"])
        type(self).received.append(
            (self.headers.get("Authorization", ""), json.loads(self.rfile.read(length)))
        )
        self.send_response(type(self).statuses.pop(0) if type(self).statuses else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    _Gateway.statuses, _Gateway.received = [], []
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms", _Gateway
    server.shutdown()
    server.server_close()


def _webhook_app(make_app, url: str, retries: int = 2):
    return make_app(
        sms={
            "backend": "webhook",
            "webhook_url": url,
            "webhook_token": "tok",
            "webhook_retries": retries,
        }
    )


def test_webhook_retries_a_failed_attempt(make_app, gateway):
    url, handler = gateway
    handler.statuses = [500]
    with _webhook_app(make_app, url).app_context():
        send_sms("+6281234567890", "Kode Anda 123456")
    assert len(handler.received) == 2
    assert handler.received[-1] == (
        "Bearer tok",
        {"to": "+6281234567890", "body": "Kode Anda 123456"},
    )


def test_webhook_gives_up_after_its_retries(make_app, gateway, clock):
    url, handler = gateway
    handler.statuses = [500, 502, 503]
    app = _webhook_app(make_app, url)
    with app.app_context():
        send_sms("+6281234567890", "x")
    assert len(handler.received) == 3
    _waits_for_a_retry(app, clock, "HTTP Error 503")


def test_unreachable_webhook_is_queued_for_a_retry(make_app, clock):
    app = _webhook_app(make_app, f"http://127.0.0.1:{_free_port()}/sms", retries=0)
    with app.app_context():
        send_sms("+6281234567890", "x")
    _waits_for_a_retry(app, clock, "SMS gateway did not accept")


def test_html_mail_links_to_help_and_warns_about_phishing_without_a_request(app):
    with app.app_context():  # as from the CLI or a background job: no request to build URLs
        send_template("siti@example.id", "security_notice", "en", name="Siti", notice="-",
                      reset_url="http://127.0.0.1:5000/account/reset")  # fmt: skip
        outbox = app.extensions["idp.settings"].mail_outbox_dir
    html = _parse(next(outbox.iterdir()).read_bytes()).get_body(("html",)).get_content()
    assert 'href="http://127.0.0.1:5000/help"' in html
    assert "We never ask for your password" in html
