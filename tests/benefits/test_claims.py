"""Claims: filing needs acr=mfa (step-up through the identity provider); forms of all four
programs validate and save nothing on failure; every status change is kept with its time."""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from clients.benefits import claims
from clients.benefits.clock import today
from clients.benefits.db import db
from clients.benefits.models import Claim
from idp.auth.factors.totp import confirm_totp, start_totp
from idp.db import db as idp_db
from idp.models import Member

from ..helpers import csrf_from
from .conftest import DEMO_NUMBER, PDF, TIMEOUT, document, signed_in, stored_documents


def _enrol_totp(live) -> pyotp.TOTP:
    """The member adds an authenticator app at the identity provider (after signing in here)."""
    with live.idp.app.app_context():
        member = idp_db.session.get(Member, live.member["id"])
        totp = pyotp.TOTP(start_totp(member).secret)
        # The previous time step's code: the sign-in below then uses a later, unspent one.
        assert confirm_totp(member, totp.at(time.time() - 30))
        idp_db.session.commit()
    return totp


def _claim_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Claim.id)))


def test_filing_a_claim_steps_up_to_mfa(live_benefits):
    live_benefits.sign_in()
    assert live_benefits.get("/claims").status_code == 200  # the history needs no step-up
    totp = _enrol_totp(live_benefits)

    second_step = live_benefits.get("/claims/new/jht")
    assert second_step.url == f"{live_benefits.idp.url}/login/2fa"
    start = second_step.history[0].headers["Location"]
    assert start.startswith("/login?acr=mfa&next=")
    authorize = second_step.history[1].headers["Location"]
    assert "acr_values=mfa" in authorize

    form = live_benefits.browser.post(
        f"{live_benefits.idp.url}/login/2fa",
        data={"code": totp.now(), "csrf_token": csrf_from(second_step.text)},
        timeout=TIMEOUT,
    )
    assert form.status_code == 200 and form.url == f"{live_benefits.url}/claims/new/jht"
    (session_row,) = live_benefits.member_sessions()
    assert session_row.data["member"]["acr"] == "mfa"

    filed = live_benefits.browser.post(
        form.url,
        data={
            "reason": "resigned",
            "bank_account": "1234567890",
            "csrf_token": csrf_from(form.text),
        },  # fmt: skip
        files={"document": ("surat-pengunduran-diri.pdf", PDF, "application/pdf")},
        timeout=TIMEOUT,
    )
    assert filed.status_code == 200 and "/claims/" in filed.url
    with live_benefits.app.app_context():
        claim = db.session.scalar(select(Claim).where(Claim.program == "JHT"))
        assert (claim.membership_number, claim.status) == (DEMO_NUMBER, "submitted")
        assert (claim.reason, claim.bank_account) == ("resigned", "1234567890")
        assert [e.status for e in claim.events] == ["submitted"]
        assert claim.filed_by == live_benefits.member["sub"]
        assert [d.original_name for d in claim.documents] == ["surat-pengunduran-diri.pdf"]
    assert "••••••7890" in filed.text
    download = live_benefits.get(f"/claims/{claim.id}/documents/{claim.documents[0].id}")
    assert download.status_code == 200 and download.content == PDF


def test_a_password_only_session_is_sent_to_step_up(benefits_app, benefits_client):
    signed_in(benefits_app, benefits_client, acr="pwd")
    for path in ("/claims/new/jht", "/claims/new/jkk"):
        answer = benefits_client.get(path)
        assert answer.status_code == 302
        assert answer.headers["Location"] == f"/login?acr=mfa&next={path}"
    posted = benefits_client.post(
        "/claims/new/jkk", data={"csrf_token": "csrf-test", "incident_date": "2024-01-01"}
    )
    assert posted.status_code == 302 and _claim_count(benefits_app) == 0


def test_sign_in_asks_the_identity_provider_for_mfa(benefits_app, benefits_client, monkeypatch):
    client = benefits_app.extensions["authlib.integrations.flask_client"].idp
    client.server_metadata.update(
        _loaded_at=0,
        issuer="http://127.0.0.1:9",
        authorization_endpoint="http://127.0.0.1:9/authorize",
    )
    answer = benefits_client.get("/login?acr=mfa&next=/claims/new/jht")
    assert "acr_values=mfa" in answer.headers["Location"]
    plain = benefits_client.get("/login")
    assert "acr_values" not in plain.headers["Location"]


def _file(client, kind: str, attach: bool = True, **form):
    data = {"csrf_token": "csrf-test", **form}
    if attach:
        data["document"] = document()
    return client.post(f"/claims/new/{kind}", data=data, content_type="multipart/form-data")


JHT_CASES = {
    "no reason": ({"bank_account": "1234567890"}, "reason"),
    "unknown reason": ({"reason": "bored", "bank_account": "1234567890"}, "reason"),
    "short account": ({"reason": "retired", "bank_account": "123456789"}, "bank_account"),
    "long account": ({"reason": "retired", "bank_account": "1" * 17}, "bank_account"),
    "letters": ({"reason": "retired", "bank_account": "12345abcde"}, "bank_account"),
    "spaces": ({"reason": "retired", "bank_account": "1234 567890"}, "bank_account"),
    "arabic-indic digits": ({"reason": "retired", "bank_account": "١٢٣٤٥٦٧٨٩٠"}, "bank_account"),
}


@pytest.mark.parametrize("case", JHT_CASES)
def test_jht_form_validates_and_saves_nothing(benefits_app, benefits_client, case):
    signed_in(benefits_app, benefits_client)
    form, field = JHT_CASES[case]
    answer = _file(benefits_client, "jht", **form)
    assert answer.status_code == 400
    assert f'id="{field}-error"' in answer.text
    assert _claim_count(benefits_app) == 0
    assert stored_documents(benefits_app) == []


def _jkk_cases(app) -> dict:
    with app.test_request_context():
        tomorrow = (today() + timedelta(days=1)).isoformat()
    return {
        "future date": ({"incident_date": tomorrow, "description": "x" * 30}, "incident_date"),
        "not a date": ({"incident_date": "31/01/2024", "description": "x" * 30}, "incident_date"),
        "compact date": ({"incident_date": "20240131", "description": "x" * 30}, "incident_date"),
        "impossible date": (
            {"incident_date": "2024-02-30", "description": "x" * 30},
            "incident_date",
        ),
        "short description": (
            {"incident_date": "2024-01-31", "description": "fell"},
            "description",
        ),
        "long description": (
            {"incident_date": "2024-01-31", "description": "x" * 1001},
            "description",
        ),
    }


@pytest.mark.parametrize(
    "case", ["future date", "not a date", "compact date", "impossible date",
             "short description", "long description"],
)  # fmt: skip
def test_jkk_form_validates_and_saves_nothing(benefits_app, benefits_client, case):
    signed_in(benefits_app, benefits_client)
    form, field = _jkk_cases(benefits_app)[case]
    answer = _file(benefits_client, "jkk", **form)
    assert answer.status_code == 400
    assert f'id="{field}-error"' in answer.text
    assert _claim_count(benefits_app) == 0


def test_jkk_claim_today_is_accepted_and_listed(benefits_app, benefits_client):
    signed_in(benefits_app, benefits_client)
    with benefits_app.test_request_context():
        incident = today().isoformat()
    answer = _file(benefits_client, "jkk", incident_date=incident,
                   description="Tangan terjepit mesin press di lini dua.")  # fmt: skip
    assert answer.status_code == 302
    detail = benefits_client.get(answer.headers["Location"])
    assert "Tangan terjepit mesin press" in detail.text
    listing = benefits_client.get("/claims")
    assert "Work accident (JKK)" in listing.text and "Submitted" in listing.text


def test_posting_without_the_csrf_token_is_refused(benefits_app, benefits_client):
    signed_in(benefits_app, benefits_client)
    answer = benefits_client.post(
        "/claims/new/jht", data={"reason": "retired", "bank_account": "1234567890"}
    )
    assert answer.status_code == 400 and _claim_count(benefits_app) == 0


MEMBER = claims.Person("sub-1", DEMO_NUMBER, "Siti Rahayu")
OFFICER = claims.Person("officer-1", None, "Budi Santoso")


def test_claim_history_records_every_status_change(benefits_app, benefits_clock):
    with benefits_app.test_request_context():
        claim = claims.file_claim(
            MEMBER, "JHT", {"reason": "retired", "bank_account": "1234567890"}
        )
        for status in ("in_review", "approved", "paid_out"):
            benefits_clock.advance(days=1)
            claims.move_claim(claim, status, OFFICER)
        db.session.commit()
        assert [e.status for e in claim.events] == [
            "submitted", "in_review", "approved", "paid_out"
        ]  # fmt: skip
        assert [e.actor_name for e in claim.events] == ["Siti Rahayu"] + ["Budi Santoso"] * 3
        assert [e.at for e in claim.events] == sorted(e.at for e in claim.events)
        with pytest.raises(claims.ClaimTransitionError):
            claims.move_claim(claim, "rejected")


FORBIDDEN = [
    ([], "approved"),  # skip review
    ([], "paid_out"),
    (["in_review"], "submitted"),  # go back
    (["in_review"], "paid_out"),  # skip approval
    (["in_review", "approved"], "in_review"),
    (["in_review", "approved"], "rejected"),  # approved is final but for paying out
    (["rejected"], "in_review"),
    (["in_review", "approved", "paid_out"], "approved"),
    ([], "archived"),
]


@pytest.mark.parametrize(("path", "target"), FORBIDDEN)
def test_a_claim_cannot_skip_or_reverse_a_status(benefits_app, path, target):
    with benefits_app.test_request_context():
        claim = claims.file_claim(MEMBER, "JKK", {"incident_date": "2024-01-31",
                                                  "description": "x" * 30})  # fmt: skip
        for status in path:
            claims.move_claim(
                claim, status, OFFICER, "reason for it" if status == "rejected" else None
            )
        before = (claim.status, len(claim.events))
        with pytest.raises((claims.ClaimTransitionError, KeyError)):
            claims.move_claim(claim, target, OFFICER)
        assert (claim.status, len(claim.events)) == before


def test_another_members_claim_is_not_found(benefits_app, benefits_client):
    with benefits_app.test_request_context():
        other = claims.file_claim(
            claims.Person("sub-2", "99999999999"),
            "JHT",
            {"reason": "retired", "bank_account": "1234567890"},
        )
        db.session.commit()
        other_id = other.id
    signed_in(benefits_app, benefits_client)
    assert benefits_client.get(f"/claims/{other_id}").status_code == 404
