"""Contribution history month by month, filtered by year, and its CSV export."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, g, render_template, request
from flask.typing import ResponseReturnValue

from .. import ledger
from ..access import member_required

bp = Blueprint("contributions", __name__)
CSV_COLUMNS = ("month", "program", "employer", "employer_share", "employee_share", "total",
               "status", "due_date", "paid_date")  # fmt: skip


def _chosen_year(years: list[int]) -> int | None:
    wanted = request.args.get("year", type=int)
    if wanted is None:
        return years[0] if years else None
    if wanted not in years:
        abort(404)
    return wanted


@bp.get("/contributions")
@member_required
def history() -> ResponseReturnValue:
    years = ledger.years(g.membership_number)
    year = _chosen_year(years)
    rows = ledger.contributions(g.membership_number, year) if year else []
    return render_template("contributions.html", years=years, year=year, rows=rows)


def _cell(value: object) -> str:
    """OWASP CSV injection: a cell never starts as a spreadsheet formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/contributions.csv")
@member_required
def export() -> ResponseReturnValue:
    years = ledger.years(g.membership_number)
    year = _chosen_year(years)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in ledger.contributions(g.membership_number, year) if year else []:
        writer.writerow(
            _cell(v)
            for v in (
                row.month.isoformat()[:7],
                row.program,
                row.employer_name,
                row.employer_share,
                row.employee_share,
                row.total,
                row.status,
                row.due_date,
                row.paid_date,
            )  # fmt: skip
        )
    name = f"contributions-{g.membership_number}-{year}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
