"""The second-factor registry: every kind a member can add and use, in display order.

Sign-in, step-up, the security page and their templates iterate this list; adding a kind is
its module, its templates and one line here.
"""

from __future__ import annotations

from ...models import Member
from .base import DeliveredCode, Factor, SecondFactorError
from .email import EmailCode
from .passkey import PasskeyFactor
from .recovery import Recovery
from .sms import SmsCode
from .totp import Totp

FACTORS: tuple[Factor, ...] = (PasskeyFactor(), Totp(), SmsCode(), EmailCode(), Recovery())
BY_KIND: dict[str, Factor] = {factor.kind: factor for factor in FACTORS}

__all__ = ["BY_KIND", "FACTORS", "DeliveredCode", "Factor", "SecondFactorError", "usable"]


def usable(member: Member) -> list[Factor]:
    """What the member can use at the second step: each factor they have, then fallbacks."""
    primary = [f for f in FACTORS if f.enrol_template and f.usable(member)]
    fallbacks = [f for f in FACTORS if not f.enrol_template and f.usable(member)]
    return primary + fallbacks if primary else []


def enrolled(member: Member) -> list[Factor]:
    """The factors the member added (fallbacks such as recovery codes excluded)."""
    return [f for f in FACTORS if f.enrol_template and f.usable(member)]
