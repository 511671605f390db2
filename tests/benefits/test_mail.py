"""The benefits app's own mail: an outbox of .eml files written atomically, or real SMTP; a
claim's status mail goes out in the language the member filed in."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller

from clients.benefits.mail import DeliveryError, send_mail

from .conftest import document, make_benefits_app, signed_in, staff_signed_in


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _parse(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_outbox_writes_one_eml_per_message(benefits_app):
    with benefits_app.app_context():
        send_mail("siti@example.id", "Klaim #1", "Klaim Anda sedang ditinjau.")
        send_mail("siti@example.id", "Klaim #2", "Klaim kedua.")
    outbox = benefits_app.extensions["benefits.settings"].mail_outbox_dir
    files = sorted(outbox.iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]  # no temporary file left behind
    first = _parse(files[0].read_bytes())
    assert (first["To"], first["Subject"]) == ("siti@example.id", "Klaim #1")
    assert first["From"] == "Benefits Service <benefits@localhost>"
    assert first["Message-ID"] and first["Date"]
    assert first.get_content().strip() == "Klaim Anda sedang ditinjau."


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


def _smtp_app(tmp_path, clock, **mail):
    return make_benefits_app(
        tmp_path, clock, issuer="http://127.0.0.1:9", base_url="http://127.0.0.1:5001",
        mail={"backend": "smtp", "smtp_host": "127.0.0.1", "smtp_security": "none",
              "from_address": "Manfaat <manfaat@example.id>", **mail},
    )  # fmt: skip


def test_smtp_backend_delivers_to_a_real_server(tmp_path, benefits_clock, smtp_server):
    port, collector = smtp_server
    app = _smtp_app(tmp_path, benefits_clock, smtp_port=port)
    with app.app_context():
        send_mail("siti@example.id", "Klaim #1", "Klaim Anda disetujui.")
    ((sender, recipients, raw),) = collector.messages
    assert (sender, recipients) == ("manfaat@example.id", ["siti@example.id"])
    assert _parse(raw).get_content().strip() == "Klaim Anda disetujui."
    assert not app.extensions["benefits.settings"].mail_outbox_dir.exists()


def test_smtp_failure_is_a_delivery_error(tmp_path, benefits_clock):
    app = _smtp_app(tmp_path, benefits_clock, smtp_port=_free_port())
    with app.app_context(), pytest.raises(DeliveryError):
        send_mail("siti@example.id", "x", "x")


def test_the_status_mail_speaks_the_language_the_claim_was_filed_in(benefits_app):
    member = benefits_app.test_client()  # no language asked for: Indonesian
    signed_in(benefits_app, member, email="siti@example.id")
    filed = member.post(
        "/claims/new/jht",
        data={"csrf_token": "csrf-test", "reason": "resigned", "bank_account": "1234567890",
              "document": document()},
        content_type="multipart/form-data",
    )  # fmt: skip
    claim_id = int(filed.headers["Location"].rsplit("/", 1)[1])
    officer = benefits_app.test_client()
    officer.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    staff_signed_in(benefits_app, officer)
    officer.post(f"/staff/claims/{claim_id}", data={"csrf_token": "csrf-test",
                                                   "status": "in_review"})  # fmt: skip
    outbox = benefits_app.extensions["benefits.settings"].mail_outbox_dir
    (message,) = [_parse(f.read_bytes()) for f in outbox.iterdir()]
    assert message["Subject"] == f"Klaim #{claim_id}: Sedang diperiksa"
    assert "Halo Siti Rahayu" in message.get_content()
