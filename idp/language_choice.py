"""A signed-in member's language choice is saved to their profile: emails and SMS use it, and
relying parties read it as the `locale` claim (OIDC Core §5.1).

Only the language links (`?lang=`) count as a choice; `ui_locales` is a relying party's hint
for one sign-in (Core §3.1.2.1). A language is a display preference with no security effect,
so, like the links themselves, it is saved on GET."""

from __future__ import annotations

from flask import Flask, request
from sqlalchemy.exc import SQLAlchemyError

from .clock import utcnow
from .db import db
from .extensions import settings
from .sso import current_session


def save_language_choice() -> None:
    """Before-request: store the language picked with a language link on the member."""
    language = request.args.get("lang", "")
    if language not in settings().i18n.locales:
        return
    # Saved on GET like the links themselves, but never from another site's page (Fetch
    # Metadata): a cross-site link may show a language, not change the member's profile.
    if request.headers.get("Sec-Fetch-Site", "none") == "cross-site":
        return
    try:
        sso = current_session()
        if sso is not None and sso.member.locale != language:
            sso.member.locale = language
            sso.member.updated_at = utcnow()
            db.session.commit()
    except SQLAlchemyError:  # a preference is not worth failing the page over
        db.session.rollback()


def init_app(app: Flask) -> None:
    app.before_request(save_language_choice)
