"""What the member must do before a code can be issued: one ordered table of small checks.

OIDC Core 1.0 §3.1.2.3 (when to authenticate again: prompt, max_age, id_token_hint) and
§3.1.2.6 (with prompt=none, each prompt is an error instead of a page). Screens for each
prompt are registered by the packages that draw them (interaction.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from authlib.oauth2 import OAuth2Error
from authlib.oidc.core.errors import (
    ConsentRequiredError,
    InteractionRequiredError,
    LoginRequiredError,
)
from flask import session

from ..clock import utcnow
from ..extensions import settings
from ..models import SsoSession
from ..models.mfa import has_confirmed_factor
from ..models.oauth import granted_scopes, scope_list
from .authorization import PendingAuthorization, id_token_hint_subject, requested_claims


def _reauthenticated_for(pending: PendingAuthorization, sso: SsoSession) -> bool:
    done = session.get("reauth")
    return bool(done) and done == {"key": pending.key, "sid": sso.sid}


def login_reason(pending: PendingAuthorization, sso: SsoSession | None) -> str | None:
    """Why the member must (re-)authenticate for this request, or None."""
    if sso is None:
        return "no_session"
    forced = pending.prompts & {"login", "select_account"}
    max_age = pending.params.get("max_age")
    if max_age is not None and utcnow() - sso.auth_time > timedelta(seconds=int(max_age)):
        forced.add("max_age")
    hinted = pending.params.get("id_token_hint")
    if hinted and id_token_hint_subject(pending.params) != sso.member.subject:
        if "none" in pending.prompts:
            return "hint_mismatch"
        forced.add("hint_mismatch")
    if forced and not _reauthenticated_for(pending, sso):
        return sorted(forced)[0]
    return None


def needs_login(pending: PendingAuthorization, sso: SsoSession | None) -> bool:
    return login_reason(pending, sso) is not None


def needs_verified_email(pending: PendingAuthorization, sso: SsoSession) -> bool:
    # Issue 4: an account whose email is not verified cannot sign in to clients.
    return not sso.member.email_verified


ACR_VALUES = ("pwd", "mfa")


def mfa_demanded(pending: PendingAuthorization, member_id: int) -> bool:
    """Whether this request needs a second factor: policy, client, acr_values or claims."""
    policy = settings().mfa.policy
    if policy == "off":
        return False
    if policy == "required" or pending.client.require_mfa:
        return True
    acr = (requested_claims(pending.params).get("id_token") or {}).get("acr")
    if isinstance(acr, dict) and acr.get("essential") is True:
        values = acr.get("values") if isinstance(acr.get("values"), list) else [acr.get("value")]
        return "mfa" in values
    # OIDC Core §3.1.2.1: acr_values in order of preference. `mfa` first asks for a second
    # factor; with `pwd` also acceptable, a member who has none is not sent to add one.
    preferred = [v for v in pending.params.get("acr_values", "").split() if v in ACR_VALUES]
    if not preferred or preferred[0] != "mfa":
        return False
    return "pwd" not in preferred or has_confirmed_factor(member_id)


def needs_second_factor(pending: PendingAuthorization, sso: SsoSession) -> bool:
    """Step-up: a password-only session asked for `mfa`."""
    return sso.acr != "mfa" and mfa_demanded(pending, sso.member_id)


def needs_consent(pending: PendingAuthorization, sso: SsoSession) -> bool:
    if "consent" in pending.prompts:
        return True
    if pending.client.first_party:
        return False
    granted = granted_scopes(sso.member_id, pending.client.client_id)
    return not set(scope_list(pending.scope)) <= granted


@dataclass(frozen=True)
class Prompt:
    name: str
    needed: Callable[[PendingAuthorization, SsoSession | None], bool]
    error: type[OAuth2Error]  # the answer to prompt=none (§3.1.2.6)


# In order: each check may assume the ones before it passed (a live session after login).
PROMPTS: list[Prompt] = [
    Prompt("login", needs_login, LoginRequiredError),
    Prompt("verify_email", needs_verified_email, InteractionRequiredError),
    Prompt("mfa", needs_second_factor, InteractionRequiredError),
    Prompt("consent", needs_consent, ConsentRequiredError),
]


def next_prompt(pending: PendingAuthorization, sso: SsoSession | None) -> Prompt | None:
    """The first prompt this request still needs, or None when a code can be issued."""
    return next((prompt for prompt in PROMPTS if prompt.needed(pending, sso)), None)
