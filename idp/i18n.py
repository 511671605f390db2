"""Locale choice: ui_locales of the request, then the member's choice, then the browser."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, has_request_context, request, session
from flask_babel import Babel, get_locale
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from .extensions import settings
from .timezones import time_zone_label

TRANSLATIONS_DIR = Path(__file__).parent / "translations"


def _requested_ui_locales() -> str:
    """ui_locales from the query or form; an unreadable body (too large, bad) counts as none."""
    try:
        return request.values.get("ui_locales", "")
    except HTTPException:
        return request.args.get("ui_locales", "")


def remember_requested_locale() -> None:
    """Before-request: a language asked for by ui_locales or the language links sticks."""
    locales = settings().i18n.locales
    # OIDC Core §3.1.2.1: ui_locales is a space-separated list in order of preference.
    wanted = [tag.split("-")[0].lower() for tag in _requested_ui_locales().split()]
    wanted.append(request.args.get("lang", ""))
    chosen = next((language for language in wanted if language in locales), None)
    if chosen:
        session["locale"] = chosen


def select_locale() -> str:
    if not has_request_context():
        return "en"  # the operator CLI speaks English, like the rest of its output
    locales = settings().i18n.locales
    if session.get("locale") in locales:
        return session["locale"]
    return request.accept_languages.best_match(locales) or settings().i18n.default_locale


def url_with_language(language: str) -> str:
    """This page in another language, keeping its query (a pending sign-in survives)."""
    try:
        args = MultiDict(request.args)
    except UnicodeDecodeError:  # a raw non-UTF-8 query, already refused with 400: drop it
        args = MultiDict()
    args["lang"] = language
    return f"{request.path}?{urlencode(list(args.items(multi=True)))}"


def init_app(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    app.config["BABEL_DEFAULT_LOCALE"] = app.extensions["idp.settings"].i18n.default_locale
    # Times shown to members (lock expiry, security log) are local; stored times stay UTC.
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.extensions["idp.settings"].i18n.timezone
    Babel(app, locale_selector=select_locale)
    app.before_request(remember_requested_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["url_with_language"] = url_with_language
    app.jinja_env.globals["time_zone_label"] = time_zone_label
