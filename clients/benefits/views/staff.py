"""Claims officers' pages: the queue, one claim with its documents, and its next step."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from .. import staff
from ..access import staff_required
from ..claims import NEXT_STATUSES, ClaimTransitionError
from ..models import Claim
from .claims import send_document

bp = Blueprint("staff", __name__, url_prefix="/staff")


def _claim_or_404(claim_id: int) -> Claim:
    claim = staff.find_in_queue(g.person, claim_id)
    if claim is None:
        abort(404)
    return claim


def _render(claim: Claim, form: staff.MoveForm | None = None, status: int = 200):
    return render_template(
        "staff/claim.html", claim=claim, next_statuses=sorted(NEXT_STATUSES[claim.status]),
        form=form or staff.MoveForm("", "", {}), staff_view=True,
    ), status  # fmt: skip


@bp.get("/claims")
@staff_required
def queue() -> ResponseReturnValue:
    return render_template("staff/queue.html", claims=staff.queue(g.person))


@bp.get("/claims/<int:claim_id>")
@staff_required
def claim(claim_id: int) -> ResponseReturnValue:
    return _render(_claim_or_404(claim_id))


@bp.post("/claims/<int:claim_id>")
@staff_required
def move(claim_id: int) -> ResponseReturnValue:
    claim = _claim_or_404(claim_id)
    form = staff.check_move(request.form)
    if form.errors:
        return _render(claim, form, 400)
    try:
        mailed = staff.process(claim, form, g.person)
    except ClaimTransitionError:
        form.errors["status"] = _("This claim cannot take that step from where it is now.")
        return _render(claim, form, 409)
    flash(_("Claim #%(number)d moved on.", number=claim.id))
    if not mailed:
        flash(_("The member could not be emailed; they see the change on their claim's page."))
    return redirect(url_for("staff.queue"))


@bp.get("/claims/<int:claim_id>/documents/<int:document_id>")
@staff_required
def document(claim_id: int, document_id: int) -> ResponseReturnValue:
    return send_document(_claim_or_404(claim_id), document_id)
