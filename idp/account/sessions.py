"""'Where you're signed in' on /account/sessions: every live session and its clients (issue 8).

Ending a session here is the same as signing out there: tokens revoked, clients told by
back-channel logout.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import format_datetime
from sqlalchemy import select

from ..auth.devices import browser_name
from ..db import db
from ..models import Client, SessionClient
from ..sso import current_session, end_member_sessions, end_sessions, member_sessions
from .blueprint import bp, login_required


def _clients_by_session(session_ids: list[int]) -> dict[int, list[str]]:
    rows = db.session.execute(
        select(SessionClient.session_id, Client.name)
        .join(Client, Client.client_id == SessionClient.client_id)
        .where(SessionClient.session_id.in_(session_ids))
        .order_by(SessionClient.first_at)
    )
    found: dict[int, list[str]] = {}
    for session_id, name in rows:
        found.setdefault(session_id, []).append(name)
    return found


@bp.route("/sessions")
@login_required
def sessions():
    current = current_session()
    live = member_sessions(current.member_id)
    clients = _clients_by_session([sso.id for sso in live])
    rows = [
        {
            "id": sso.id,
            "current": sso.id == current.id,
            "browser": browser_name(sso.user_agent or ""),
            "ip": sso.ip or "—",
            "started": format_datetime(sso.created_at, "medium"),
            "last_seen": format_datetime(sso.last_seen_at, "medium"),
            "clients": clients.get(sso.id, []),
        }
        for sso in live
    ]
    ended = request.args.get("ended")
    return render_template("account/sessions.html", rows=rows, ended=ended)


@bp.route("/sessions/end", methods=["POST"])
@login_required
def end_session():
    """Sign out one session (this one included), or every other one."""
    current = current_session()
    which = request.form.get("session", "")
    if which == "others":
        count = end_member_sessions(current.member_id, "signed_out_elsewhere", keep=current)
    elif which == "all":
        count = end_member_sessions(current.member_id, "signed_out_everywhere")
    else:
        chosen = next((s for s in member_sessions(current.member_id) if str(s.id) == which), None)
        if chosen is None:  # not the member's, already over, or nonsense: nothing to do
            return redirect(url_for("account.sessions"))
        end_sessions([chosen], "signed_out_remotely" if chosen is not current else "signed_out")
        count = 1
    db.session.commit()
    if current_session() is None:
        return redirect(url_for("auth.login"))
    return redirect(url_for("account.sessions", ended=count))
