"""Filing claims of every program (a second factor required), the claims history, and the
member's own supporting documents."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from .. import claims, documents
from ..access import acr_required, signed_in_required
from ..labels import JHT_REASONS, JP_KINDS, JP_SURVIVORS, RELATIONSHIPS
from ..models import Claim, ClaimDocument

bp = Blueprint("claims", __name__, url_prefix="/claims")


def _kinds_for_person() -> dict[str, claims.ClaimKind]:
    """The kinds this person can file: without a membership, only an heir's claims."""
    return {
        name: kind
        for name, kind in claims.KINDS.items()
        if g.person.membership_number or not kind.needs_membership
    }


@bp.get("")
@signed_in_required
def index() -> ResponseReturnValue:
    return render_template(
        "claims/index.html", claims=claims.claims_of(g.person), kinds=_kinds_for_person()
    )


def _render_form(name: str, kind: claims.ClaimKind, form: claims.ClaimForm, status: int = 200):
    return render_template(
        f"claims/{name}.html", kind=kind, form=form, reasons=JHT_REASONS, jp_kinds=JP_KINDS,
        relationships=RELATIONSHIPS, jp_survivors=JP_SURVIVORS,
    ), status  # fmt: skip


@bp.route("/new/<kind_name>", methods=["GET", "POST"])
@signed_in_required
@acr_required("mfa")
def new(kind_name: str) -> ResponseReturnValue:
    kind = claims.KINDS.get(kind_name)
    if kind is None:
        abort(404)
    if kind_name not in _kinds_for_person():
        return render_template("no_membership.html"), 403
    if request.method == "GET":
        return _render_form(kind_name, kind, claims.ClaimForm({}, {}))
    form = claims.check(kind, request.form, g.person, request.files.get("document"))
    if form.errors:
        return _render_form(kind_name, kind, form, 400)
    claim = claims.submit(kind, g.person, form)
    flash(_("Your claim was submitted. We will let you know as it moves on."))
    return redirect(url_for("claims.detail", claim_id=claim.id))


@bp.get("/<int:claim_id>")
@signed_in_required
def detail(claim_id: int) -> ResponseReturnValue:
    claim = claims.find_claim(g.person, claim_id)
    if claim is None:
        abort(404)
    return render_template("claims/detail.html", claim=claim, staff_view=False)


def send_document(claim: Claim, document_id: int) -> ResponseReturnValue:
    """A claim's document as a download, typed by what its bytes were found to be."""
    document = next((d for d in claim.documents if d.id == document_id), None)
    if document is None:
        abort(404)
    return _download(document)


def _download(document: ClaimDocument) -> ResponseReturnValue:
    try:
        data = documents.path_of(document).read_bytes()  # small (size-limited): no open handle
    except FileNotFoundError:
        abort(404)
    return send_file(
        io.BytesIO(data),
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.original_name,
        max_age=0,
    )


@bp.get("/<int:claim_id>/documents/<int:document_id>")
@signed_in_required
def document(claim_id: int, document_id: int) -> ResponseReturnValue:
    claim = claims.find_claim(g.person, claim_id)
    if claim is None:
        abort(404)
    return send_document(claim, document_id)
