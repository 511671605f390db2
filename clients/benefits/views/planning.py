"""Retirement planning: the member's JHT projection and JP pension estimate, with a what-if."""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from .. import retirement
from ..access import current_member, member_required
from ..chart import projection_chart
from ..clock import today
from ..money import rupiah

bp = Blueprint("planning", __name__)


@bp.get("/planning")
@member_required
def index() -> ResponseReturnValue:
    conf = current_app.extensions["benefits.settings"].planning
    form = retirement.check_form(request.args, current_member().get("birthdate"), today(), conf)
    if form.errors:
        return render_template("planning.html", form=form, plan=None, conf=conf), 400
    plan = retirement.plan_for(g.membership_number, form, conf)
    chart = None
    if plan is not None:
        lines = [(_("Current contributions"), plan.base)]
        if plan.extra:
            lines.append((_("With Rp %(amount)s more a month", amount=rupiah(plan.extra)[3:]),
                          plan.with_extra))  # fmt: skip
        chart = projection_chart(
            plan.ages,
            lines,
            _("Projected JHT balance"),
            _(
                "Projected JHT balance at each age from %(first)d to %(last)d: "
                "%(amount)s at %(last)d.",
                first=plan.ages[0], last=plan.ages[-1], amount=rupiah(plan.base[-1]),
            ),
        )  # fmt: skip
    return render_template("planning.html", form=form, plan=plan, chart=chart, conf=conf)
