"""The yearly e-statement PDF: parsed back, opening + contributions + development = closing."""

from __future__ import annotations

import io
import re

from flask_babel import force_locale, format_date
from pypdf import PdfReader

from clients.benefits import ledger
from clients.benefits.clock import today
from clients.benefits.db import db
from clients.benefits.money import parse_rupiah
from clients.benefits.seed import seed_demo_ledger

from .conftest import DEMO_NUMBER, signed_in

FIGURES = ("Opening balance", "Contributions", "Development", "Closing balance")


def _figures(text: str, program_heading: str) -> list[int]:
    section = text.split(program_heading, 1)[1]
    return [
        parse_rupiah(re.search(rf"{label}\s*(-?Rp [\d.]+)", section).group(1)) for label in FIGURES
    ]


def test_every_yearly_statement_adds_up_to_the_rupiah(live_benefits):
    live_benefits.sign_in()
    page = live_benefits.get("/statements?lang=en")
    years = [int(y) for y in re.findall(r"/statements/(\d{4})\.pdf", page.text)]
    assert len(years) >= 5
    with live_benefits.app.test_request_context(), force_locale("en"):
        this_year = today().year
        issued = format_date(today(), "long")
    assert this_year in years and f"Statement {this_year} to date (PDF)" in page.text
    for year in years:
        answer = live_benefits.get(f"/statements/{year}.pdf")
        assert answer.status_code == 200
        assert answer.headers["Content-Type"] == "application/pdf"
        assert answer.content.startswith(b"%PDF-")
        text = PdfReader(io.BytesIO(answer.content)).pages[0].extract_text()
        assert "Siti Rahayu" in text and DEMO_NUMBER in text
        assert "Benefits Service" in text.splitlines()[0]  # the letterhead
        if year == this_year:
            assert f"Statement {year} to date" in text
            assert f"January 1, {year} - {issued} (to date)" in text
        else:
            assert f"Annual statement {year}" in text
            assert f"January 1, {year} - December 31, {year}" in text
        assert f"Issued on: {issued}" in text
        for program, heading in (("JHT", "(JHT)"), ("JP", "(JP)")):
            opening, contributions, development, closing = _figures(text, heading)
            assert opening + contributions + development == closing, (year, program)
            with live_benefits.app.app_context():
                assert ledger.statement(DEMO_NUMBER, program, year) == ledger.Statement(
                    program, year, opening, contributions, development, closing
                )
    # One year's closing balance is the next year's opening balance.
    with live_benefits.app.app_context():
        chain = [ledger.statement(DEMO_NUMBER, "JHT", y) for y in sorted(years)]
    assert all(a.closing == b.opening for a, b in zip(chain, chain[1:], strict=False))


def test_statement_of_a_year_without_contributions_is_not_found(live_benefits):
    live_benefits.sign_in()
    assert live_benefits.get("/statements/1990.pdf").status_code == 404


def test_the_statement_speaks_indonesian_by_default(benefits_app, plain_client, benefits_clock):
    with benefits_app.app_context():
        seed_demo_ledger(DEMO_NUMBER, benefits_clock.now())
        db.session.commit()
        year = ledger.years(DEMO_NUMBER)[1]
    signed_in(benefits_app, plain_client)
    text = (
        PdfReader(io.BytesIO(plain_client.get(f"/statements/{year}.pdf").data))
        .pages[0]
        .extract_text()
    )
    assert f"Laporan tahunan {year}" in text
    assert text.startswith("Layanan Manfaat\nManfaat jaminan sosial bagi peserta")
    assert "Diterbitkan pada:" in text
    assert f"1 Januari {year} - 31 Desember {year}" in text
    assert "Jaminan Hari Tua (JHT)" in text and "Hasil pengembangan" in text
    opening, contributions, development, closing = (
        parse_rupiah(re.search(rf"{label}\s*(Rp [\d.]+)", text).group(1))
        for label in ("Saldo awal", "Iuran", "Hasil pengembangan", "Saldo akhir")
    )
    assert opening + contributions + development == closing
