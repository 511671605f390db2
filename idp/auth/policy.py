"""Password policy per NIST SP 800-63B §5.1.1.2: length, a blocklist, no personal data.

No composition rules and no expiry. The blocklist is a gzip file of common passwords, one per
line, lower-cased; it is read once per process.
"""

from __future__ import annotations

import gzip
import unicodedata
from datetime import date
from functools import cache
from pathlib import Path

from flask_babel import gettext as _

from ..extensions import settings

BLOCKLIST = Path(__file__).parent.parent / "data" / "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(BLOCKLIST, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def _personal_fragments(
    *, name: str = "", email: str = "", membership_number: str = "", nik: str = "",
    birthdate: date | None = None,
) -> list[str]:  # fmt: skip
    fragments = [part for part in name.lower().split() if len(part) >= 3]
    fragments.append(email.split("@")[0].lower())
    fragments += [membership_number, nik]
    if birthdate:
        fragments += [
            birthdate.strftime("%d%m%Y"),
            birthdate.strftime("%Y%m%d"),
            birthdate.strftime("%d%m%y"),
            birthdate.isoformat(),
        ]
    return [f for f in fragments if f and len(f) >= 3]


def password_problem(password: str, **personal) -> str | None:
    """Why this password is refused, in the member's language, or None if it is acceptable."""
    conf = settings().passwords
    normalized = unicodedata.normalize("NFKC", password)
    if len(normalized) < conf.min_length:
        return _("Use at least %(n)d characters.", n=conf.min_length)
    if len(normalized) > conf.max_length:
        return _("Use at most %(n)d characters.", n=conf.max_length)
    lowered = normalized.lower()
    if lowered in common_passwords():
        return _("This password is too common; choose another.")
    if any(fragment in lowered for fragment in _personal_fragments(**personal)):
        return _("Do not use your name, email, membership number, NIK or date of birth.")
    return None
