"""The benefits app's own catalogue: every string translated to Indonesian, .mo compiled."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[2]
CATALOGUE = ROOT / "clients" / "benefits" / "translations" / "id" / "LC_MESSAGES"
METHODS = [
    ("clients/benefits/**.py", "python"),
    ("clients/benefits/templates/**.html", "jinja2"),
    ("clients/benefits/templates/**.txt", "jinja2"),
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _source_messages() -> set[str]:
    found = extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS, comment_tags=())
    return {message[2] for message in found if isinstance(message[2], str)}


def _po():
    with open(CATALOGUE / "messages.po", encoding="utf-8") as handle:
        return read_po(handle, locale="id")


def test_every_source_string_has_an_indonesian_translation():
    catalogue = _po()
    messages = _source_messages()
    assert len(messages) > 50
    for msgid in sorted(messages):
        message = catalogue.get(msgid)
        assert message is not None, (
            f"not in messages.po (run clients/benefits/translations.sh): {msgid!r}"
        )
        assert message.string, f"untranslated: {msgid!r}"
        assert not message.fuzzy, f"fuzzy: {msgid!r}"
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(message.string))


def test_compiled_catalogue_matches_the_po_file():
    with open(CATALOGUE / "messages.mo", "rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    source = {m.id: m.string for m in _po() if m.id}
    assert compiled == source, "messages.mo is stale: run clients/benefits/translations.sh compile"
