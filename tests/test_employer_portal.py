"""The employer portal (issue 20): administrators, employees, CSV, isolation between employers."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from idp.db import db
from idp.models import AuditEvent, Employment, Member
from idp.models.employer import current_employer_name

from .helpers import csrf_from, mail_text, mails, query_of
from .portal import ADMIN_PASSWORD, Portal, csv_of, employee_row, invitation_path, nik_for


@pytest.fixture
def portal(app, clock) -> Portal:
    return Portal(app, clock)


@pytest.fixture
def employer_id(portal) -> int:
    """PT Maju with an administrator who has opened the portal at acr=mfa."""
    employer = portal.create_employer("PT Maju", "EMP-0001", "admin@maju.example.id")
    portal.open_portal("admin@maju.example.id")
    return employer


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _add(portal: Portal, employer_id: int, row: dict):
    path = f"/employer/{employer_id}/employees/new"
    form = {k: v for k, v in row.items() if k != "programs"}
    return portal.post(path, **form, programs=row["programs"].split(";"))


def _upload(portal: Portal, employer_id: int, data: bytes, name: str = "employees.csv"):
    path = f"/employer/{employer_id}/employees/upload"
    token = csrf_from(portal.client.get(path).text)
    return portal.client.post(
        path, data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )  # fmt: skip


def _member_by_email(app, address: str) -> Member | None:
    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.email == address))
        if member is not None:
            db.session.expunge(member)
        return member


# -- administrators ------------------------------------------------------------------------


def test_operator_invites_an_administrator_who_chooses_a_password(app, cli, portal, clock):
    result = cli(
        "employers", "create", "--name", "PT Sinar Jaya", "--registration-number", "emp-1234",
        "--admin-email", "Rina@Sinar.example.id", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (message,) = mails(app)
    assert message["To"] == "rina@sinar.example.id"
    assert "72 jam" in mail_text(message)  # the default language: Bahasa Indonesia
    path = invitation_path(message)
    listed = cli("employers", "list", "--json")
    assert '"registration_number": "EMP-1234"' in listed.output
    assert "rina@sinar.example.id" in listed.output

    weak = portal.post(path, password="short")
    assert weak.status_code == 400 and 'id="password-error"' in weak.text
    assert _member_by_email(app, "rina@sinar.example.id").password_hash is None

    assert portal.post(path, password=ADMIN_PASSWORD).status_code == 200
    admin = _member_by_email(app, "rina@sinar.example.id")
    assert admin.password_hash and admin.email_verified  # following the link verified it
    assert admin.membership_number is None and admin.nik_hash is None  # not a member
    # Single use: the link is spent.
    again = portal.client.get(path)
    assert again.status_code == 400 and "expired or was already used" in again.text

    assert portal.sign_in("rina@sinar.example.id").status_code == 302
    enrol = portal.client.get("/employer")
    assert enrol.status_code == 302
    assert urlsplit(enrol.headers["Location"]).path == "/account/security"
    assert query_of(enrol.headers["Location"])["enrol"] == "1"
    portal.enrol_totp()
    step_up = portal.client.get("/employer")
    assert step_up.headers["Location"].endswith("/login/2fa")
    assert portal.second_step().headers["Location"] == "/employer"
    home = portal.client.get("/employer")
    assert home.status_code == 302 and re.fullmatch(r"/employer/\d+", home.headers["Location"])
    page = portal.client.get(home.headers["Location"])
    assert page.status_code == 200 and "PT Sinar Jaya" in page.text
    account = portal.client.get("/account")
    assert "Employer administrator" in account.text


def test_invitation_link_expires_and_forged_links_fail(app, portal, clock):
    portal.create_employer("PT Maju", "EMP-0001", "admin@maju.example.id")
    path = invitation_path(mails(app)[0])
    assert portal.client.get(path + "x").status_code == 400
    clock.advance(hours=72, seconds=1)
    assert portal.client.get(path).status_code == 400
    form = {"password": ADMIN_PASSWORD, "csrf_token": csrf_from(portal.client.get("/login").text)}
    assert portal.client.post(path, data=form).status_code == 400
    assert _member_by_email(app, "admin@maju.example.id").password_hash is None


def test_bad_operator_input_changes_nothing(app, cli):
    bad = cli("employers", "create", "--name", "PT X", "--registration-number", "!!",
              "--admin-email", "a@x.example.id")  # fmt: skip
    assert bad.exit_code != 0 and "registration_number" in bad.output
    bad_mail = cli("employers", "create", "--name", "PT X", "--registration-number", "EMP-9",
                   "--admin-email", "not-an-email")  # fmt: skip
    assert bad_mail.exit_code != 0 and "email" in bad_mail.output
    assert cli("employers", "list", "--json").output.strip() == "[]"
    assert mails(app) == []


def test_administrator_invites_another_administrator(app, portal, employer_id):
    path = f"/employer/{employer_id}/admins"
    bad = portal.post(path, name="Dewi", email="nope")
    assert bad.status_code == 422 and 'id="email-error"' in bad.text
    sent = portal.post(path, name="Dewi", email="dewi@maju.example.id")
    assert sent.status_code == 200 and "dewi@maju.example.id" in sent.text
    second = Portal(app, portal.clock)
    second.open_portal("dewi@maju.example.id")
    assert second.client.get(f"/employer/{employer_id}").status_code == 200
    with app.app_context():
        dewi = db.session.scalar(select(Member).where(Member.email == "dewi@maju.example.id"))
        admin = db.session.scalar(select(Member).where(Member.email == "admin@maju.example.id"))
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.event == "employer_admin_invited",
                                     AuditEvent.member_id == admin.id)
        )  # fmt: skip
        assert event.detail["admin_member_id"] == dewi.id


def test_portal_refuses_anonymous_visitors_and_non_administrators(app, actions, client):
    anonymous = client.get("/employer")
    assert anonymous.status_code == 302 and urlsplit(anonymous.headers["Location"]).path == "/login"
    actions.create_member()
    actions.sign_in("siti@example.id")
    assert client.get("/employer").status_code == 403


# -- employees -----------------------------------------------------------------------------


def test_add_an_employee_who_activates_from_the_invitation(app, portal, employer_id):
    before = len(mails(app))
    row = employee_row(1, name="Budi Santoso", email="budi@example.id", phone="081234567891")
    assert _add(portal, employer_id, row).status_code == 302
    message = mails(app)[before]
    assert message["To"] == "budi@example.id"
    link = re.search(r"(http://\S+/account/activate\?\S+)", mail_text(message)).group(1)
    number = query_of(link)["membership_number"]
    assert len(number) == 11 and number in mail_text(message)

    worker = Portal(app, portal.clock).client
    worker.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = worker.get(urlsplit(link).path + "?" + urlsplit(link).query)
    assert f'name="membership_number" type="text" value="{number}"' in page.text
    form = {
        "membership_number": number, "nik": row["nik"], "birthdate": row["birthdate"],
        "email": "budi@example.id", "password": "sepeda biru di pagi cerah",
        "csrf_token": csrf_from(page.text),
    }  # fmt: skip
    assert worker.post("/account/activate", data=form).status_code == 200
    assert _member_by_email(app, "budi@example.id").has_online_access


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("nik", "3174051207900001"),  # does not match the birthdate
        ("birthdate", "1991-02-30"),
        ("email", "budi@"),
        ("phone", "12345"),
        ("start_date", "1980-01-01"),
        ("monthly_wage", "5.000.000"),
        ("monthly_wage", "0"),
        ("name", ""),
    ],
)
def test_bad_employee_details_get_a_field_error_and_save_nothing(
    app, portal, employer_id, field, value
):
    before = (_count(app, Member), _count(app, Employment), len(mails(app)))
    response = _add(portal, employer_id, employee_row(1, **{field: value}))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert (_count(app, Member), _count(app, Employment), len(mails(app))) == before


def test_programs_are_required(app, portal, employer_id):
    row = employee_row(1)
    form = {k: v for k, v in row.items() if k != "programs"}
    response = portal.post(f"/employer/{employer_id}/employees/new", **form)
    assert response.status_code == 422 and 'id="programs-error"' in response.text


def test_a_worker_registered_by_a_second_employer_keeps_their_number(app, portal, employer_id):
    row = employee_row(7, email="wati@example.id")
    assert _add(portal, employer_id, row).status_code == 302
    again = _add(portal, employer_id, row)
    assert again.status_code == 422 and "already registered" in again.text

    other = Portal(app, portal.clock)
    second_employer = other.create_employer("CV Lain", "EMP-0002", "admin@lain.example.id")
    other.open_portal("admin@lain.example.id")
    moved = employee_row(7, email="ignored@example.id", start_date="2026-03-01")
    assert _add(other, second_employer, moved).status_code == 302
    with app.app_context():
        (member,) = db.session.scalars(select(Member).where(Member.nik_hash.is_not(None)))
        assert member.email == "wati@example.id"  # the member's own details stay
        jobs = db.session.scalars(select(Employment).where(Employment.member_id == member.id))
        assert sorted(j.employer_id for j in jobs) == sorted([employer_id, second_employer])
        assert current_employer_name(member) == "CV Lain"  # the latest current employment


def test_a_nik_on_record_with_another_birthdate_is_refused(app, portal, employer_id):
    assert _add(portal, employer_id, employee_row(3)).status_code == 302
    # The registry's birthdate for this NIK differs from the one the employer sends.
    clash = employee_row(3, email="x@example.id")
    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.email == "pekerja3@example.id"))
        member.birthdate = member.birthdate.replace(year=1991, month=3, day=13)
        db.session.commit()
    response = _add(portal, employer_id, clash)
    assert response.status_code == 422 and "another date of birth" in response.text


def test_end_an_employment_the_membership_stays(app, portal, employer_id):
    assert _add(portal, employer_id, employee_row(4)).status_code == 302
    with app.app_context():
        employment = db.session.scalar(select(Employment))
        employment_id, member_id = employment.id, employment.member_id
    path = f"/employer/{employer_id}/employees/{employment_id}/end"
    early = portal.post(path, end_date="2025-12-31")
    assert early.status_code == 422 and 'id="end_date-error"' in early.text
    assert portal.post(path, end_date="2026-01-31").status_code == 302
    with app.app_context():
        employment = db.session.get(Employment, employment_id)
        assert employment.end_date.isoformat() == "2026-01-31"
        member = db.session.get(Member, member_id)
        assert member.membership_number and current_employer_name(member) is None
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "employment_ended"))
        admin = db.session.scalar(select(Member).where(Member.email == "admin@maju.example.id"))
        assert event.member_id == admin.id and event.detail["employment_id"] == employment_id
    assert portal.post(path, end_date="2026-02-01").status_code == 422  # already ended


# -- CSV -----------------------------------------------------------------------------------


def test_a_csv_whose_row_37_has_a_bad_nik_imports_nothing(app, portal, employer_id):
    rows = [employee_row(n) for n in range(1, 41)]
    rows[36]["nik"] = "31740512039100"  # row 37 (data rows count from 1): 14 digits
    before = (_count(app, Member), _count(app, Employment), len(mails(app)))
    response = _upload(portal, employer_id, csv_of(rows))
    assert response.status_code == 422
    assert "Row 37 (nik)" in response.text
    assert len(re.findall(r"Row \d+", response.text)) == 1
    assert "Nothing was imported" in response.text
    assert (_count(app, Member), _count(app, Employment), len(mails(app))) == before


def test_a_csv_upload_imports_every_row_and_a_reupload_is_idempotent(app, portal, employer_id):
    rows = [employee_row(n) for n in range(1, 26)]
    before_mails = len(mails(app))
    first = _upload(portal, employer_id, csv_of(rows))
    assert first.status_code == 200, first.text
    assert "25 employees registered, 0 already registered" in first.text
    assert _count(app, Employment) == 25
    assert len(mails(app)) == before_mails + 25
    with app.app_context():
        numbers = set(db.session.scalars(select(Member.membership_number).where(
            Member.nik_hash.is_not(None))))  # fmt: skip

    again = _upload(portal, employer_id, csv_of(rows))
    assert again.status_code == 200
    assert "0 employees registered, 25 already registered" in again.text
    assert _count(app, Employment) == 25 and len(mails(app)) == before_mails + 25
    with app.app_context():
        assert numbers == set(db.session.scalars(select(Member.membership_number).where(
            Member.nik_hash.is_not(None))))  # fmt: skip
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "employee_registered")
        ).all()
        admin = db.session.scalar(select(Member).where(Member.email == "admin@maju.example.id"))
        assert len(events) == 25 and {e.member_id for e in events} == {admin.id}

    # Paged list (20 a page) and search.
    listing = portal.client.get(f"/employer/{employer_id}")
    assert listing.text.count("<tr>") == 21 and "Page 1 of 2" in listing.text
    second_page = portal.client.get(f"/employer/{employer_id}?page=2")
    assert second_page.text.count("<tr>") == 6
    found = portal.client.get(f"/employer/{employer_id}?q=Pekerja+17")
    assert found.text.count("<tr>") == 2 and "Pekerja 17" in found.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"name,nik\nBudi,1\n", "The first line must be the header"),
        (b"name,nik,birthdate,email,phone,start_date,monthly_wage,programs\n", "no rows"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_unusable_files_are_refused(app, portal, employer_id, data, message):
    response = _upload(portal, employer_id, data)
    assert response.status_code == 422 and message in response.text
    assert _count(app, Employment) == 0


def test_duplicate_rows_in_one_file_are_refused(app, portal, employer_id):
    rows = [employee_row(1), employee_row(2), employee_row(1, email="other@example.id")]
    response = _upload(portal, employer_id, csv_of(rows))
    assert response.status_code == 422 and "Row 3 (nik)" in response.text
    assert "The same NIK is on row 1" in response.text
    assert _count(app, Employment) == 0


def test_template_and_employee_list_downloads(app, portal, employer_id):
    template = portal.client.get(f"/employer/{employer_id}/employees/template.csv")
    assert template.status_code == 200 and template.mimetype == "text/csv"
    assert template.text.splitlines()[0] == (
        "name,nik,birthdate,email,phone,start_date,monthly_wage,programs"
    )
    # The template's own example row imports cleanly.
    assert _upload(portal, employer_id, template.data).status_code == 200

    hostile = employee_row(9, name='=HYPERLINK("http://evil")', phone="081234567899")
    assert _add(portal, employer_id, hostile).status_code == 302
    export = portal.client.get(f"/employer/{employer_id}/employees.csv")
    assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 2
    names = {r["name"] for r in rows}
    assert '\'=HYPERLINK("http://evil")' in names  # never a formula in a spreadsheet
    assert all(not r["phone"] or r["phone"].startswith("'+62") for r in rows)
    assert "nik" not in rows[0] and hostile["nik"] not in export.text


# -- isolation between employers -----------------------------------------------------------


def test_an_administrator_cannot_reach_another_employers_records(app, portal, employer_id):
    other = Portal(app, portal.clock)
    other_id = other.create_employer("CV Lain", "EMP-0002", "admin@lain.example.id")
    other.open_portal("admin@lain.example.id")
    assert _add(other, other_id, employee_row(5)).status_code == 302
    assert _add(portal, employer_id, employee_row(6)).status_code == 302
    with app.app_context():
        theirs = db.session.scalar(select(Employment.id).where(Employment.employer_id == other_id))
        ours = db.session.scalar(select(Employment.id).where(Employment.employer_id == employer_id))
    before = (_count(app, Member), _count(app, Employment), _count(app, AuditEvent))
    token = csrf_from(portal.client.get(f"/employer/{employer_id}/employees/new").text)
    for path in (
        f"/employer/{other_id}",
        f"/employer/{other_id}/employees/new",
        f"/employer/{other_id}/employees/upload",
        f"/employer/{other_id}/employees.csv",
        f"/employer/{other_id}/employees/template.csv",
        f"/employer/{other_id}/admins",
        f"/employer/{other_id}/employees/{theirs}/end",
        f"/employer/{employer_id}/employees/{theirs}/end",  # their record under our employer
    ):
        assert portal.client.get(path).status_code == 403, path
    posts = {
        f"/employer/{other_id}/employees/new": employee_row(8) | {"programs": "JKK"},
        f"/employer/{other_id}/admins": {"name": "Eve", "email": "eve@example.id"},
        f"/employer/{other_id}/employees/{theirs}/end": {"end_date": "2026-01-31"},
        f"/employer/{employer_id}/employees/{theirs}/end": {"end_date": "2026-01-31"},
        f"/employer/{other_id}/employees/{ours}/end": {"end_date": "2026-01-31"},
    }
    for path, form in posts.items():
        assert portal.client.post(path, data=form | {"csrf_token": token}).status_code == 403
    upload = portal.client.post(
        f"/employer/{other_id}/employees/upload",
        data={"csrf_token": token, "file": (io.BytesIO(csv_of([employee_row(8)])), "e.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 403
    assert (_count(app, Member), _count(app, Employment), _count(app, AuditEvent)) == before
    with app.app_context():
        assert db.session.get(Employment, theirs).end_date is None
    # Their list does not show through ours either.
    assert "Pekerja 5" not in portal.client.get(f"/employer/{employer_id}").text
    assert (
        nik_for("1991-03-12", 5)
        not in portal.client.get(f"/employer/{employer_id}/employees.csv").text
    )


def test_portal_forms_need_the_csrf_token(app, portal, employer_id):
    response = portal.client.post(f"/employer/{employer_id}/employees/new", data=employee_row(1))
    assert response.status_code == 400
    assert _count(app, Employment) == 0


def test_an_administrator_who_is_not_a_member_uses_the_account_pages(app, cli, portal, clock):
    """No membership number: lockout, unlock, password checks and /account use the email."""
    portal.create_employer("PT Maju", "EMP-0001", "admin@maju.example.id")
    portal.accept_invitation("admin@maju.example.id")
    assert portal.sign_in("admin@maju.example.id").status_code == 302
    profile = portal.client.get("/account")
    assert profile.status_code == 200 and "admin@maju.example.id" in profile.text
    clock.advance(minutes=11)  # the confirm page asks again after 10 minutes
    wrong = portal.post("/account/confirm", password="not the right password")
    assert wrong.status_code == 400
    for _ in range(5):
        portal.sign_in("admin@maju.example.id", "still not the right one")
    locked = portal.sign_in("admin@maju.example.id")
    assert locked.status_code == 403
    unlocked = cli("users", "unlock", "admin@maju.example.id", "--json")
    assert unlocked.exit_code == 0 and '"was_locked": true' in unlocked.output
    assert portal.sign_in("admin@maju.example.id").status_code == 302


def test_a_large_csv_is_accepted_on_the_upload_only(make_app, clock):
    app = make_app(server={"max_body_bytes": 4096}, members={"employee_upload_max_bytes": 65536})
    portal = Portal(app, clock)
    employer_id = portal.create_employer("PT Maju", "EMP-0001", "admin@maju.example.id")
    portal.open_portal("admin@maju.example.id")
    data = csv_of([employee_row(n) for n in range(1, 61)])
    assert 4096 < len(data) < 65536  # bigger than any other form may be
    response = _upload(portal, employer_id, data)
    assert response.status_code == 200, response.text
    assert "60 employees registered" in response.text
    too_big = portal.post(f"/employer/{employer_id}/employees/new", name="x" * 4097)
    assert too_big.status_code == 413
    assert _count(app, Employment) == 60


def test_a_pending_administrator_can_be_sent_a_new_link(app, cli, portal):
    employer_id = portal.create_employer("PT Maju", "EMP-0001", "admin@maju.example.id")
    first = invitation_path(mails(app)[0])
    again = cli("employers", "invite", str(employer_id), "--admin-email", "admin@maju.example.id")
    assert again.exit_code == 0, again.output
    second = invitation_path(mails(app)[1])
    assert portal.client.get(first).status_code == 400  # the newer link replaced it
    assert portal.post(second, password=ADMIN_PASSWORD).status_code == 200
    accepted = cli(
        "employers", "invite", str(employer_id), "--admin-email", "admin@maju.example.id"
    )
    assert accepted.exit_code != 0 and "already administers" in accepted.output
    assert cli("employers", "invite", "999", "--admin-email", "x@example.id").exit_code != 0
    assert len(mails(app)) == 2
