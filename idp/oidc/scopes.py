"""Plain-language descriptions of what each scope releases, for the consent screen."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..models.oauth import scope_list

SCOPE_DESCRIPTIONS = {
    "openid": _l("Know that it is you (an anonymous identifier, not your NIK)"),
    "profile": _l("Your name, date of birth and language"),
    "email": _l("Your email address"),
    "phone": _l("Your phone number"),
    "address": _l("Your address"),
    "membership": _l("Your membership number and employer"),
    "roles": _l("Your roles at the agency or your employer (for example employer administrator)"),
    "offline_access": _l("Keep access to these details after you sign out"),
}


def describe_scopes(scope: str) -> list[str]:
    return [str(SCOPE_DESCRIPTIONS[s]) for s in scope_list(scope) if s in SCOPE_DESCRIPTIONS]
