"""Claims of all four programs: each kind says what it needs first, files with a document, and
refuses bad fields without saving anything. JKM (and a JP survivors' pension) is filed by an
heir signed in with their own account, for the deceased's membership number."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from clients.benefits.db import db
from clients.benefits.models import Claim

from .conftest import DEMO_NUMBER, JPEG, PNG, document, signed_in, stored_documents

DECEASED = "44455566677"
HEIR = {"sub": "heir-1", "sid": "sid-heir", "name": "Dewi Lestari", "membership_number": None,
        "email": "dewi@example.id"}  # fmt: skip


def _file(client, kind: str, data: bytes | None = None, **form):
    fields = {"csrf_token": "csrf-test", **form}
    fields["document"] = document(data, "bukti.bin") if data is not None else document()
    return client.post(f"/claims/new/{kind}", data=fields, content_type="multipart/form-data")


def _claims(app) -> list[Claim]:
    with app.app_context():
        rows = db.session.scalars(select(Claim).order_by(Claim.id)).all()
        for row in rows:
            _ = row.documents, row.events
        return rows


def test_each_kind_shows_what_it_needs_before_the_member_starts(benefits_app, benefits_client):
    signed_in(benefits_app, benefits_client)
    index = benefits_client.get("/claims")
    for kind in ("jht", "jp", "jkk", "jkm"):
        assert f'id="kind-{kind}"' in index.text
        page = benefits_client.get(f"/claims/new/{kind}")
        assert page.status_code == 200
        assert "What you need before you start" in page.text
        assert 'enctype="multipart/form-data"' in page.text and 'name="document"' in page.text
    assert "death certificate" in benefits_client.get("/claims/new/jkm").text
    assert benefits_client.get("/claims/new/jkx").status_code == 404


def test_a_member_files_every_kind_with_a_document(benefits_app, benefits_client):
    signed_in(benefits_app, benefits_client, email="siti@example.id")
    filed = [
        _file(benefits_client, "jht", reason="resigned", bank_account="1234567890"),
        _file(benefits_client, "jp", PNG, reason="retirement", bank_account="12345678901"),
        _file(benefits_client, "jkk", JPEG, incident_date="2024-05-02",
              description="Jari tergores mesin potong di bagian produksi."),
        _file(benefits_client, "jkm", reason="", deceased_number=DECEASED, relationship="parent",
              date_of_death="2024-06-01", bank_account="1234567890"),
    ]  # fmt: skip
    assert [answer.status_code for answer in filed] == [302] * 4
    rows = _claims(benefits_app)
    assert [(c.program, c.status) for c in rows] == [
        ("JHT", "submitted"), ("JP", "submitted"), ("JKK", "submitted"), ("JKM", "submitted")
    ]  # fmt: skip
    assert [c.documents[0].content_type for c in rows] == [
        "application/pdf", "image/png", "image/jpeg", "application/pdf"
    ]  # fmt: skip
    jht, jp, jkk, jkm = rows
    assert jp.reason == "retirement" and jp.membership_number == DEMO_NUMBER
    assert jkm.membership_number == DECEASED and jkm.kinship == "parent"
    assert jkm.filed_by == "sub-1" and jkm.contact_email == "siti@example.id"
    assert len(stored_documents(benefits_app)) == 4
    listing = benefits_client.get("/claims").text
    for claim in rows:
        assert f"/claims/{claim.id}" in listing
    detail = benefits_client.get(f"/claims/{jkm.id}").text
    assert DECEASED in detail and "Parent" in detail and "June 1, 2024" in detail


def test_an_heir_without_a_membership_files_jkm_and_a_survivors_pension(benefits_app):
    client = benefits_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    signed_in(benefits_app, client, **HEIR)
    death = {"deceased_number": DECEASED, "date_of_death": "2025-01-15",
             "bank_account": "9876543210"}  # fmt: skip
    assert _file(client, "jkm", relationship="spouse", **death).status_code == 302
    survivors = _file(client, "jp", reason="survivors", relationship="child", **death)
    assert survivors.status_code == 302
    # Without a membership of their own: no JHT or JKK, and no retirement pension.
    assert client.get("/claims/new/jht").status_code == 403
    refused = _file(client, "jp", reason="retirement", bank_account="9876543210")
    assert refused.status_code == 400 and 'id="reason-error"' in refused.text
    rows = _claims(benefits_app)
    assert [(c.program, c.membership_number, c.filed_by) for c in rows] == [
        ("JKM", DECEASED, "heir-1"), ("JP", DECEASED, "heir-1")
    ]  # fmt: skip
    listed = re.findall(r'href="/claims/(\d+)"', client.get("/claims").text)
    assert {int(n) for n in listed} == {c.id for c in rows}


JKM_CASES = {
    "no number": ({"deceased_number": ""}, "deceased_number"),
    "short number": ({"deceased_number": "123"}, "deceased_number"),
    "symbols": ({"deceased_number": "4445556667-"}, "deceased_number"),
    "own number": ({"deceased_number": DEMO_NUMBER}, "deceased_number"),
    "no relationship": ({"relationship": ""}, "relationship"),
    "unknown relationship": ({"relationship": "neighbour"}, "relationship"),
    "future death": ({"date_of_death": "2999-01-01"}, "date_of_death"),
    "bad date": ({"date_of_death": "15/01/2025"}, "date_of_death"),
    "bank account": ({"bank_account": "12"}, "bank_account"),
}


@pytest.mark.parametrize("case", JKM_CASES)
def test_jkm_form_validates_and_saves_nothing(benefits_app, benefits_client, case):
    signed_in(benefits_app, benefits_client)
    change, field = JKM_CASES[case]
    form = {"deceased_number": DECEASED, "relationship": "spouse",
            "date_of_death": "2025-01-15", "bank_account": "1234567890"} | change  # fmt: skip
    answer = _file(benefits_client, "jkm", **form)
    assert answer.status_code == 400
    assert f'id="{field}-error"' in answer.text
    with benefits_app.app_context():
        assert db.session.scalar(select(func.count(Claim.id))) == 0
    assert stored_documents(benefits_app) == []


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"reason": "early"}, "reason"),
        ({"reason": "survivors", "relationship": "sibling"}, "relationship"),  # not a JP heir
        ({"reason": "survivors", "relationship": "spouse", "deceased_number": ""},
         "deceased_number"),
        ({"reason": "disability", "bank_account": "abc"}, "bank_account"),
    ],
)  # fmt: skip
def test_jp_form_validates_and_saves_nothing(benefits_app, benefits_client, form, field):
    signed_in(benefits_app, benefits_client)
    full = {"bank_account": "1234567890", "deceased_number": DECEASED,
            "date_of_death": "2025-01-15"} | form  # fmt: skip
    answer = _file(benefits_client, "jp", **full)
    assert answer.status_code == 400 and f'id="{field}-error"' in answer.text
    assert _claims(benefits_app) == [] and stored_documents(benefits_app) == []
