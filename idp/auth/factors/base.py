"""The second-factor interface: what sign-in, step-up and the security page ask of a kind.

A kind is one module implementing `Factor` (and, for code-by-message kinds, `DeliveredCode`);
the registry in `__init__.py` lists them in the order members see them.
"""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import gettext as _
from sqlalchemy import delete, select

from ...clock import utcnow
from ...codes import CodeError, check_code, issue_code
from ...db import db
from ...mail import DeliveryError
from ...models import Member, SecondFactor


class SecondFactorError(ValueError):
    """A second-factor step failed; `message` is for the member."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def clean(code: str) -> str:
    """Codes as members type them: spaces and dashes ignored, any case."""
    return "".join(code.split()).replace("-", "").lower()


def stored_factor(member: Member, kind: str, *, confirmed: bool = True) -> SecondFactor | None:
    state = (
        SecondFactor.confirmed_at.is_not(None) if confirmed else SecondFactor.confirmed_at.is_(None)
    )
    return db.session.scalar(
        select(SecondFactor).where(
            SecondFactor.member_id == member.id, SecondFactor.kind == kind, state
        )
    )


class Factor:
    """One kind of second factor. Subclasses set the attributes and override what differs."""

    kind: str  # stored in second_factors.kind and used in forms (`method`, `kind`)
    amr: str  # RFC 8176 authentication method reference
    label: LazyString
    step_template: str  # the method's part of the second-step page
    enrol_template: str = ""  # the page that confirms a new factor ("" if never enrolled)
    code_length: int = 6
    numeric: bool = True
    sends_code: bool = False
    many: bool = False  # several per member, each managed on its own (passkeys)
    max_answer: int = 64  # the longest answer read from a form
    missing_answer: LazyString | None = None  # shown for an empty answer ("Enter the code.")

    # -- sign-in and step-up ----------------------------------------------------------------

    def usable(self, member: Member) -> bool:
        """Whether the member can prove this factor at the second step."""
        return stored_factor(member, self.kind) is not None

    def challenge(self, member: Member, purpose: str) -> None:
        """Send what the member needs to answer (a code by message); most kinds need nothing."""

    def step_context(self, member: Member, purpose: str) -> dict:
        """What `step_template` needs to ask for an answer (a passkey's challenge)."""
        return {}

    def verify(self, member: Member, code: str, purpose: str) -> bool:
        """Whether `code` proves this factor now, using it up; the caller commits."""
        raise NotImplementedError

    # -- the security page ------------------------------------------------------------------

    def can_enrol(self, member: Member) -> bool:
        return bool(self.enrol_template) and not self.usable(member)

    def add_label(self, member: Member) -> str:
        return str(self.label)

    def start_enrolment(self, member: Member) -> dict:
        """Begin adding this factor; the context for `enrol_template`. The caller commits."""
        raise NotImplementedError

    def enrolment_pending(self, member: Member) -> bool:
        """Whether an enrolment was started and can still be confirmed."""
        return self.pending_enrolment(member) is not None

    def pending_enrolment(self, member: Member) -> dict | None:
        """The context to show the confirmation page again, or None if it expired."""
        return {}

    def confirm_enrolment(self, member: Member, code: str) -> bool:
        """Finish adding this factor with a first correct code; the caller commits."""
        raise NotImplementedError

    wrong_enrolment_code: LazyString | None = None

    def new_name(self, member: Member) -> str | None:
        """The name the member gave the factor just added, for the log and the email."""
        return None

    def remove(self, member: Member) -> None:
        db.session.execute(
            delete(SecondFactor).where(
                SecondFactor.member_id == member.id, SecondFactor.kind == self.kind
            )
        )


class DeliveredCode(Factor):
    """A 6-digit code sent by a message to a confirmed address (email, SMS)."""

    sends_code = True
    send_label: LazyString

    def target(self, member: Member) -> str | None:
        """Where codes go: a confirmed address of the member, or None."""
        raise NotImplementedError

    def deliver(self, member: Member, target: str, code: str) -> None:
        """Send the code; raises DeliveryError."""
        raise NotImplementedError

    def can_enrol(self, member: Member) -> bool:
        return not self.usable(member) and self.target(member) is not None

    def challenge(self, member: Member, purpose: str) -> None:
        """Send a code; raises CodeError (throttled), DeliveryError or SecondFactorError."""
        target = self.target(member)
        if target is None:
            raise SecondFactorError(_("There is no confirmed address for this method."))
        code = issue_code(member, f"{purpose}_{self.kind}", target)
        try:
            self.deliver(member, target, code)
        except DeliveryError:
            db.session.rollback()
            raise
        db.session.commit()

    def verify(self, member: Member, code: str, purpose: str) -> bool:
        try:
            check_code(member, f"{purpose}_{self.kind}", code)
        except CodeError:
            return False
        factor = stored_factor(member, self.kind)
        if factor is not None:
            factor.last_used_at = utcnow()
        return True

    def start_enrolment(self, member: Member) -> dict:
        self.challenge(member, "mfa_enrol")
        return {}

    def confirm_enrolment(self, member: Member, code: str) -> bool:
        if not self.verify(member, code, "mfa_enrol"):
            return False
        if stored_factor(member, self.kind) is None:
            now = utcnow()
            db.session.add(
                SecondFactor(member_id=member.id, kind=self.kind, created_at=now, confirmed_at=now)
            )
        return True
