"""Claims officers at /staff/claims: the claims_officer role from the roles claim and acr=mfa;
a queue with its rules; every step kept with who and when, told to the member by email; no
skipping, no going back; members never reach staff pages."""

from __future__ import annotations

import email
from email import policy

import pytest
from sqlalchemy import select

from clients.benefits.db import db
from clients.benefits.models import Claim

from .conftest import DEMO_NUMBER, document, signed_in, staff_signed_in

STAFF_PATHS = ("/staff/claims", "/staff/claims/1", "/staff/claims/1/documents/1")


@pytest.fixture
def member(benefits_app):
    client = benefits_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    signed_in(benefits_app, client, email="siti@example.id")
    return client


@pytest.fixture
def officer(benefits_app):
    client = benefits_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    staff_signed_in(benefits_app, client)
    return client


def _file_jkk(client) -> int:
    answer = client.post(
        "/claims/new/jkk",
        data={"csrf_token": "csrf-test", "incident_date": "2024-05-02",
              "description": "Kaki terkilir saat turun tangga gudang.", "document": document()},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert answer.status_code == 302, answer.text
    return int(answer.headers["Location"].rsplit("/", 1)[1])


def _move(client, claim_id: int, status: str, reason: str = ""):
    form = {"csrf_token": "csrf-test", "status": status, "reason": reason}
    return client.post(f"/staff/claims/{claim_id}", data=form)


def _claim(app, claim_id: int) -> Claim:
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        _ = claim.events
        return claim


def _outbox(app) -> list[email.message.EmailMessage]:
    folder = app.extensions["benefits.settings"].mail_outbox_dir
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    assert not list(folder.glob(".*")) if folder.exists() else True  # no temp file left
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def test_an_officer_moves_a_claim_through_every_status(
    benefits_app, benefits_clock, member, officer
):
    claim_id = _file_jkk(member)
    queue = officer.get("/staff/claims")
    assert queue.status_code == 200 and f"/staff/claims/{claim_id}" in queue.text
    page = officer.get(f"/staff/claims/{claim_id}")
    assert "Kaki terkilir" in page.text and "surat-keterangan.pdf" in page.text
    for status in ("in_review", "approved", "paid_out"):
        benefits_clock.advance(minutes=10)
        answer = _move(officer, claim_id, status)
        assert answer.status_code == 302 and answer.headers["Location"] == "/staff/claims"
    claim = _claim(benefits_app, claim_id)
    assert claim.status == "paid_out"
    assert [(e.status, e.actor_sub, e.actor_name) for e in claim.events] == [
        ("submitted", "sub-1", "Siti Rahayu"),
        ("in_review", "officer-1", "Budi Santoso"),
        ("approved", "officer-1", "Budi Santoso"),
        ("paid_out", "officer-1", "Budi Santoso"),
    ]
    assert [e.at for e in claim.events] == sorted({e.at for e in claim.events})

    # The member sees each change; the paid-out claim has left the queue.
    detail = member.get(f"/claims/{claim_id}").text
    for label in ("Submitted", "In review", "Approved", "Paid out"):
        assert label in detail
    assert "Budi Santoso" not in detail  # officers' names stay inside
    assert f"/staff/claims/{claim_id}" not in officer.get("/staff/claims").text
    assert officer.get(f"/staff/claims/{claim_id}").status_code == 404

    mails = _outbox(benefits_app)
    assert [m["To"] for m in mails] == ["siti@example.id"] * 3
    assert [m["Subject"] for m in mails] == [
        f"Claim #{claim_id}: In review", f"Claim #{claim_id}: Approved",
        f"Claim #{claim_id}: Paid out",
    ]  # fmt: skip
    assert f"/claims/{claim_id}" in mails[-1].get_content()


def test_a_rejection_needs_a_reason_the_member_reads(benefits_app, member, officer):
    claim_id = _file_jkk(member)
    assert _move(officer, claim_id, "in_review").status_code == 302
    no_reason = _move(officer, claim_id, "rejected", "  ")
    assert no_reason.status_code == 400 and 'id="reason-error"' in no_reason.text
    assert _claim(benefits_app, claim_id).status == "in_review"
    reason = "Tanggal kecelakaan tidak sesuai dengan laporan perusahaan."
    assert _move(officer, claim_id, "rejected", reason).status_code == 302
    claim = _claim(benefits_app, claim_id)
    assert (claim.status, claim.events[-1].note) == ("rejected", reason)
    assert reason in member.get(f"/claims/{claim_id}").text
    last = _outbox(benefits_app)[-1]
    assert last["Subject"] == f"Claim #{claim_id}: Rejected" and reason in last.get_content()


@pytest.mark.parametrize(
    ("path", "target"),
    [([], "approved"), ([], "paid_out"), (["in_review"], "submitted"),
     (["in_review"], "paid_out"), (["in_review", "approved"], "rejected"),
     (["in_review", "approved"], "in_review"), ([], "deleted"), ([], "")],
)  # fmt: skip
def test_forbidden_steps_are_refused_and_change_nothing(
    benefits_app, member, officer, path, target
):
    claim_id = _file_jkk(member)
    for status in path:
        assert _move(officer, claim_id, status).status_code == 302
    before = _claim(benefits_app, claim_id)
    answer = _move(officer, claim_id, target, "a reason long enough")
    assert answer.status_code == 409 and 'id="status-error"' in answer.text
    after = _claim(benefits_app, claim_id)
    assert (after.status, len(after.events)) == (before.status, len(before.events))
    assert len(_outbox(benefits_app)) == len(path)


def test_members_never_reach_staff_pages(benefits_app, member):
    claim_id = _file_jkk(member)
    for path in STAFF_PATHS:
        assert member.get(path).status_code == 403
    assert _move(member, claim_id, "in_review").status_code == 403
    assert _claim(benefits_app, claim_id).status == "submitted"
    assert "Claims queue" not in member.get("/").text
    # A roles claim of another shape, or another role, is no officer either.
    for roles in ("claims_officer", ["employer_admin"], [{"name": "claims_officer"}]):
        other = benefits_app.test_client()
        signed_in(benefits_app, other, sub=f"sub-{roles!s:.20}", roles=roles)
        assert other.get("/staff/claims").status_code == 403
    anonymous = benefits_app.test_client().get("/staff/claims")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")


def test_an_officer_without_a_second_factor_steps_up(benefits_app):
    client = benefits_app.test_client()
    staff_signed_in(benefits_app, client, acr="pwd")
    answer = client.get("/staff/claims")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?acr=mfa&next=/staff/claims"
    posted = client.post("/staff/claims/1", data={"csrf_token": "csrf-test", "status": "x"})
    assert posted.status_code == 302 and "acr=mfa" in posted.headers["Location"]


def test_the_queue_keeps_officers_off_their_own_cases(benefits_app, member, officer):
    mine = _file_jkk(member)
    # An officer who is also a member: their own membership's claims are not theirs to judge.
    colleague = benefits_app.test_client()
    staff_signed_in(benefits_app, colleague, sub="officer-2", sid="sid-o2",
                    membership_number=DEMO_NUMBER)  # fmt: skip
    assert f"/staff/claims/{mine}" not in colleague.get("/staff/claims").text
    assert colleague.get(f"/staff/claims/{mine}").status_code == 404
    assert _move(colleague, mine, "in_review").status_code == 404
    # A claim the officer filed themselves (as an heir) is not in their queue either.
    own = colleague.post(
        "/claims/new/jkm",
        data={"csrf_token": "csrf-test", "deceased_number": "44455566677",
              "relationship": "parent", "date_of_death": "2025-01-15",
              "bank_account": "1234567890", "document": document()},
        content_type="multipart/form-data",
    )  # fmt: skip
    own_id = int(own.headers["Location"].rsplit("/", 1)[1])
    assert colleague.get(f"/staff/claims/{own_id}").status_code == 404
    assert f"/staff/claims/{own_id}" in officer.get("/staff/claims").text
    assert "Claims queue" in officer.get("/staff/claims").text


def test_the_roles_scope_is_asked_for_only_where_offered(benefits_app, benefits_client):
    client = benefits_app.extensions["authlib.integrations.flask_client"].idp
    client.server_metadata.update(
        _loaded_at=0, issuer="http://127.0.0.1:9",
        authorization_endpoint="http://127.0.0.1:9/authorize",
        scopes_supported=["openid", "profile", "email", "membership"],
    )  # fmt: skip
    plain = benefits_client.get("/login").headers["Location"]
    assert "scope=openid+profile+email+membership&" in plain and "roles" not in plain
    client.server_metadata["scopes_supported"].append("roles")
    with_roles = benefits_client.get("/login").headers["Location"]
    assert "scope=openid+profile+email+membership+roles&" in with_roles


def test_a_mail_failure_keeps_the_step_and_tells_the_officer(benefits_app, member, officer):
    claim_id = _file_jkk(member)
    outbox = benefits_app.extensions["benefits.settings"].mail_outbox_dir
    outbox.parent.mkdir(parents=True, exist_ok=True)
    outbox.write_text("not a folder")  # the outbox cannot be written
    answer = _move(officer, claim_id, "in_review")
    assert answer.status_code == 302
    assert _claim(benefits_app, claim_id).status == "in_review"
    assert "could not be emailed" in officer.get("/staff/claims").text


def test_claims_and_history_are_stored_with_utc_times(benefits_app, member, officer):
    claim_id = _file_jkk(member)
    _move(officer, claim_id, "in_review")
    with benefits_app.app_context():
        events = db.session.scalars(select(Claim)).one().events
        assert all(e.at.utcoffset().total_seconds() == 0 for e in events)
