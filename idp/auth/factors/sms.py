"""Sign-in codes by SMS, to the member's confirmed phone number."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...models import Member
from ...sms import send_sms
from .base import DeliveredCode


class SmsCode(DeliveredCode):
    kind = "sms"
    amr = "sms"
    label = _l("Code by SMS")
    send_label = _l("Send me a code by SMS")
    step_template = "auth/factors/delivered.html"
    enrol_template = "account/factors/delivered.html"

    def target(self, member: Member) -> str | None:
        return member.phone if member.phone and member.phone_verified else None

    def deliver(self, member: Member, target: str, code: str) -> None:
        with force_locale(member.locale):
            text = _("Your Social Security Portal sign-in code is %(code)s. Never share it.",
                     code=code)  # fmt: skip
        send_sms(target, text)

    def add_label(self, member: Member) -> str:
        return _("Get codes by SMS at %(target)s", target=self.target(member))
