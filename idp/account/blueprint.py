"""The account blueprint and the guards its pages share."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import Blueprint, redirect, request, url_for

from ..clock import utcnow
from ..sso import current_session

bp = Blueprint("account", __name__, url_prefix="/account")


def login_required(view):
    """View decorator that sends anonymous visitors to the sign-in page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_session() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


RECENT_AUTH = timedelta(minutes=10)


def recent_auth_required(view):
    """Sensitive changes need a password entered in the last 10 minutes."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        sso = current_session()
        if sso is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if utcnow() - sso.auth_time > RECENT_AUTH:
            return redirect(url_for("account.confirm_password", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped
