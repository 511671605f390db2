"""Application factory: loads settings and wires extensions and blueprints, nothing else."""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    db,
    health,
    helpdesk,
    i18n,
    language_choice,
    logging_setup,
    metrics,
    outbox,
    security,
    sso,
)
from .clock import Clock
from .config import Settings, load_settings
from .hosts import HostCheck
from .kek import parse_keks
from .keyring import KeyRing
from .oidc import backchannel, errors, logout, par, registration, server
from .oidc.published import PublishedDocuments


def _quiet_library_logs() -> None:
    # Security invariant 9: Authlib logs issued tokens at DEBUG, so it never logs below INFO.
    logging.getLogger("authlib").setLevel(logging.INFO)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Flask:
    settings = settings or load_settings()
    _quiet_library_logs()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    flow_cookie = "__Host-idp_flow" if settings.issuer_is_https else "idp_flow"
    app.config.update(
        SECRET_KEY=settings.server.secret_key,
        DEBUG=settings.server.debug,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ECHO=settings.database.echo,
        # Pings only connections that sat idle (idp/db.py), not one per request.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": False},
        MAX_CONTENT_LENGTH=settings.server.max_body_bytes,
        MAX_FORM_MEMORY_SIZE=settings.server.max_body_bytes,
        SESSION_COOKIE_NAME=flow_cookie,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.issuer_is_https,
    )
    app.extensions["idp.settings"] = settings
    app.extensions["idp.clock"] = clock or Clock()
    app.extensions["idp.keys"] = ring = KeyRing(
        parse_keks(settings.key_encryption_keys), refresh_seconds=settings.keys.refresh_seconds
    )
    app.wsgi_app = published = PublishedDocuments(app.wsgi_app, settings.keys.refresh_seconds)
    ring.on_invalidate.append(published.forget)
    app.extensions["idp.published"] = published
    hops = settings.server.trusted_proxy_hops
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.wsgi_app = HostCheck(app.wsgi_app)

    db.init_app(app)
    security.init_app(app)  # its checks run before anything reads the request body
    i18n.init_app(app)
    sso.init_app(app)
    language_choice.init_app(app)
    server.init_app(app)
    par.init_app(app)
    errors.init_app(app)
    backchannel.init_app(app)
    outbox.init_app(app)
    metrics.init_app(app)
    health.init_app(app)
    logging_setup.init_app(app)

    from .account import routes as account
    from .auth import routes as auth
    from .employer.routes import bp as employer_bp
    from .oidc.routes import bp as oidc_bp

    app.register_blueprint(oidc_bp)
    logout.init_app(app)
    registration.init_app(app)
    auth.init_app(app)  # the sign-in screens, registered for the protocol's prompts
    account.init_app(app)
    helpdesk.init_app(app)
    app.register_blueprint(employer_bp)
    app.add_url_rule("/", "index", lambda: app.redirect("/account"))
    return app
