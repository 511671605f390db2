"""Yearly e-statements: a list of years and each year's PDF."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, g, render_template
from flask.typing import ResponseReturnValue

from .. import ledger
from ..access import current_member, member_required
from ..clock import today, utcnow
from ..statement_pdf import statement_pdf

bp = Blueprint("statements", __name__)


@bp.get("/statements")
@member_required
def index() -> ResponseReturnValue:
    return render_template(
        "statements.html", years=ledger.years(g.membership_number), current_year=today().year
    )


@bp.get("/statements/<int:year>.pdf")
@member_required
def download(year: int) -> ResponseReturnValue:
    if year not in ledger.years(g.membership_number):
        abort(404)
    items = [ledger.statement(g.membership_number, p, year) for p in ledger.SAVINGS]
    settings = current_app.extensions["benefits.settings"]
    pdf = statement_pdf(current_member(), year, items, utcnow(), today(), settings.server.base_url)
    name = f"statement-{g.membership_number}-{year}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
