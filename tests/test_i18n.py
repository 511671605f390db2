"""Bahasa Indonesia first, English second: a complete, compiled catalogue and locale choice."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).parent.parent
CATALOGUE = ROOT / "idp" / "translations" / "id" / "LC_MESSAGES"
METHODS = [
    ("idp/**.py", "python"),
    ("idp/templates/**.html", "jinja2"),
    ("idp/templates/**.txt", "jinja2"),
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def _source_messages() -> set[str]:
    found = extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS, comment_tags=())
    return {message[2] for message in found if isinstance(message[2], str)}


def _po():
    with open(CATALOGUE / "messages.po", encoding="utf-8") as handle:
        return read_po(handle, locale="id")


def test_every_source_string_has_an_indonesian_translation():
    catalogue = _po()
    for msgid in sorted(_source_messages()):
        message = catalogue.get(msgid)
        assert message is not None, f"not in messages.po (run scripts/translations): {msgid!r}"
        assert message.string, f"untranslated: {msgid!r}"
        assert not message.fuzzy, f"fuzzy: {msgid!r}"
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(message.string))


def test_compiled_catalogue_matches_the_po_file():
    def plain(value):  # plural entries: lists in the .mo reader, tuples in the .po reader
        return tuple(value) if isinstance(value, list | tuple) else value

    with open(CATALOGUE / "messages.mo", "rb") as handle:
        compiled = {plain(m.id): plain(m.string) for m in read_mo(handle) if m.id}
    source = {plain(m.id): plain(m.string) for m in _po() if m.id}
    assert compiled == source, "messages.mo is stale: run scripts/translations compile"


def test_default_language_is_indonesian(client):
    page = client.get("/login")
    assert '<html lang="id">' in page.text
    assert "Masuk" in page.text and "Kata sandi" in page.text


@pytest.mark.parametrize(
    ("query", "headers", "lang"),
    [
        ("", {"Accept-Language": "en-US,en;q=0.9"}, "en"),
        ("?ui_locales=en", {}, "en"),
        ("?ui_locales=fr%20id", {"Accept-Language": "en"}, "id"),
        ("?ui_locales=en-GB", {}, "en"),
        ("?lang=en", {}, "en"),
    ],
)
def test_language_choice(client, query, headers, lang):
    page = client.get(f"/login{query}", headers=headers)
    assert f'<html lang="{lang}">' in page.text
    assert ("Sign in" in page.text) == (lang == "en")


def test_chosen_language_sticks_for_the_browser(client):
    client.get("/login?lang=en")
    assert '<html lang="en">' in client.get("/login").text


def test_ui_locales_at_authorize_carries_to_the_sign_in_page(client, actions):
    client_id, _ = actions.create_client(first_party=True)
    params, _ = actions.authorize_params(client_id, ui_locales="en")
    login = actions.authorize(params).headers["Location"]
    assert '<html lang="en">' in client.get(login).text


def test_failed_sign_in_message_is_indonesian_by_default(actions):
    actions.create_member()
    page = actions.sign_in("siti@example.id", "wrong password here")
    assert "Email, nomor kepesertaan, atau kata sandi salah." in page.text


def test_language_links_keep_the_pending_request(client, actions):
    actions.create_member()
    client_id, _ = actions.create_client()
    actions.sign_in("siti@example.id")
    consent_url = actions.authorize(actions.authorize_params(client_id)[0]).headers["Location"]
    page = client.get(consent_url)
    link = re.search(r'href="([^"]*lang=en[^"]*)"', page.text).group(1).replace("&amp;", "&")
    english = client.get(link)
    assert english.status_code == 200
    assert '<html lang="en">' in english.text and 'value="allow"' in english.text
