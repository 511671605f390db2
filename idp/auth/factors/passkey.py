"""Passkeys: WebAuthn credentials (W3C Web Authentication Level 3) checked with py_webauthn.

The relying-party id and origin come from the configured issuer, never from the request
(browsers refuse WebAuthn on IP addresses: the issuer must name a host, `localhost` included).
Every challenge belongs to one purpose in this browser's flow session, lives 5 minutes and is
answered once: the spent table refuses it a second time, even from an old copy of the cookie.
User verification is required, so a passkey alone is two factors (RFC 8176 `hwk` + `user`).
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ... import audit, notifications
from ...clock import utcnow
from ...db import db
from ...extensions import settings
from ...models import Member, Passkey
from ...models.passkeys import spend_challenge
from .base import Factor, SecondFactorError

CHALLENGE_LIFETIME = timedelta(minutes=5)
TIMEOUT_MS = 120_000
MAX_PASSKEYS = 10
MAX_NAME_LENGTH = 64
MAX_RESPONSE_LENGTH = 16_384  # a credential's JSON; RSA keys and long ids stay well below
# EdDSA, ES256 and RS256, in the order authenticators should prefer them.
ALGORITHMS = [
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]
PASSWORDLESS = "passwordless"  # the purpose of a sign-in with a passkey alone


class PasskeyError(SecondFactorError):
    """A passkey ceremony was refused; nothing was stored."""


def relying_party() -> tuple[str, str]:
    """The RP id (the issuer's host) and the one origin accepted (the issuer's)."""
    parts = urlsplit(settings().server.issuer)
    return parts.hostname or "", f"{parts.scheme}://{parts.netloc}"


def _challenge_hash(challenge: bytes) -> str:
    return hashlib.sha256(b"webauthn:" + challenge).hexdigest()


def _issue(purpose: str, member: Member | None) -> bytes:
    """A new challenge for `purpose` in this browser, replacing any unanswered one."""
    challenge = secrets.token_bytes(32)
    slots = dict(session.get("webauthn") or {})
    slots[purpose] = {
        "challenge": bytes_to_base64url(challenge),
        "member": member.id if member else None,
        "issued": utcnow().timestamp(),
    }
    session["webauthn"] = slots
    return challenge


def _take(purpose: str, member: Member | None) -> bytes:
    """The challenge this browser was given for `purpose`, spent now (and committed)."""
    slots = dict(session.get("webauthn") or {})
    slot = slots.pop(purpose, None)
    session["webauthn"] = slots
    expired = PasskeyError(_("The passkey request expired. Please try again."))
    if not isinstance(slot, dict) or slot.get("member") != (member.id if member else None):
        raise expired
    issued = datetime.fromtimestamp(float(slot.get("issued", 0)), UTC)
    now = utcnow()
    if now - issued > CHALLENGE_LIFETIME:  # (a node's clock a little behind is no matter)
        raise expired
    challenge = base64url_to_bytes(slot["challenge"])
    if not spend_challenge(_challenge_hash(challenge), issued + CHALLENGE_LIFETIME, now):
        raise expired  # answered before: a replay
    db.session.commit()  # spent even when the answer below is refused
    return challenge


def has_challenge(purpose: str) -> bool:
    return purpose in (session.get("webauthn") or {})


def passkeys(member: Member) -> list[Passkey]:
    """The member's passkeys, oldest first."""
    return list(
        db.session.scalars(
            select(Passkey).where(Passkey.member_id == member.id).order_by(Passkey.id)
        )
    )


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for value in passkey.transports or []:
        try:
            transports.append(AuthenticatorTransport(value))
        except ValueError:
            continue  # a transport this library does not know: the browser finds the key anyway
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(passkey.credential_id), transports=transports or None
    )


def clean_name(name: str) -> str:
    """A passkey name as shown back: normalised, single-spaced, checked for length."""
    value = " ".join(unicodedata.normalize("NFKC", name).split())
    if not value or len(value) > MAX_NAME_LENGTH or not value.isprintable():
        raise PasskeyError(
            _("Give the passkey a name of at most %(max)d characters.", max=MAX_NAME_LENGTH)
        )
    return value


# -- registration (WebAuthn §7.1) ---------------------------------------------------------


def registration_options(member: Member) -> str:
    """The JSON options for `navigator.credentials.create()`, with a new challenge."""
    rp_id, _origin = relying_party()
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=settings().mfa.totp_issuer,
        user_id=member.subject.encode(),
        user_name=member.sign_in_identifier,
        user_display_name=member.name or member.sign_in_identifier,
        challenge=_issue("register", member),
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(p) for p in passkeys(member)],
        supported_pub_key_algs=ALGORITHMS,
    )
    return options_to_json(options)


def register(member: Member, response: str, name: str) -> Passkey:
    """Check the authenticator's answer and store the passkey; the caller commits."""
    name = clean_name(name)
    if len(passkeys(member)) >= MAX_PASSKEYS:
        raise PasskeyError(_("You have the most passkeys allowed. Remove one first."))
    challenge = _take("register", member)
    rp_id, origin = relying_party()
    try:
        credential = parse_registration_credential_json(response)
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=True,
            supported_pub_key_algs=ALGORITHMS,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise PasskeyError(_("The passkey could not be checked. Please try again.")) from error
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)):
        raise PasskeyError(_("This passkey is already registered."))
    passkey = Passkey(
        member_id=member.id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[t.value for t in credential.response.transports or []],
        name=name,
        created_at=utcnow(),
    )
    db.session.add(passkey)
    db.session.flush()
    return passkey


# -- authentication (WebAuthn §7.2) -------------------------------------------------------


def authentication_options(purpose: str, member: Member | None = None) -> str:
    """The JSON options for `navigator.credentials.get()`; without a member, any passkey of
    this site (a discoverable credential) may answer."""
    rp_id, _origin = relying_party()
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=_issue(purpose, member),
        timeout=TIMEOUT_MS,
        allow_credentials=[_descriptor(p) for p in passkeys(member)] if member else [],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options)


def authenticate(purpose: str, response: str, member: Member | None = None) -> Passkey:
    """The passkey that signed this browser's challenge for `purpose`; raises PasskeyError.

    With `member`, only their passkeys answer. The caller commits the new counter.
    """
    challenge = _take(purpose, member)
    refused = PasskeyError(_("This passkey could not be used. Please try again."))
    try:
        credential = parse_authentication_credential_json(response)
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise refused from error
    query = select(Passkey).where(Passkey.credential_id == credential.id)
    if member is not None:
        query = query.where(Passkey.member_id == member.id)
    passkey = db.session.scalar(query)
    if passkey is None:
        raise PasskeyError(_("This passkey is not registered with us."))
    handle = credential.response.user_handle
    if handle and handle != passkey.member.subject.encode():
        raise refused
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,  # compared below, to tell the member
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise refused from error
    # WebAuthn §6.1.1: a counter that does not move forward may mean a cloned authenticator.
    new, old = verified.new_sign_count, passkey.sign_count
    if (new or old) and new <= old:
        _counter_went_back(passkey)
        raise refused
    passkey.sign_count = new
    passkey.last_used_at = utcnow()
    return passkey


def _counter_went_back(passkey: Passkey) -> None:
    """Refuse, audit (committed) and email the member: the passkey may have been copied."""
    member, name = passkey.member, passkey.name
    audit.record("passkey_counter_regressed", member_id=member.id, detail={"name": name})
    db.session.commit()
    notifications.notify(
        member,
        lambda: _(
            "Your passkey “%(name)s” was refused: its counter went backwards, so it may have "
            "been copied. If you did not just try to sign in, remove it from the security page "
            "and change your password.",
            name=name,
        ),
    )


# -- the security page --------------------------------------------------------------------


def _own(member: Member, passkey_id: int) -> Passkey:
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or passkey.member_id != member.id:
        raise PasskeyError(_("Choose a passkey of yours."))
    return passkey


def rename_passkey(member: Member, passkey_id: int, name: str) -> tuple[str, str]:
    """Rename one of the member's passkeys; (old name, new name). The caller commits."""
    passkey = _own(member, passkey_id)
    old, passkey.name = passkey.name, clean_name(name)
    return old, passkey.name


def remove_passkey(member: Member, passkey_id: int) -> str:
    """Remove one of the member's passkeys; its name. The caller commits."""
    passkey = _own(member, passkey_id)
    db.session.delete(passkey)
    db.session.flush()
    return passkey.name


class PasskeyFactor(Factor):
    kind = "passkey"
    amr = "hwk"  # RFC 8176: proof of possession of a hardware-secured key
    label = _l("Passkey")
    step_template = "auth/factors/passkey.html"
    enrol_template = "account/factors/passkey.html"
    many = True  # several per member, each renamed and removed on its own
    max_answer = MAX_RESPONSE_LENGTH
    missing_answer = _l("Use your passkey first.")
    wrong_enrolment_code = _l("The passkey could not be added. Please try again.")

    def usable(self, member: Member) -> bool:
        return bool(db.session.scalar(select(func.count()).where(Passkey.member_id == member.id)))

    def step_context(self, member: Member, purpose: str) -> dict:
        return {"passkey_options": authentication_options(purpose, member)}

    def verify(self, member: Member, code: str, purpose: str) -> bool:
        try:
            authenticate(purpose, code, member)
        except PasskeyError:
            return False
        return True

    def can_enrol(self, member: Member) -> bool:
        count = db.session.scalar(select(func.count()).where(Passkey.member_id == member.id))
        return count < MAX_PASSKEYS

    def add_label(self, member: Member) -> str:
        return _("Add a passkey")

    def start_enrolment(self, member: Member) -> dict:
        return {"options": registration_options(member)}

    def enrolment_pending(self, member: Member) -> bool:
        return has_challenge("register")

    def pending_enrolment(self, member: Member) -> dict | None:
        # A fresh challenge: the one just answered, right or wrong, is spent.
        return {"options": registration_options(member)}

    def confirm_enrolment(self, member: Member, code: str) -> bool:
        """Raises PasskeyError with the reason; the name is the form's `name` field."""
        register(member, code, request.form.get("name", ""))
        return True

    def new_name(self, member: Member) -> str | None:
        newest = db.session.scalar(
            select(Passkey.name).where(Passkey.member_id == member.id).order_by(Passkey.id.desc())
        )
        return newest

    def remove(self, member: Member) -> None:
        db.session.execute(delete(Passkey).where(Passkey.member_id == member.id))
