"""Sign-in codes by email, to the member's verified address."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...mail import send_template
from ...models import Member
from .base import DeliveredCode


class EmailCode(DeliveredCode):
    kind = "email"
    amr = "otp"
    label = _l("Code by email")
    send_label = _l("Send me a code by email")
    step_template = "auth/factors/delivered.html"
    enrol_template = "account/factors/delivered.html"

    def target(self, member: Member) -> str | None:
        return member.email if member.email and member.email_verified else None

    def deliver(self, member: Member, target: str, code: str) -> None:
        send_template(target, "sign_in_code", member.locale, name=member.name, code=code)

    def add_label(self, member: Member) -> str:
        return _("Get codes by email at %(target)s", target=self.target(member))
