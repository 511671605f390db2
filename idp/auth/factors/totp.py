"""Authenticator apps: TOTP (RFC 6238), secrets encrypted at rest (security invariant 3).

A step is accepted only by the conditional update that raises `last_step`, so a code cannot
work twice, even in two parallel requests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

import pyotp
import qrcode
import qrcode.image.svg
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import delete, or_, update

from ...clock import utcnow
from ...db import db
from ...extensions import settings
from ...models import Member, SecondFactor
from .base import Factor, SecondFactorError, clean, stored_factor

TOTP_DIGITS = 6
TOTP_INTERVAL = 30
TOTP_DRIFT_STEPS = 1  # accept the previous and the next 30-second step too


def _fernet() -> MultiFernet:
    """[mfa] secret_keys: the first encrypts, all decrypt (rotation). Development without
    keys derives one from [server] secret_key; production refuses to start without them."""
    keys = settings().mfa.secret_keys
    if not keys:
        derived = hashlib.sha256(f"totp:{settings().server.secret_key}".encode()).digest()
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def _secret(factor: SecondFactor) -> str:
    try:
        return _fernet().decrypt(factor.secret_encrypted.encode()).decode()
    except InvalidToken as error:
        raise SecondFactorError(_("This authenticator cannot be read. Ask for help.")) from error


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    uri: str

    @property
    def qr_svg(self) -> Markup:
        """The provisioning URI as an inline SVG QR code (no external service)."""
        image = qrcode.make(self.uri, image_factory=qrcode.image.svg.SvgPathImage, border=2)
        svg = image.to_string(encoding="unicode")
        name = Markup.escape(_("QR code for your authenticator app"))
        opening = f'<svg role="img" aria-label="{name}" class="qr" '
        return Markup(svg.replace("<svg ", opening, 1))  # noqa: S704

    @property
    def grouped_secret(self) -> str:
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def _enrolment(member: Member, secret: str) -> TotpEnrolment:
    label = member.email or member.membership_number
    uri = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL).provisioning_uri(
        name=label, issuer_name=settings().mfa.totp_issuer
    )
    return TotpEnrolment(secret, uri)


def start_totp(member: Member) -> TotpEnrolment:
    """A new secret waiting for its first code (replacing an unconfirmed one); caller commits."""
    db.session.execute(
        delete(SecondFactor).where(
            SecondFactor.member_id == member.id,
            SecondFactor.kind == "totp",
            SecondFactor.confirmed_at.is_(None),
        )
    )
    secret = pyotp.random_base32()
    db.session.add(
        SecondFactor(
            member_id=member.id,
            kind="totp",
            secret_encrypted=_fernet().encrypt(secret.encode()).decode(),
            created_at=utcnow(),
        )
    )
    return _enrolment(member, secret)


def _matching_step(secret: str, code: str) -> int | None:
    """The time step (within the drift window) whose code this is."""
    if not (len(code) == TOTP_DIGITS and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL)
    current = totp.timecode(utcnow())
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _accept(factor: SecondFactor, code: str) -> bool:
    step = _matching_step(_secret(factor), code)
    if step is None:
        return False
    # Replay protection: only one request can move last_step past this step.
    accepted = db.session.execute(
        update(SecondFactor)
        .where(
            SecondFactor.id == factor.id,
            or_(SecondFactor.last_step.is_(None), SecondFactor.last_step < step),
        )
        .values(last_step=step, last_used_at=utcnow())
    ).rowcount
    return accepted == 1


def confirm_totp(member: Member, code: str) -> bool:
    """Complete enrolment with a first correct code; replaces an older authenticator."""
    pending = stored_factor(member, "totp", confirmed=False)
    if pending is None or not _accept(pending, clean(code)):
        return False
    old = stored_factor(member, "totp")
    if old is not None:
        db.session.delete(old)
        db.session.flush()
    pending.confirmed_at = utcnow()
    return True


class Totp(Factor):
    kind = "totp"
    amr = "otp"
    label = _l("Authenticator app")
    step_template = "auth/factors/totp.html"
    enrol_template = "account/factors/totp.html"
    wrong_enrolment_code = _l("The code is not correct. Check the time on your phone.")

    def verify(self, member: Member, code: str, purpose: str) -> bool:
        factor = stored_factor(member, self.kind)
        return factor is not None and _accept(factor, clean(code))

    def add_label(self, member: Member) -> str:
        return _("Set up an authenticator app")

    def start_enrolment(self, member: Member) -> dict:
        return {"enrolment": start_totp(member)}

    def pending_enrolment(self, member: Member) -> dict | None:
        row = stored_factor(member, self.kind, confirmed=False)
        return {"enrolment": _enrolment(member, _secret(row))} if row is not None else None

    def confirm_enrolment(self, member: Member, code: str) -> bool:
        return confirm_totp(member, code)
