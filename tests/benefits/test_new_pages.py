"""Program explainers in both languages, linked from the dashboard's cards; clear empty states
for a member with no contributions; and the new pages built to fit a 360 px screen."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from clients.benefits.db import db
from clients.benefits.seed import seed_demo_ledger

from .conftest import DEMO_NUMBER, document, signed_in, staff_signed_in

CSS = Path(__file__).parents[2] / "clients" / "benefits" / "static" / "benefits.css"
EXPLAINERS = {
    "jkk": ("Work accident (JKK)", "Jaminan Kecelakaan Kerja (JKK)", "Medical care"),
    "jkm": ("Death benefit (JKM)", "Jaminan Kematian (JKM)", "funeral"),
    "jht": ("Old-age savings (JHT)", "Jaminan Hari Tua (JHT)", "5.7%"),
    "jp": ("Pension (JP)", "Jaminan Pensiun (JP)", "15 years"),
}


@pytest.mark.parametrize("code", EXPLAINERS)
def test_each_program_is_explained_in_both_languages(benefits_app, code):
    english, indonesian, detail = EXPLAINERS[code]
    client = benefits_app.test_client()
    page = client.get(f"/programs/{code}?lang=en")
    assert page.status_code == 200  # open to anyone, signed in or not
    assert f"<h1>{english}</h1>" in page.text and detail in page.text
    assert 'aria-current="page"' in page.text
    assert "%%" not in page.text
    bahasa = client.get(f"/programs/{code}?lang=id").text
    assert f"<h1>{indonesian}</h1>" in bahasa
    assert client.get("/programs/bpjs").status_code == 404


def test_dashboard_cards_link_to_the_explainers(benefits_app, benefits_client, benefits_clock):
    with benefits_app.app_context():
        seed_demo_ledger(DEMO_NUMBER, benefits_clock.now())
        db.session.commit()
    signed_in(benefits_app, benefits_client)
    page = benefits_client.get("/").text
    for code in EXPLAINERS:
        card = re.search(rf'id="(balance|coverage)-{code.upper()}">.*?</article>', page, re.S)[0]
        assert f'href="/programs/{code}"' in card
    assert 'href="/planning"' in page and 'id="no-contributions"' not in page


def test_a_member_with_no_contributions_sees_empty_states(benefits_app, benefits_client):
    signed_in(benefits_app, benefits_client)
    dashboard = benefits_client.get("/").text
    assert 'id="no-contributions"' in dashboard and "<svg" not in dashboard
    assert "No contributions are recorded for you yet" in dashboard
    statements = benefits_client.get("/statements").text
    assert 'id="statements-empty"' in statements


class _Page(HTMLParser):
    """Collects what decides a page's width: inline styles, fixed widths, table columns."""

    def __init__(self) -> None:
        super().__init__()
        self.styles, self.widths, self.columns, self.svgs = [], [], [], []
        self._header_cells = None
        self._stacked = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "style" in attributes:
            self.styles.append(tag)
        if "width" in attributes and tag != "svg":
            self.widths.append(tag)
        if tag == "svg":
            self.svgs.append(attributes)
        if tag == "table":
            self._stacked = "stack" in attributes.get("class", "").split()
        if tag == "thead":
            self._header_cells = 0
        if tag == "th" and self._header_cells is not None:
            self._header_cells += 1

    def handle_endtag(self, tag):
        if tag == "thead":
            # A table that stacks into cards on phones may be as wide as it likes.
            self.columns.append(0 if self._stacked else self._header_cells)
            self._header_cells = None


def _file_claim(client) -> int:
    answer = client.post(
        "/claims/new/jkm",
        data={"csrf_token": "csrf-test", "deceased_number": "44455566677",
              "relationship": "child", "date_of_death": "2025-01-15",
              "bank_account": "1234567890", "document": document()},
        content_type="multipart/form-data",
    )  # fmt: skip
    return int(answer.headers["Location"].rsplit("/", 1)[1])


def test_new_pages_fit_a_narrow_screen(benefits_app, benefits_client, benefits_clock):
    with benefits_app.app_context():
        seed_demo_ledger(DEMO_NUMBER, benefits_clock.now())
        db.session.commit()
    signed_in(benefits_app, benefits_client, birthdate="1985-03-01")
    claim_id = _file_claim(benefits_client)
    officer = benefits_app.test_client()
    staff_signed_in(benefits_app, officer)
    member_paths = ("/claims", "/claims/new/jht", "/claims/new/jp", "/claims/new/jkk",
                    "/claims/new/jkm", f"/claims/{claim_id}", "/planning?extra=100000",
                    "/programs/jp", "/statements")  # fmt: skip
    pages = [benefits_client.get(path).text for path in member_paths]
    pages += [officer.get(path).text for path in ("/staff/claims", f"/staff/claims/{claim_id}")]
    for html in pages:
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        page = _Page()
        page.feed(html)
        assert page.styles == [] and page.widths == []  # sizes come from the stylesheet only
        # tables stay narrow, or stack into cards (class="stack")
        assert all(count <= 3 for count in page.columns), page.columns
        for svg in page.svgs:  # charts scale down with the page
            assert svg.get("class") == "chart" and "viewbox" in svg  # (names lower-cased)
    css = CSS.read_text()
    # charts scale down, or scroll inside their own box; rules for narrow screens exist
    assert ".scroll { max-width: 100%; overflow-x: auto; }" in css and "@media (max-width" in css
    assert "max-width: 100%" in css  # form controls never push the page wider
