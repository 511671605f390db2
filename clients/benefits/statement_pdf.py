"""The yearly e-statement as a PDF (fpdf2): opening + contributions + development = closing."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_date
from flask_babel import gettext as _
from fpdf import FPDF

from .labels import PROGRAMS
from .ledger import Statement
from .money import rupiah


def _latin1(text: str) -> str:
    """The PDF core fonts speak Latin-1; anything else becomes '?' rather than failing."""
    return text.encode("latin-1", "replace").decode("latin-1")


def statement_pdf(member: dict, year: int, statements: list[Statement], created: datetime) -> bytes:
    """One page: who, which period, and per savings program the four figures."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(created)
    pdf.set_title(_latin1(_("Annual statement %(year)d", year=year)))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(
        0, 10, _latin1(_("Annual statement %(year)d", year=year)), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", size=11)
    period = f"{format_date(date(year, 1, 1), 'long')} - {format_date(date(year, 12, 31), 'long')}"
    for label, value in (
        (_("Name"), member.get("name") or "-"),
        (_("Membership number"), member["membership_number"]),
        (_("Period"), period),
    ):
        pdf.cell(55, 7, _latin1(label + ":"))
        pdf.cell(0, 7, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    for item in statements:
        pdf.ln(6)
        pdf.set_font("Helvetica", "B", 13)
        pdf.cell(0, 9, _latin1(str(PROGRAMS[item.program])), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        for label, amount in (
            (_("Opening balance"), item.opening),
            (_("Contributions"), item.contributions),
            (_("Development"), item.development),
            (_("Closing balance"), item.closing),
        ):
            pdf.cell(70, 7, _latin1(label))
            pdf.cell(60, 7, rupiah(amount), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("Helvetica", "I", 9)
    pdf.multi_cell(0, 5, _latin1(_("Balances count paid contributions by the month they pay for; "
                                   "development is credited on 31 December.")))  # fmt: skip
    return bytes(pdf.output())
