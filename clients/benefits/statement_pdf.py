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


def _letterhead(pdf: FPDF, base_url: str) -> None:
    """The sender at the top of every statement: name, address on the web, a rule."""
    pdf.set_text_color(11, 110, 79)
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 9, _latin1(_("Benefits Service")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(87, 96, 106)
    pdf.set_font("Helvetica", size=9)
    pdf.cell(0, 5, _latin1(_("Social security benefits for members") + " · " + base_url),
             new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.set_draw_color(11, 110, 79)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.w - pdf.r_margin, pdf.get_y() + 2)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(8)


def statement_pdf(member: dict, year: int, statements: list[Statement], created: datetime,
                  issued_on: date, base_url: str) -> bytes:  # fmt: skip
    """One page: letterhead, who, which period, and per savings program the four figures.

    A statement of the current year runs to its issue date ("to date"), not to 31 December."""
    to_date = issued_on.year == year
    title = (
        _("Statement %(year)d to date", year=year)
        if to_date
        else _("Annual statement %(year)d", year=year)
    )
    pdf = FPDF(format="A4")
    pdf.set_creation_date(created)
    pdf.set_title(_latin1(title))
    pdf.add_page()
    _letterhead(pdf, base_url)
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    end = issued_on if to_date else date(year, 12, 31)
    period = f"{format_date(date(year, 1, 1), 'long')} - {format_date(end, 'long')}"
    if to_date:
        period += " " + _("(to date)")
    for label, value in (
        (_("Name"), member.get("name") or "-"),
        (_("Membership number"), member["membership_number"]),
        (_("Period"), period),
        (_("Issued on"), format_date(issued_on, "long")),
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
