"""Recovery codes: ten single-use codes, made when the first factor is added.

They are a fallback, never enrolled on their own: usable only beside another factor. A code
is accepted only by the update that sets its `used_at`, so it works once.
"""

from __future__ import annotations

import secrets

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update

from ... import audit
from ...clock import utcnow
from ...db import db
from ...extensions import settings
from ...hashing import keyed_digest
from ...models import Member, RecoveryCode
from .base import Factor, clean

RECOVERY_CODE_COUNT = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def _digest(code: str) -> str:
    return keyed_digest(settings().server.secret_key, f"recovery:{clean(code)}")


def new_recovery_codes(member: Member) -> list[str]:
    """Ten fresh codes (about 50 bits each); the old ones die. Shown once; caller commits."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
    codes = []
    for _i in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_ALPHABET) for _j in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    now = utcnow()
    db.session.add_all(
        RecoveryCode(member_id=member.id, code_hash=_digest(c), created_at=now) for c in codes
    )
    return codes


def recovery_codes_left(member: Member) -> int:
    return db.session.scalar(
        select(func.count()).where(
            RecoveryCode.member_id == member.id, RecoveryCode.used_at.is_(None)
        )
    )


def recovery_used_notice(member: Member):
    """The notice sent after a recovery code was used (rendered in the member's language)."""
    left = recovery_codes_left(member)
    return lambda: _(
        "A recovery code was just used to sign in to your account; %(left)d are left. If you "
        "lost your phone, set up two-factor sign-in again from the security page.",
        left=left,
    )


class Recovery(Factor):
    kind = "recovery"
    amr = "otp"
    label = _l("Recovery code")
    step_template = "auth/factors/recovery.html"
    code_length = 11
    numeric = False

    def usable(self, member: Member) -> bool:
        # Checked after the other kinds: only beside a factor the member still has.
        return bool(
            db.session.scalar(
                select(RecoveryCode.id).where(
                    RecoveryCode.member_id == member.id, RecoveryCode.used_at.is_(None)
                )
            )
        )

    def can_enrol(self, member: Member) -> bool:
        return False

    def verify(self, member: Member, code: str, purpose: str) -> bool:
        used = db.session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.member_id == member.id,
                RecoveryCode.code_hash == _digest(code),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
        ).rowcount
        if used != 1:
            return False
        audit.record("recovery_code_used", member_id=member.id)
        return True

    def remove(self, member: Member) -> None:
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
