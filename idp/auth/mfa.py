"""Second factors: TOTP (RFC 6238), email and SMS codes, recovery codes; and when to ask.

Every check is atomic where a race could let a code work twice: a TOTP step is accepted only
by the conditional update that raises `last_step`, a recovery code only by the update that
sets its `used_at`, an email or SMS code through `codes.check_code` (row lock + used_at).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import qrcode
import qrcode.image.svg
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import redirect, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import delete, func, or_, select, update

from .. import audit
from ..clock import utcnow
from ..codes import CodeError, check_code, issue_code
from ..db import db
from ..extensions import settings
from ..hashing import keyed_digest
from ..mail import DeliveryError, send_template
from ..models import Member, RecoveryCode, SecondFactor
from ..sms import send_sms
from . import lockout

TOTP_DIGITS = 6
TOTP_INTERVAL = 30
TOTP_DRIFT_STEPS = 1  # accept the previous and the next 30-second step too
RECOVERY_CODE_COUNT = 10
KINDS = ("totp", "sms", "email")
CODE_FACTORS = ("email", "sms")
METHODS = ("totp", "email", "sms", "recovery")
# RFC 8176 authentication method references per second-factor method.
AMR = {"totp": "otp", "email": "otp", "sms": "sms", "recovery": "otp"}


class SecondFactorError(ValueError):
    """A second-factor step failed; `message` is for the member, `counts` toward lockout."""

    def __init__(self, message: str, *, counts: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.counts = counts


# -- Policy: who must give a second factor, and when -----------------------------------------


def enabled() -> bool:
    return settings().mfa.policy != "off"


def factors(member: Member) -> list[SecondFactor]:
    """The member's confirmed factors, TOTP first."""
    rows = db.session.scalars(
        select(SecondFactor).where(
            SecondFactor.member_id == member.id, SecondFactor.confirmed_at.is_not(None)
        )
    )
    return sorted(rows, key=lambda f: ("totp", "sms", "email").index(f.kind))


def methods(member: Member) -> list[str]:
    """What the member can use at the second step: each factor, then recovery codes."""
    kinds = [f.kind for f in factors(member)]
    has_recovery = db.session.scalar(
        select(RecoveryCode.id).where(
            RecoveryCode.member_id == member.id, RecoveryCode.used_at.is_(None)
        )
    )
    return kinds + (["recovery"] if kinds and has_recovery else [])


def amr_for(method: str) -> list[str]:
    return ["pwd", AMR[method], "mfa"]


SECOND_STEP_LIFETIME = timedelta(minutes=5)


def begin_second_step(member: Member, identifier: str, next_url: str):
    """Bind the second step to this browser and this sign-in (or step-up); 5 minutes."""
    from .signin import normalize_identifier

    session["mfa"] = {
        "member": member.id,
        "identifier": normalize_identifier(identifier),
        "started": utcnow().timestamp(),
        "next": next_url,
    }
    return redirect(url_for("auth.second_factor"))


# -- TOTP secrets, encrypted at rest ---------------------------------------------------------


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


def _enrolment(member: Member, secret: str) -> TotpEnrolment:
    label = member.email or member.membership_number
    uri = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL).provisioning_uri(
        name=label, issuer_name=settings().mfa.totp_issuer
    )
    return TotpEnrolment(secret, uri)


def pending_totp(member: Member) -> TotpEnrolment | None:
    row = _factor(member, "totp", confirmed=False)
    return _enrolment(member, _secret(row)) if row is not None else None


def _factor(member: Member, kind: str, *, confirmed: bool = True) -> SecondFactor | None:
    state = (
        SecondFactor.confirmed_at.is_not(None) if confirmed else SecondFactor.confirmed_at.is_(None)
    )
    return db.session.scalar(
        select(SecondFactor).where(
            SecondFactor.member_id == member.id, SecondFactor.kind == kind, state
        )
    )


def _matching_step(secret: str, code: str) -> int | None:
    """The time step (within the drift window) whose code this is."""
    if not (len(code) == TOTP_DIGITS and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL)
    now = utcnow()
    current = totp.timecode(now)
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _accept_totp(factor: SecondFactor, code: str) -> bool:
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
    pending = _factor(member, "totp", confirmed=False)
    if pending is None or not _accept_totp(pending, _clean(code)):
        return False
    old = _factor(member, "totp")
    if old is not None:
        db.session.delete(old)
        db.session.flush()
    pending.confirmed_at = utcnow()
    return True


# -- Email and SMS codes ---------------------------------------------------------------------


def code_target(member: Member, kind: str) -> str | None:
    """Where a code of this kind goes: a verified email address or phone number."""
    if kind == "email":
        return member.email if member.email and member.email_verified else None
    return member.phone if member.phone and member.phone_verified else None


def send_code(member: Member, kind: str, purpose: str) -> None:
    """Send a 6-digit code by email or SMS; raises CodeError (throttle) or DeliveryError."""
    target = code_target(member, kind)
    if target is None:
        raise SecondFactorError(_("There is no confirmed address for this method."), counts=False)
    code = issue_code(member, purpose, target)
    try:
        if kind == "sms":
            with force_locale(member.locale):
                text = _("Your Social Security Portal sign-in code is %(code)s. Never share it.",
                         code=code)  # fmt: skip
            send_sms(target, text)
        else:
            send_template(target, "sign_in_code", member.locale, name=member.name, code=code)
    except DeliveryError:
        db.session.rollback()
        raise
    db.session.commit()


def _accept_code(member: Member, kind: str, purpose: str, code: str) -> bool:
    try:
        check_code(member, purpose, code)
    except CodeError:
        return False
    factor = _factor(member, kind)
    if factor is not None:
        factor.last_used_at = utcnow()
    return True


def confirm_code_factor(member: Member, kind: str, code: str) -> bool:
    """Enrol email or SMS as a factor with the code just sent for enrolment."""
    if not _accept_code(member, kind, f"mfa_enrol_{kind}", code):
        return False
    if _factor(member, kind) is None:
        db.session.add(
            SecondFactor(member_id=member.id, kind=kind, created_at=utcnow(), confirmed_at=utcnow())
        )
    return True


# -- Recovery codes ----------------------------------------------------------------------------

_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def _clean(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _recovery_digest(code: str) -> str:
    return keyed_digest(settings().server.secret_key, f"recovery:{_clean(code)}")


def new_recovery_codes(member: Member) -> list[str]:
    """Ten fresh codes (about 50 bits each); the old ones die. Shown once; caller commits."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
    codes = []
    for _i in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _j in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    now = utcnow()
    db.session.add_all(
        RecoveryCode(member_id=member.id, code_hash=_recovery_digest(c), created_at=now)
        for c in codes
    )
    return codes


def recovery_codes_left(member: Member) -> int:
    return db.session.scalar(
        select(func.count()).where(
            RecoveryCode.member_id == member.id, RecoveryCode.used_at.is_(None)
        )
    )


def _accept_recovery(member: Member, code: str) -> bool:
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.member_id == member.id,
            RecoveryCode.code_hash == _recovery_digest(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    ).rowcount
    return used == 1


# -- One entry point for every check ---------------------------------------------------------


def verify(member: Member, method: str, code: str, *, purpose: str = "mfa_signin") -> bool:
    """Whether `code` proves `method` for this member now (and uses it up); caller commits."""
    if method not in methods(member):
        return False
    if method == "totp":
        return _accept_totp(_factor(member, "totp"), _clean(code))
    if method == "recovery":
        if not _accept_recovery(member, code):
            return False
        audit.record("recovery_code_used", member_id=member.id)
        return True
    return _accept_code(member, method, f"{purpose}_{method}", code)


def check(
    member: Member, identifier: str, method: str, code: str, *, purpose: str = "mfa_signin"
) -> bool | lockout.Lock:
    """`verify`, counted toward the identifier's lockout: True, False, or the refusing Lock."""
    if lockout.current_lock(identifier) is not None:
        return lockout.register_failure(identifier, member, event="signin_refused_locked")
    if verify(member, method, code, purpose=purpose):
        return True
    db.session.rollback()
    return lockout.register_failure(identifier, member, event="mfa_failed") or False


def remove_factor(member: Member, kind: str) -> None:
    """Remove a factor; without any factor left, the recovery codes go too. Caller commits."""
    db.session.execute(
        delete(SecondFactor).where(SecondFactor.member_id == member.id, SecondFactor.kind == kind)
    )
    if not factors(member):
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))


def recovery_used_notice(member: Member):
    """The notice sent after a recovery code was used (a callable, rendered per language)."""
    left = recovery_codes_left(member)
    return lambda: _(
        "A recovery code was just used to sign in to your account; %(left)d are left. If you "
        "lost your phone, set up two-factor sign-in again from the security page.",
        left=left,
    )


def send_notice(member: Member, notice) -> None:
    """Email a security notice in the member's language; call after committing."""
    from ..account.activation import send_quietly  # account builds on auth, not the reverse

    if not member.email:
        return
    with force_locale(member.locale):
        text = notice() if callable(notice) else str(notice)
    send_quietly(
        member.email, "security_notice", member.locale, name=member.name, notice=text,
        reset_url=f"{settings().server.issuer}/account/reset",
    )  # fmt: skip
