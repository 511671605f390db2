"""/help and the layout around every page: contacts from [help], the footer's help link, error
pages in one language, times with their zone, the language saved to the member's profile."""

from __future__ import annotations

import pytest

from idp.db import db
from idp.models import Member

from .helpers import PASSWORD


def test_help_page_covers_the_safety_advice_with_contacts_from_config(make_app):
    app = make_app(help={"helpdesk_phone": "021 555 0100", "helpdesk_email": "bantuan@portal.id",
                         "portal_host": "portal.example.id"})  # fmt: skip
    page = app.test_client().get("/help?lang=en")
    assert page.status_code == 200
    expected = ("Signing in", "Registering for online access", "Lost phone or email address",
                "Sign-in locked", "Recognising the real portal", "never ask for your password",
                "phishing", "021 555 0100", "bantuan@portal.id", "portal.example.id")  # fmt: skip
    for words in expected:
        assert words in page.text, words
    assert 'href="tel:0215550100"' in page.text


def test_help_page_speaks_bahasa_by_default(client):
    page = client.get("/help")
    assert '<html lang="id">' in page.text and "Mengenali portal yang asli" in page.text


@pytest.mark.parametrize("path", ["/login", "/account/activate", "/account/reset", "/help"])
def test_every_page_has_the_footer_with_help_and_contact(client, path):
    page = client.get(path)
    assert 'href="/help"' in page.text and 'href="/help#contact"' in page.text
    assert "1500 910" in page.text  # the default helpdesk number


def test_unknown_help_settings_are_refused(make_config):
    from idp.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="help"):
        load_settings(make_config(help={"fax": "1"}), environ={})


def test_404_page_is_in_one_language(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert "Halaman tidak ditemukan" in page.text
    assert "The requested URL was not found" not in page.text  # Werkzeug's English text
    assert 'href="/help"' in page.text


def test_lockout_page_links_to_help(actions, make_app):
    actions.create_member()
    for _ in range(5):
        page = actions.sign_in("siti@example.id", "wrong password here")
    page = actions.sign_in("siti@example.id", "wrong password here")
    assert page.status_code == 403
    assert 'href="/help#locked"' in page.text


def test_favicon_and_logo_are_served(client):
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
        assert b"<svg" in icon.data
    with client.get("/static/logo.svg") as logo:
        assert logo.status_code == 200
    assert 'rel="icon"' in client.get("/login").text


def test_times_on_account_pages_name_their_zone(actions, client):
    actions.create_member()
    actions.sign_in("siti@example.id")
    for path in ("/account/security", "/account/sessions"):
        page = client.get(f"{path}?lang=en")
        assert "(WIB)" in page.text, path
        assert "UTC" not in page.text, path


def test_a_language_choice_is_saved_to_the_signed_in_members_profile(actions, client, app):
    member = actions.create_member(password=PASSWORD)
    actions.sign_in("siti@example.id")
    client.get("/account?lang=en")
    with app.app_context():
        assert db.session.get(Member, member["id"]).locale == "en"
    client.get("/help?lang=id")
    with app.app_context():
        assert db.session.get(Member, member["id"]).locale == "id"


def test_a_language_choice_without_a_session_changes_no_profile(actions, client, app):
    member = actions.create_member()
    client.get("/login?lang=en")
    with app.app_context():
        assert db.session.get(Member, member["id"]).locale == "id"


def test_ui_locales_alone_does_not_change_the_profile(actions, client, app):
    """ui_locales is a relying party's hint for this sign-in (Core §3.1.2.1), not a choice."""
    member = actions.create_member()
    actions.sign_in("siti@example.id")
    client.get("/account?ui_locales=en")
    with app.app_context():
        assert db.session.get(Member, member["id"]).locale == "id"
