"""/help for members (signing in, activation, lost phone or email, lockout, phishing) and the
footer's contact details, both from the [help] settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, render_template, send_from_directory
from sqlalchemy.exc import SQLAlchemyError

from .extensions import settings
from .sso import current_session

bp = Blueprint("help", __name__)


@bp.get("/help")
def index():
    return render_template("help/index.html")


@bp.get("/favicon.ico")
def favicon():
    """Browsers that ignore <link rel=icon> ask here."""
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml")


def site_context() -> dict:
    """What every page's header and footer need: contacts, the real host, who is signed in."""
    conf = settings()
    host = conf.help.portal_host or urlsplit(conf.server.issuer).netloc
    return {
        "helpdesk": conf.help,
        "portal_host": host,
        "help_url": f"{conf.server.issuer.rstrip('/')}/help",  # for emails: no request there
        "signed_in": _signed_in,
    }


def _signed_in() -> bool:
    """Whether this browser has an SSO session (False when the database cannot say)."""
    try:
        return current_session() is not None
    except SQLAlchemyError:  # an error page about the database itself still renders
        return False


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.context_processor(site_context)
