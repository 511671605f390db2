"""Bahasa Indonesia by default, English on request: the language links, then the member's
`locale` claim (OIDC Core §5.1), then the browser."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, has_request_context, request, session
from flask_babel import Babel, format_date, format_percent, get_locale

from . import labels
from .money import rupiah

LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"


def remember_chosen_locale() -> None:
    """Before-request: a language picked with ?lang= sticks for this browser."""
    chosen = request.args.get("lang", "")
    if chosen in LOCALES and session.get("locale") != chosen:
        session["locale"] = chosen


def select_locale() -> str:
    if not has_request_context():
        return "en"  # the CLI speaks English
    if session.get("locale") in LOCALES:
        return session["locale"]
    claimed = str((session.get("member") or {}).get("locale") or "").split("-")[0].lower()
    if claimed in LOCALES:
        return claimed
    return request.accept_languages.best_match(LOCALES) or DEFAULT_LOCALE


def url_with_language(language: str) -> str:
    args = request.args.to_dict()
    args["lang"] = language
    return f"{request.path}?{urlencode(args)}"


def month_name(month) -> str:
    """'Januari 2024' or 'January 2024'."""
    return format_date(month, "MMMM yyyy")


def percent(basis_points: int) -> str:
    """Basis points as the member writes a percentage: '5,5%' or '5.5%'."""
    return format_percent(basis_points / 10_000, "#,##0.##%")


def init_app(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LOCALE
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Jakarta"
    Babel(app, locale_selector=select_locale)
    app.before_request(remember_chosen_locale)
    app.jinja_env.globals.update(
        get_locale=get_locale, url_with_language=url_with_language, labels=labels
    )
    app.jinja_env.filters.update(rupiah=rupiah, month=month_name, percent=percent)
