"""The employer portal at /employer: thin views over the employer services."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..clock import utcnow
from ..db import db
from ..extensions import settings
from . import csvfiles, employees, invitations, listing
from .employers import EmployerError, administered_by, administrators
from .notices import invite_employees
from .portal import admin, employer_required, portal_required

bp = Blueprint("employer", __name__, url_prefix="/employer")


@bp.url_value_preprocessor
def allow_employee_files(endpoint: str | None, _values: dict | None) -> None:
    """Raise the body limit for the CSV upload alone. URL value preprocessors run before the
    app's before-request hooks, so the limit is set before security.check_request reads the
    form (Flask 3.1: max_content_length may be set per request)."""
    if endpoint == "employer.upload":
        limit = settings().members.employee_upload_max_bytes
        request.max_content_length = limit
        request.max_form_memory_size = limit


@bp.route("")
@portal_required
def index():
    """The employers this administrator manages; straight to the only one."""
    employers = administered_by(admin().id)
    if len(employers) == 1:
        return redirect(url_for("employer.employee_list", employer_id=employers[0].id))
    return render_template("employer/index.html", employers=employers)


def _page_number() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 7 else 1


@bp.route("/<int:employer_id>")
@employer_required
def employee_list(employer):
    query = request.args.get("q", "")[:100]
    page = _page_number()
    rows, pages = listing.employees_page(employer, query, page)
    return render_template(
        "employer/employees.html", employer=employer, rows=rows, query=query,
        page=min(page, pages), pages=pages,
    )  # fmt: skip


@bp.route("/<int:employer_id>/employees/new", methods=["GET", "POST"])
@employer_required
def add_employee(employer):
    if request.method == "GET":
        return render_template("employer/add.html", employer=employer, values={}, errors={})
    values = {name: request.form.get(name, "")[:400] for name in employees.FIELDS}
    values["programs"] = ";".join(request.form.getlist("programs"))[:40]
    employee, errors = employees.parse_employee(values)
    if employee is not None:
        errors = employees.registry_problems(employer, employee)
        if not errors and employees.already_employed(employer, employee):
            errors = {"nik": _("This worker is already registered with your employer.")}
    if errors:
        return render_template(
            "employer/add.html", employer=employer, values=values, errors=errors
        ), 422
    employment, invite = employees.register_employee(employer, employee, admin())
    db.session.commit()
    invite_employees(employer, [invite] if invite else [])
    return redirect(url_for("employer.employee_list", employer_id=employer.id, added=employment.id))


@bp.route("/<int:employer_id>/employees/upload", methods=["GET", "POST"])
@employer_required
def upload(employer):
    """Upload many workers: every row is checked first; any error imports nothing."""
    if request.method == "GET":
        return render_template("employer/upload.html", employer=employer, result=None)
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        errors = [(0, "file", _("Choose a CSV file."))]
        return render_template(
            "employer/upload.html", employer=employer, result=None, errors=errors
        ), 422
    checked = csvfiles.check_upload(employer, sent.read())
    if checked.errors:
        return render_template(
            "employer/upload.html", employer=employer, result=None, errors=checked.errors
        ), 422
    invites = []
    for employee in checked.employees:  # one transaction: all rows or none
        _employment, invite = employees.register_employee(employer, employee, admin())
        if invite is not None:
            invites.append(invite)
    db.session.commit()
    invite_employees(employer, invites)
    result = {"added": len(checked.employees), "unchanged": checked.unchanged}
    return render_template("employer/upload.html", employer=employer, result=result)


def _csv(body: str, filename: str) -> Response:
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:employer_id>/employees/template.csv")
@employer_required
def upload_template(employer):
    return _csv(csvfiles.template_csv(), "employees-template.csv")


@bp.route("/<int:employer_id>/employees.csv")
@employer_required
def download(employer):
    today = utcnow().date().isoformat()
    return _csv(
        csvfiles.employees_csv(listing.all_employees(employer)),
        f"employees-{employer.registration_number}-{today}.csv".replace("/", "-"),
    )


@bp.route("/<int:employer_id>/employees/<int:employment_id>/end", methods=["GET", "POST"])
@employer_required
def end_employment(employer, employment_id: int):
    """End an employment; the membership stays with the worker."""
    employment = employees.employment_of(employer, employment_id)
    if employment is None:
        abort(403)
    page = "employer/end.html"
    if request.method == "GET":
        return render_template(page, employer=employer, employment=employment, errors={})
    ended, problem = employees.end_date_problem(employment, request.form.get("end_date", "")[:20])
    if problem:
        errors = {"end_date": problem}
        return render_template(page, employer=employer, employment=employment, errors=errors), 422
    employees.end_employment(employment, ended, admin())
    db.session.commit()
    return redirect(url_for("employer.employee_list", employer_id=employer.id, ended=1))


@bp.route("/<int:employer_id>/admins", methods=["GET", "POST"])
@employer_required
def admins(employer):
    """The employer's administrators; invite another one."""
    page = "employer/admins.html"
    if request.method == "GET":
        return render_template(
            page, employer=employer, admins=administrators(employer.id), values={}, errors={}
        )
    values = {name: request.form.get(name, "")[:320] for name in ("name", "email")}
    try:
        member, link = invitations.invite_admin(
            employer, values["email"], values["name"], invited_by=admin()
        )
    except EmployerError as error:
        db.session.rollback()
        errors = {error.field: error.message}
        return render_template(
            page, employer=employer, admins=administrators(employer.id), values=values,
            errors=errors,
        ), 422  # fmt: skip
    db.session.commit()
    invitations.send_invitation(employer, member, link)
    return render_template(
        page, employer=employer, admins=administrators(employer.id), values={}, errors={},
        invited=member.email,
    )  # fmt: skip


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Choose a password from an invitation link; using it confirms the email address."""
    invited = invitations.pending_invitation(token)
    page = "employer/invitation.html"
    if invited is None:
        return render_template(page, expired=True, errors={}), 400
    if request.method == "GET":
        return render_template(page, invited=invited, errors={})
    outcome = invitations.accept_invitation(token, request.form.get("password", "")[:1024])
    if isinstance(outcome, dict):
        db.session.rollback()
        return render_template(
            page, invited=invited, errors=outcome, expired="form" in outcome
        ), 400
    db.session.commit()
    return render_template("employer/invitation_done.html", invited=outcome)
