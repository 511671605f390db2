"""Outbound mail of the benefits app: `outbox` (one RFC 5322 .eml file per message, written
atomically) or `smtp`, chosen by [mail] backend. Its own module: the app never imports `idp`."""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app

from .clock import utcnow
from .config import Settings

log = logging.getLogger("benefits.mail")


class DeliveryError(Exception):
    """The message could not be handed to the outbox or the SMTP server."""


def build_message(conf: Settings, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = conf.mail.from_address
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())  # RFC 5322 §3.3
    message["Message-ID"] = make_msgid(domain=conf.mail.from_address.rpartition("@")[2].strip(">"))
    message.set_content(text)
    return message


def write_atomically(directory: Path, suffix: str, data: bytes) -> Path:
    """Write under a temporary name, then rename: readers never see half a message."""
    directory.mkdir(parents=True, exist_ok=True)
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
    try:
        write_atomically(conf.mail_outbox_dir, ".eml", bytes(message))
    except OSError as error:
        raise DeliveryError(f"outbox {conf.mail_outbox_dir}: {error.strerror}") from error


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


def send_mail(to: str, subject: str, text: str) -> None:
    """Deliver one plain-text message with the configured backend; DeliveryError if not."""
    conf: Settings = current_app.extensions["benefits.settings"]
    BACKENDS[conf.mail.backend](conf, build_message(conf, to, subject, text))
    log.info("mail sent")
