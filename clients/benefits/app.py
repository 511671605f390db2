"""Application factory: wiring only."""

from __future__ import annotations

from flask import Flask

from . import access, backchannel, documents, i18n, layout, oidc, security, sessions
from .clock import Clock
from .config import Settings, load_settings
from .db import db
from .views import claims, contributions, dashboard, planning, programs, staff, statements


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Flask:
    """Build the benefits app on its own settings, database and clock."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.server.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        # A claim form carries one document; anything bigger is refused before it is read.
        MAX_CONTENT_LENGTH=settings.documents.max_bytes + 64 * 1024,
    )
    app.extensions["benefits.settings"] = settings
    app.extensions["benefits.clock"] = clock or Clock()
    db.init_app(app)
    sessions.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    layout.init_app(app)
    oidc.init_app(app)
    documents.init_app(app)
    app.jinja_env.globals["is_claims_officer"] = access.is_claims_officer
    for blueprint in (
        oidc.bp,
        backchannel.bp,
        dashboard.bp,
        contributions.bp,
        statements.bp,
        claims.bp,
        staff.bp,
        planning.bp,
        programs.bp,
    ):
        app.register_blueprint(blueprint)
    return app
