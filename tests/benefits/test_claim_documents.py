"""Supporting documents: checked by content (never by name), size-limited, stored outside the
web root under a random name, and served only to the claim's filer and to claims officers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from clients.benefits.db import db
from clients.benefits.documents import sniff
from clients.benefits.models import Claim, ClaimDocument

from .conftest import (
    JPEG,
    PDF,
    PNG,
    document,
    make_benefits_app,
    signed_in,
    staff_signed_in,
    stored_documents,
)

JHT_FORM = {"csrf_token": "csrf-test", "reason": "resigned", "bank_account": "1234567890"}


def _file(client, attachment=None):
    data = dict(JHT_FORM)
    if attachment is not None:
        data["document"] = attachment
    return client.post("/claims/new/jht", data=data, content_type="multipart/form-data")


def _written(app) -> tuple[int, int, int]:
    """Claims, document rows and stored files."""
    with app.app_context():
        claims = db.session.scalar(select(func.count(Claim.id)))
        documents = db.session.scalar(select(func.count(ClaimDocument.id)))
    return claims, documents, len(stored_documents(app))


def _nothing_written(app) -> bool:
    return _written(app) == (0, 0, 0)


@pytest.mark.parametrize(
    ("data", "kind"),
    [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg"), (b"GIF89a", None),
     (b"<html>%PDF-", None), (b"PK\x03\x04", None), (b"", None)],
)  # fmt: skip
def test_content_decides_the_type(data, kind):
    assert sniff(data) == kind


BAD_FILES = {
    "no file": (None, "Attach a supporting document"),
    "text named .pdf": (document(b"just some text, not a PDF", "ktp.pdf"), "Only PDF, JPEG or PNG"),
    "html named .png": (document(b"<script>alert(1)</script>", "foto.png"), "Only PDF, JPEG"),
    "gif": (document(b"GIF89a" + bytes(20), "foto.gif"), "Only PDF, JPEG or PNG"),
    "empty": (document(b"", "kosong.pdf"), "The file is empty"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_gets_a_field_error_and_writes_nothing(benefits_app, benefits_client, case):
    signed_in(benefits_app, benefits_client)
    attachment, message = BAD_FILES[case]
    answer = _file(benefits_client, attachment)
    assert answer.status_code == 400
    assert 'id="document-error"' in answer.text and message in answer.text
    assert 'aria-describedby="document-error"' in answer.text
    assert _nothing_written(benefits_app)


def test_a_file_over_the_limit_is_refused(tmp_path, benefits_clock):
    # [documents] max_bytes from the config: 200 KB here (5 MB by default).
    benefits_app = make_benefits_app(
        tmp_path, benefits_clock, issuer="http://127.0.0.1:9", base_url="http://127.0.0.1:5001",
        documents={"max_bytes": 200 * 1024},
    )  # fmt: skip
    benefits_client = benefits_app.test_client()
    benefits_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    signed_in(benefits_app, benefits_client)
    limit = 200 * 1024
    assert "up to 200 KB" in benefits_client.get("/claims/new/jht").text
    assert _file(benefits_client, document(PDF + bytes(limit - len(PDF)))).status_code == 302
    written = _written(benefits_app)
    assert written == (1, 1, 1)  # exactly at the limit is accepted
    answer = _file(benefits_client, document(PDF + bytes(limit), "besar.pdf"))
    assert answer.status_code == 400 and "larger than 200 KB" in answer.text
    assert 'id="document-error"' in answer.text
    far_too_big = _file(benefits_client, document(PDF + bytes(2 * limit), "sangat-besar.pdf"))
    assert far_too_big.status_code == 413 and "The file is too large" in far_too_big.text
    assert _written(benefits_app) == written
    with benefits_app.app_context():
        db.engine.dispose()


def test_documents_are_stored_outside_the_web_root_under_random_names(
    benefits_app, benefits_client
):
    signed_in(benefits_app, benefits_client)
    assert _file(benefits_client, document(PNG, "../../static/x.png")).status_code == 302
    (stored,) = stored_documents(benefits_app)
    static = benefits_app.static_folder
    assert not str(stored.resolve()).startswith(str(static))
    assert stored.read_bytes() == PNG and len(stored.name) >= 40 and "png" not in stored.name
    with benefits_app.app_context():
        row = db.session.scalar(select(ClaimDocument))
        assert (row.original_name, row.content_type, row.size) == ("x.png", "image/png", len(PNG))
    assert benefits_app.test_client().get(f"/static/{stored.name}").status_code == 404


def test_only_the_filer_and_staff_get_a_document(benefits_app, benefits_client):
    signed_in(benefits_app, benefits_client)
    detail = _file(benefits_client, document(JPEG, "surat dokter.jpg")).headers["Location"]
    with benefits_app.app_context():
        claim_id, document_id = db.session.execute(
            select(ClaimDocument.claim_id, ClaimDocument.id)
        ).one()
    path = f"/claims/{claim_id}/documents/{document_id}"
    assert path in benefits_client.get(detail).text
    own = benefits_client.get(path)
    assert own.status_code == 200 and own.data == JPEG and own.mimetype == "image/jpeg"
    assert own.headers["Content-Disposition"].startswith("attachment")
    assert own.headers["X-Content-Type-Options"] == "nosniff"
    assert benefits_client.get(f"/claims/{claim_id}/documents/{document_id + 1}").status_code == 404

    other = benefits_app.test_client()
    signed_in(benefits_app, other, sub="sub-2", sid="sid-2", membership_number="99999999999")
    assert other.get(path).status_code == 404
    assert other.get(f"/claims/{claim_id}").status_code == 404

    anonymous = benefits_app.test_client().get(path)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")

    officer = benefits_app.test_client()
    staff_signed_in(benefits_app, officer)
    staff_path = f"/staff/claims/{claim_id}/documents/{document_id}"
    assert staff_path in officer.get(f"/staff/claims/{claim_id}").text
    assert officer.get(staff_path).data == JPEG
    assert other.get(staff_path).status_code == 403  # a member is no officer
