"""Who may use the portal: a signed-in employer administrator with a second factor (acr=mfa),
and for each page only the employer they administer."""

from __future__ import annotations

from functools import wraps

from flask import abort, g, redirect, request, url_for

from ..auth import mfa
from ..models import Member
from ..sso import current_session
from .employers import administered_by, administered_employer


def _here() -> str:
    return request.full_path.rstrip("?") if request.method == "GET" else url_for("employer.index")


def portal_required(view):
    """View decorator: sign in, be an administrator, and have signed in with a second factor.

    An administrator without a second factor is sent to enrol one; one who signed in with a
    password only is asked for the second step (as a client demanding acr=mfa would).
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        sso = current_session()
        if sso is None:
            return redirect(url_for("auth.login", next=_here()))
        member = sso.member
        if not administered_by(member.id) or not mfa.enabled():
            abort(403)  # [mfa] policy = "off" leaves no way to reach acr=mfa
        if sso.acr != "mfa":
            if mfa.methods(member):
                return mfa.begin_second_step(
                    member, member.sign_in_identifier, _here(), password=False
                )
            return redirect(url_for("account.security", enrol=1, next=_here()))
        g.portal_admin = member
        return view(*args, **kwargs)

    return wrapped


def employer_required(view):
    """Like portal_required, and the <employer_id> in the path must be one they administer."""

    @portal_required
    @wraps(view)
    def wrapped(employer_id: int, *args, **kwargs):
        employer = administered_employer(g.portal_admin.id, employer_id)
        if employer is None:
            abort(403)
        return view(employer, *args, **kwargs)

    return wrapped


def admin() -> Member:
    return g.portal_admin
