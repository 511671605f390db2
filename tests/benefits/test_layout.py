"""The layout around every benefits page: footer with the IdP's help in the language on screen,
the current page marked, error pages in one language."""

from __future__ import annotations

from .conftest import signed_in


def test_footer_links_to_the_identity_providers_help_in_the_language_on_screen(plain_client):
    page = plain_client.get("/")
    assert 'href="http://127.0.0.1:9/help?lang=id"' in page.text
    page = plain_client.get("/?lang=en")
    assert 'href="http://127.0.0.1:9/help?lang=en#contact"' in page.text


def test_current_page_and_language_are_marked(benefits_app, benefits_client):
    signed_in(benefits_app, benefits_client)
    page = benefits_client.get("/claims")
    assert '<a href="/claims" aria-current="page">' in page.text
    assert 'hreflang="en" aria-current="true"' in page.text


def test_404_page_has_no_english_from_werkzeug(plain_client):
    page = plain_client.get("/no-such-page")
    assert page.status_code == 404
    assert "Halaman tidak ditemukan" in page.text
    assert "The requested URL was not found" not in page.text


def test_favicon_is_linked(plain_client):
    assert 'rel="icon" href="/static/favicon.svg"' in plain_client.get("/").text
