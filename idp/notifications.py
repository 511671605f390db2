"""Member notices: mail about the account and security notices, routed by channel.

One place sends what a member is told about their account (links, changes, locks, factor
changes), in the member's own language. A failed delivery is audited and never a server
error: the member can ask again, and the change it reports has already been committed.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import force_locale

from . import audit
from .db import db
from .extensions import settings
from .mail import DeliveryError, send_template
from .models import Member
from .sms import send_sms

# A notice is rendered inside the member's locale, so it is a callable, not a string.
Notice = Callable[[], str]


def send_mail_quietly(to: str, template: str, locale: str, **context) -> None:
    """Send a templated mail; a failed delivery is audited, never a server error."""
    try:
        send_template(to, template, locale, **context)
    except DeliveryError:
        # Logged by the backend; the member can ask for the link again.
        audit.record("mail_failed", detail={"template": template})
        db.session.commit()


def _by_email(member: Member, text: str) -> None:
    if member.email:
        send_mail_quietly(
            member.email, "security_notice", member.locale, name=member.name, notice=text,
            reset_url=f"{settings().server.issuer}/account/reset",
        )  # fmt: skip


def _by_sms(member: Member, text: str) -> None:
    if not (member.phone and member.phone_verified):
        return
    try:
        send_sms(member.phone, text)
    except DeliveryError:
        audit.record("sms_failed", member_id=member.id)
        db.session.commit()


CHANNELS: dict[str, Callable[[Member, str], None]] = {"email": _by_email, "sms": _by_sms}


def notify(member: Member, notice: Notice, *, channels: tuple[str, ...] = ("email",)) -> None:
    """Tell the member about a security event on each channel; call after committing."""
    with force_locale(member.locale):  # the member's language, not this request's
        text = notice()
    for channel in channels:
        CHANNELS[channel](member, text)
