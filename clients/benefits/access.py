"""Who is signed in here: the member's claims in the server-side session, and view guards."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import g, redirect, render_template, request, session, url_for

from .db import db
from .sessions import purge_expired_sessions

# The claims we keep: Core §5.1 standard claims and the identity provider's membership scope.
KEPT_CLAIMS = ("sub", "sid", "acr", "amr", "auth_time", "name", "email", "locale",
               "membership_number", "employer_name", "id_token")  # fmt: skip


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


def member_required(view: Callable) -> Callable:
    """View decorator: sign in first; a member with no membership number sees why not."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        member = current_member()
        if member is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if not member.get("membership_number"):
            return render_template("no_membership.html"), 403
        g.membership_number = member["membership_number"]
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
