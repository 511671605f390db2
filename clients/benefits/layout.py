"""What every page's header and footer need: where the member gets help (the identity
provider's /help) and the page they are on."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, current_app
from flask_babel import get_locale


def layout_context() -> dict:
    """The IdP's help page in the language on screen (its `lang` link sticks there too)."""
    issuer = current_app.extensions["benefits.settings"].oidc.issuer.rstrip("/")
    return {"help_url": f"{issuer}/help?{urlencode({'lang': str(get_locale())})}"}


def init_app(app: Flask) -> None:
    app.context_processor(layout_context)
