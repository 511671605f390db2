"""Filing JHT and JKK claims (a second factor required) and the claims history."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from .. import claims
from ..access import acr_required, member_required
from ..db import db
from ..labels import JHT_REASONS

bp = Blueprint("claims", __name__, url_prefix="/claims")
FORMS = {
    "jht": ("JHT", claims.check_jht, "claims/jht.html"),
    "jkk": ("JKK", claims.check_jkk, "claims/jkk.html"),
}


@bp.get("")
@member_required
def index() -> ResponseReturnValue:
    return render_template("claims/index.html", claims=claims.claims_of(g.membership_number))


@bp.route("/new/<kind>", methods=["GET", "POST"])
@member_required
@acr_required("mfa")
def new(kind: str) -> ResponseReturnValue:
    if kind not in FORMS:
        abort(404)
    program, check, template = FORMS[kind]
    if request.method == "GET":
        return render_template(template, form=claims.ClaimForm({}, {}), reasons=JHT_REASONS)
    form = check(request.form)
    if form.errors:
        return render_template(template, form=form, reasons=JHT_REASONS), 400
    claim = claims.file_claim(g.membership_number, program, form.values)
    db.session.commit()
    flash(_("Your claim was submitted. We will let you know as it moves on."))
    return redirect(url_for("claims.detail", claim_id=claim.id))


@bp.get("/<int:claim_id>")
@member_required
def detail(claim_id: int) -> ResponseReturnValue:
    claim = claims.find_claim(g.membership_number, claim_id)
    if claim is None:
        abort(404)
    return render_template("claims/detail.html", claim=claim)
