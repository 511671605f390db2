"""Short explainers of what each program covers, open to everyone (no sign-in needed)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("programs", __name__, url_prefix="/programs")
PROGRAMS = ("jkk", "jkm", "jht", "jp")


@bp.get("/<code>")
def explain(code: str) -> ResponseReturnValue:
    if code not in PROGRAMS:
        abort(404)
    return render_template(f"programs/{code}.html", code=code, programs=PROGRAMS)
