"""The interaction API: how screens read a pending authorization request and finish it.

In the spirit of node-oidc-provider's `interactionDetails` / `interactionFinished`: the
protocol validates the request and decides which prompt comes next (prompts.py); a screen
registered for that prompt does its work (sign-in, second factor, consent) and the request
is finished with an explicit result. The code, and so the ID token, carries exactly that
result; grants never read cookies. This package draws no page: screens register themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app, session, url_for
from flask.typing import ResponseReturnValue

from .. import sso as sso_store
from ..clock import utcnow
from ..models import Member, SsoSession
from ..models.oauth import remember_consent
from .authorization import PendingAuthorization, validate_request
from .prompts import Prompt, login_reason, next_prompt
from .request_uris import finish as finish_pushed_request
from .server import authorization_server


@dataclass(frozen=True)
class AuthenticationResult:
    """What a sign-in proved: who, how (acr, amr per RFC 8176), when, and in which session."""

    member: Member
    session_id: int
    sid: str
    auth_time: datetime
    acr: str
    amr: list[str]

    @classmethod
    def of(cls, sso: SsoSession) -> AuthenticationResult:
        return cls(sso.member, sso.id, sso.sid, sso.auth_time, sso.acr, list(sso.amr))


@dataclass
class Interaction:
    """A validated authorization request, the browser's session and the prompt it needs."""

    request: PendingAuthorization
    session: SsoSession | None
    prompt: Prompt | None

    @property
    def resume_url(self) -> str:
        """Where the screen sends the browser once its part is done."""
        return url_for("oidc.authorize") + "?" + self.request.query_string

    @property
    def login_hint(self) -> str | None:
        return self.request.params.get("login_hint") or None


Screen = Callable[[Interaction], ResponseReturnValue]


def register_screen(app: Flask, prompt: str, screen: Screen) -> None:
    """Let a screen answer one prompt (`login`, `verify_email`, `mfa`, `consent`)."""
    app.extensions.setdefault("idp.screens", {})[prompt] = screen


def details() -> Interaction:
    """The pending request of this HTTP request and what it needs next; raises OAuth2Error."""
    current = sso_store.current_session()
    pending = validate_request(current.member if current else None)
    return Interaction(pending, current, next_prompt(pending, current))


def show_screen(interaction: Interaction) -> ResponseReturnValue:
    """Hand the browser to the screen registered for the prompt the request needs."""
    prompt = interaction.prompt
    if prompt.name == "login" and interaction.session is not None:
        # Re-authentication (prompt=login, max_age, another member's hint): the next sign-in
        # in this browser satisfies exactly this request (see `login_finished`).
        session["reauth_pending"] = interaction.request.key
    return current_app.extensions["idp.screens"][prompt.name](interaction)


def login_finished(sid: str) -> None:
    """A screen finished a sign-in: it satisfies the request that asked for it, if any."""
    pending = session.pop("reauth_pending", None)
    if pending:
        session["reauth"] = {"key": pending, "sid": sid}


def needs_login(interaction: Interaction) -> bool:
    return login_reason(interaction.request, interaction.session) is not None


def finish(interaction: Interaction, *, granted: bool = True, consent: bool = False):
    """End the request: a code carrying the session's result, or access_denied.

    `consent` records that the member allowed the requested scopes (remembered for later).
    """
    session.pop("reauth", None)
    pending = interaction.request
    finish_pushed_request(pending.pushed)  # RFC 9126 §4: one authorization response per push
    if not granted:
        return authorization_server().create_authorization_response(
            grant=pending.grant, grant_user=None
        )
    result = AuthenticationResult.of(interaction.session)
    if consent:  # committed with the code, in one transaction
        remember_consent(result.member.id, pending.client.client_id, pending.scope, utcnow())
    return authorization_server().create_authorization_response(
        grant=pending.grant, grant_user=result
    )
