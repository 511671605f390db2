"""Who is signed in here: the member's claims in the server-side session, and view guards."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import abort, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale

from .claims import Person
from .db import db
from .sessions import purge_expired_sessions

# The claims we keep: Core §5.1 standard claims, the identity provider's membership scope and
# its roles scope (an array of role names, e.g. claims_officer).
KEPT_CLAIMS = ("sub", "sid", "acr", "amr", "auth_time", "name", "email", "locale", "birthdate",
               "membership_number", "employer_name", "roles", "id_token")  # fmt: skip
CLAIMS_OFFICER = "claims_officer"


def start_member_session(claims: dict) -> None:
    """Open a fresh session for a signed-in member; a chosen language survives."""
    locale = session.get("locale")
    session.clear()
    session.regenerate()  # session fixation: a new cookie value at sign-in
    session["member"] = {key: claims[key] for key in KEPT_CLAIMS if key in claims}
    if locale:
        session["locale"] = locale
    purge_expired_sessions()
    db.session.commit()


def current_member() -> dict | None:
    return session.get("member")


def roles_of(member: dict | None) -> set[str]:
    """The member's roles claim as a set (anything but a list of strings counts as none)."""
    roles = (member or {}).get("roles")
    return {r for r in roles if isinstance(r, str)} if isinstance(roles, list) else set()


def is_claims_officer() -> bool:
    return CLAIMS_OFFICER in roles_of(current_member())


def current_person() -> Person:
    """The signed-in person as claims and staff work see them."""
    member = current_member() or {}
    return Person(
        sub=member["sub"],
        membership_number=member.get("membership_number") or None,
        name=member.get("name") or member.get("email"),
        email=member.get("email"),
        locale=str(get_locale()),
    )


def _sign_in_first() -> ResponseReturnValue:
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def signed_in_required(view: Callable) -> Callable:
    """View decorator: sign in first; a membership number is not needed (heirs, staff)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_member() is None:
            return _sign_in_first()
        g.person = current_person()
        g.membership_number = g.person.membership_number
        return view(*args, **kwargs)

    return wrapped


def staff_required(view: Callable) -> Callable:
    """View decorator for claims officers: the `claims_officer` role (403 for anyone else),
    then a second factor: a weaker acr is sent to step up with acr_values=mfa."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        member = current_member()
        if member is None:
            return _sign_in_first()
        if CLAIMS_OFFICER not in roles_of(member):
            abort(403)
        g.person = current_person()
        return acr_required("mfa")(view)(*args, **kwargs)

    return wrapped


def member_required(view: Callable) -> Callable:
    """View decorator: sign in first; a member with no membership number sees why not."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        member = current_member()
        if member is None:
            return _sign_in_first()
        if not member.get("membership_number"):
            return render_template("no_membership.html"), 403
        g.membership_number = member["membership_number"]
        g.person = current_person()
        return view(*args, **kwargs)

    return wrapped


def acr_required(acr: str) -> Callable:
    """View decorator: when the member's ID token says a weaker acr, sign in again asking for
    it with acr_values (OIDC Core §3.1.2.1); the identity provider asks for the second factor."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if (current_member() or {}).get("acr") != acr:
                next_url = (
                    request.full_path.rstrip("?") if request.method == "GET" else request.path
                )
                return redirect(url_for("auth.login", acr=acr, next=next_url))
            return view(*args, **kwargs)

        return wrapped

    return decorator
