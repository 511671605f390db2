"""Profile changes (issue 4): recent authentication, address, phone by SMS code, email change,
the updated_at claim, and the member's own security log."""

from __future__ import annotations

import email
import email.policy
import json
import re

import pytest
from sqlalchemy import select

from idp.db import db
from idp.models import Member

from .helpers import PASSWORD, Actions, csrf_from


@pytest.fixture
def signed_in(actions):
    member = actions.create_member()
    actions.sign_in(member["email"])
    return member


def _post(client, path: str, data: dict):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data=data | {"csrf_token": csrf_from(page.text)})


def _member(app) -> Member:
    with app.app_context():
        return db.session.scalar(select(Member))


def _mails(app) -> list:
    outbox = app.extensions["idp.settings"].mail_outbox_dir
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(outbox.glob("*.eml"))
    ] if outbox.exists() else []  # fmt: skip


def _sms(app) -> list[dict]:
    outbox = app.extensions["idp.settings"].sms_outbox_dir
    return [json.loads(p.read_text()) for p in sorted(outbox.glob("*.json"))]


def test_sensitive_changes_need_a_recent_password(app, client, clock, signed_in):
    clock.advance(minutes=11)
    response = client.get("/account/address")
    assert response.headers["Location"].startswith("/account/confirm?")
    wrong = _post(client, response.headers["Location"], {"password": "not the password"})
    assert wrong.status_code == 400 and 'id="password-error"' in wrong.text
    right = _post(client, response.headers["Location"], {"password": PASSWORD})
    assert right.headers["Location"] == "/account/address"
    assert client.get("/account/address").status_code == 200


def test_address_change_moves_updated_at(app, client, clock, signed_in):
    before = _member(app).updated_at
    clock.advance(seconds=30)
    response = _post(
        client,
        "/account/address",
        {"street_address": "Jl. Merdeka 10", "locality": "Bandung", "region": "Jawa Barat",
         "postal_code": "40111"},
    )  # fmt: skip
    assert response.status_code == 302
    member = _member(app)
    assert member.address["formatted"] == "Jl. Merdeka 10, Bandung, Jawa Barat, 40111, Indonesia"
    assert member.updated_at > before


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"street_address": "", "locality": "Bandung"}, "street_address"),
        ({"street_address": "Jl. A", "locality": "Bandung", "postal_code": "123"}, "postal_code"),
    ],
)
def test_bad_address_saves_nothing(app, client, signed_in, form, field):
    response = _post(client, "/account/address", form)
    assert response.status_code == 400 and f'id="{field}-error"' in response.text
    assert _member(app).address is None


@pytest.mark.parametrize("raw", ["0812-9999-8888", "6281299998888", "+62 812 9999 8888"])
def test_phone_is_saved_only_after_the_sms_code(app, client, signed_in, raw):
    sent = _post(client, "/account/phone", {"phone": raw})
    assert sent.status_code == 200 and 'id="code-sent"' in sent.text
    assert _member(app).phone == "+6281234567890"  # unchanged until confirmed
    (message,) = _sms(app)
    assert message["to"] == "+6281299998888"
    code = re.search(r"\b(\d{6})\b", message["body"]).group(1)
    wrong = client.post(
        "/account/phone", data={"code": "000000", "csrf_token": csrf_from(sent.text)}
    )
    assert wrong.status_code == 400 and 'id="code-error"' in wrong.text
    done = client.post("/account/phone", data={"code": code, "csrf_token": csrf_from(sent.text)})
    assert done.status_code == 302
    member = _member(app)
    assert member.phone == "+6281299998888" and member.phone_verified is True


def test_phone_code_allows_five_tries_and_expires(app, client, clock, signed_in):
    sent = _post(client, "/account/phone", {"phone": "081299998888"})
    code = re.search(r"\b(\d{6})\b", _sms(app)[0]["body"]).group(1)
    csrf = csrf_from(sent.text)
    for _ in range(5):
        client.post("/account/phone", data={"code": "999999" if code != "999999" else "000000",
                                            "csrf_token": csrf})  # fmt: skip
    locked = client.post("/account/phone", data={"code": code, "csrf_token": csrf})
    assert locked.status_code == 400 and _member(app).phone == "+6281234567890"
    clock.advance(seconds=61)
    _post(client, "/account/phone", {"phone": "081299998888"})
    fresh = re.search(r"\b(\d{6})\b", _sms(app)[-1]["body"]).group(1)
    clock.advance(minutes=5, seconds=1)
    expired = client.post("/account/phone", data={"code": fresh, "csrf_token": csrf})
    assert expired.status_code == 400


def test_bad_phone_and_quick_resend_are_refused(app, client, signed_in):
    assert _post(client, "/account/phone", {"phone": "12345"}).status_code == 400
    assert _post(client, "/account/phone", {"phone": "081299998888"}).status_code == 200
    again = _post(client, "/account/phone", {"phone": "081299998888"})
    assert again.status_code == 400 and len(_sms(app)) == 1


def test_email_change_takes_effect_after_verification(app, client, signed_in):
    sent = _post(client, "/account/email", {"email": "Siti.New@Example.id"})
    assert sent.status_code == 200 and 'id="email-sent"' in sent.text
    assert _member(app).email == "siti@example.id"
    to_new, to_old = _mails(app)
    assert to_new["To"] == "siti.new@example.id" and to_old["To"] == "siti@example.id"
    link = re.search(
        r"http://127\.0\.0\.1:5000(/account/email/confirm/\S+)",
        to_new.get_body(("plain",)).get_content(),
    ).group(1)
    page = client.get(link)
    assert client.post(link, data={"csrf_token": csrf_from(page.text)}).status_code == 200
    member = _member(app)
    assert member.email == "siti.new@example.id" and member.email_verified is True
    assert _mails(app)[-1]["To"] == "siti@example.id"  # the old address is told


def test_email_of_another_account_is_not_revealed(app, client, actions, signed_in):
    from datetime import date

    actions.create_member(
        membership_number="99988877766", nik="3174051208850002", birthdate=date(1985, 8, 12),
        email="budi@example.id", name="Budi Santoso",
    )  # fmt: skip
    response = _post(client, "/account/email", {"email": "BUDI@example.id"})
    assert response.status_code == 200 and 'id="email-sent"' in response.text
    assert _member(app).email == "siti@example.id"
    assert [m["To"] for m in _mails(app)] == ["budi@example.id"]


def test_updated_at_claim_follows_changes(app, client, actions, clock, signed_in):
    client_id, secret = actions.create_client(first_party=True)
    first = actions.tokens(client_id, secret)
    bearer = {"Authorization": f"Bearer {first['access_token']}"}
    before = client.get("/userinfo", headers=bearer).get_json()["updated_at"]
    clock.advance(seconds=5)
    _post(client, "/account/address", {"street_address": "Jl. B 2", "locality": "Depok"})
    after = client.get("/userinfo", headers=bearer).get_json()["updated_at"]
    assert after == before + 5


def test_security_log_shows_only_my_events(app, client, actions, signed_in):
    from datetime import date

    actions.create_member(
        membership_number="99988877766", nik="3174051208850002", birthdate=date(1985, 8, 12),
        email="budi@example.id", name="Budi Santoso",
    )  # fmt: skip
    Actions(app, app.test_client()).sign_in("budi@example.id", "a wrong password x")
    actions.sign_in("siti@example.id", "a wrong password y")
    actions.sign_in("siti@example.id")
    with client.session_transaction() as flask_session:
        flask_session["locale"] = "en"
    page = client.get("/account/security")
    assert page.status_code == 200
    assert page.text.count("Failed sign-in attempt") == 1  # mine, not Budi's
    assert page.text.count("Signed in") == 2
    assert "127.0.0.1" in page.text and "Reset your password" in page.text
