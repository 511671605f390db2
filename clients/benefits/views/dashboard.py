"""The landing page: a welcome to sign in, or the member's programs at a glance."""

from __future__ import annotations

from flask import Blueprint, flash, g, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from .. import ledger
from ..access import current_member, member_required
from ..chart import balance_chart
from ..clock import today
from ..i18n import month_name
from ..oidc import signed_out_here

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def home() -> ResponseReturnValue:
    if signed_out_here():
        flash(_("You are signed out."))
    if current_member() is None:
        return render_template("welcome.html")
    return dashboard()


@member_required
def dashboard() -> ResponseReturnValue:
    number = g.membership_number
    history = ledger.balance_history(number, "JHT")
    chart = balance_chart(
        history,
        _("JHT balance over time"),
        _(
            "Month-end balance of your old-age savings (JHT), from %(first)s to %(last)s.",
            first=month_name(history[0][0]),
            last=month_name(history[-1][0]),
        )  # fmt: skip
        if history
        else _("No contributions yet."),
    )
    # The chart's text alternative: each year's closing point and the latest month.
    year_ends = [p for i, p in enumerate(history) if p[0].month == 12 or i == len(history) - 1]
    return render_template(
        "dashboard.html",
        balances=[ledger.balance(number, p) for p in ledger.SAVINGS],
        coverages=[ledger.coverage(number, p, today()) for p in ledger.COVERAGE],
        chart=chart,
        year_ends=year_ends,
    )
