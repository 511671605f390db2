"""Outbound mail: `outbox` (one .eml file per message) or `smtp`, chosen by [mail] backend.

Messages are multipart (text + HTML), rendered from templates in the member's language, and
queued in the database outbox (`outbox.py`), which hands them to the backend with retries.
"""

from __future__ import annotations

import os
import secrets
import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import render_template
from flask_babel import force_locale

from .clock import utcnow
from .config import Settings
from .extensions import settings


class DeliveryError(Exception):
    """A message could not be handed to the mail or SMS gateway; the caller tells the member."""


def build_message(conf: Settings, to: str, subject: str, text: str, html: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = conf.mail.from_address
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=conf.mail.from_address.rpartition("@")[2].strip(">"))
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def write_atomically(directory: Path, suffix: str, data: bytes) -> Path:
    """Write a file under a temporary name and rename it, so readers never see half of it."""
    directory.mkdir(parents=True, exist_ok=True)
    # Time first so names sort in sending order; the counter orders messages of one instant.
    stamp = f"{utcnow().strftime('%Y%m%dT%H%M%S%f')}-{time.monotonic_ns():020d}"
    name = f"{stamp}-{secrets.token_hex(4)}{suffix}"
    temporary = directory / f".{name}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, directory / name)
    return directory / name


def deliver_to_outbox(conf: Settings, message: EmailMessage) -> None:
    write_atomically(conf.mail_outbox_dir, ".eml", bytes(message))


def deliver_by_smtp(conf: Settings, message: EmailMessage) -> None:
    mail = conf.mail
    context = ssl.create_default_context()
    try:
        if mail.smtp_security == "tls":
            server = smtplib.SMTP_SSL(
                mail.smtp_host, mail.smtp_port, timeout=mail.smtp_timeout, context=context
            )
        else:
            server = smtplib.SMTP(mail.smtp_host, mail.smtp_port, timeout=mail.smtp_timeout)
        with server:
            if mail.smtp_security == "starttls":
                server.starttls(context=context)
            if mail.smtp_username:
                server.login(mail.smtp_username, mail.smtp_password)
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"SMTP delivery to {mail.smtp_host} failed: {error}") from error


# Registry: [mail] backend -> delivery function.
BACKENDS: dict[str, Callable[[Settings, EmailMessage], None]] = {
    "outbox": deliver_to_outbox,
    "smtp": deliver_by_smtp,
}


def send_mail(to: str, subject: str, text: str, html: str) -> None:
    """Queue one message for the configured backend (commits; see outbox.enqueue)."""
    from .outbox import enqueue

    conf = settings()
    enqueue("mail", bytes(build_message(conf, to, subject, text, html)))


def send_template(to: str, template: str, locale: str, **context) -> None:
    """Render mail/<template>.txt, .html and .subject in the member's language, then send."""
    with force_locale(locale):
        subject = render_template(f"mail/{template}.subject.txt", **context).strip()
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
    send_mail(to, subject, text, html)
