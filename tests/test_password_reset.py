"""Forgot password and change password (issue 4): enumeration-safe, single use, revoking."""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from sqlalchemy import select

from idp.db import db
from idp.models import SsoSession, Token

from .helpers import PASSWORD, Actions, csrf_from

NEW_PASSWORD = "hujan turun di sore hari"


def _mails(app) -> list:
    outbox = app.extensions["idp.settings"].mail_outbox_dir
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(outbox.glob("*.eml"))
    ] if outbox.exists() else []  # fmt: skip


def _reset_link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://127\.0\.0\.1:5000(/account/reset/\S+)", text).group(1)


def _request_reset(client, identifier: str):
    page = client.get("/account/reset")
    return client.post(
        "/account/reset", data={"identifier": identifier, "csrf_token": csrf_from(page.text)}
    )


def _choose(client, link: str, password: str = NEW_PASSWORD):
    page = client.get(link)
    if page.status_code != 200:
        return page
    return client.post(link, data={"password": password, "csrf_token": csrf_from(page.text)})


@pytest.fixture
def member(actions):
    return actions.create_member()


def test_request_answers_the_same_for_existing_and_missing_accounts(app, client, member):
    existing = _request_reset(client, "siti@example.id")
    missing = _request_reset(client, "nobody@example.id")
    by_number = _request_reset(client, "99999999999")
    assert existing.status_code == missing.status_code == by_number.status_code == 200
    assert existing.text == missing.text == by_number.text
    assert [m["To"] for m in _mails(app)] == ["siti@example.id"]


def test_reset_by_membership_number_sets_the_password(app, client, actions, member):
    _request_reset(client, "12345678901")
    response = _choose(client, _reset_link(_mails(app)[0]))
    assert response.status_code == 200
    assert actions.sign_in("siti@example.id", PASSWORD).status_code == 400
    assert actions.sign_in("siti@example.id", NEW_PASSWORD).status_code == 302
    changed = _mails(app)[-1]
    assert changed["Subject"] in ("Kata sandi Anda telah diubah", "Your password was changed")


def test_link_works_once(app, client, member):
    _request_reset(client, "siti@example.id")
    link = _reset_link(_mails(app)[0])
    assert _choose(client, link).status_code == 200
    assert _choose(client, link, "another long passphrase here").status_code == 400


def test_link_expires_after_30_minutes(app, client, clock, member):
    _request_reset(client, "siti@example.id")
    link = _reset_link(_mails(app)[0])
    clock.advance(minutes=30, seconds=1)
    assert _choose(client, link).status_code == 400


def test_newer_link_kills_the_older_one(app, client, member):
    _request_reset(client, "siti@example.id")
    _request_reset(client, "siti@example.id")
    first, second = (_reset_link(m) for m in _mails(app))
    assert _choose(client, first).status_code == 400
    assert _choose(client, second).status_code == 200


def test_password_change_kills_outstanding_links(app, client, actions, member):
    _request_reset(client, "siti@example.id")
    link = _reset_link(_mails(app)[0])
    actions.sign_in("siti@example.id")
    page = client.get("/account/password")
    client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert _choose(client, link, "yet another long passphrase").status_code == 400


def test_weak_new_password_is_refused_and_the_link_survives(app, client, actions, member):
    _request_reset(client, "siti@example.id")
    link = _reset_link(_mails(app)[0])
    weak = _choose(client, link, "password1234")
    assert weak.status_code == 400 and 'id="password-error"' in weak.text
    assert actions.sign_in("siti@example.id", PASSWORD).status_code == 302
    assert _choose(client, link).status_code == 200


def test_reset_revokes_sessions_and_tokens(app, client, actions, member):
    client_id, secret = actions.create_client(first_party=True)
    actions.sign_in("siti@example.id")
    tokens = actions.tokens(client_id, secret)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/userinfo", headers=bearer).status_code == 200

    other_browser = app.test_client()
    _request_reset(other_browser, "siti@example.id")
    assert _choose(other_browser, _reset_link(_mails(app)[0])).status_code == 200

    assert client.get("/userinfo", headers=bearer).status_code == 401
    assert client.get("/account").status_code == 302  # signed out
    with app.app_context():
        live = db.session.scalars(select(SsoSession).where(SsoSession.ended_at.is_(None))).all()
        assert live == []
        assert all(t.revoked_at for t in db.session.scalars(select(Token)))


def test_change_password_needs_the_current_one_and_keeps_this_session(app, client, actions):
    actions.create_member()
    actions.sign_in("siti@example.id")
    other_browser = app.test_client()
    Actions(app, other_browser).sign_in("siti@example.id")
    page = client.get("/account/password")
    wrong = client.post(
        "/account/password",
        data={
            "current_password": "not my password at all",
            "password": NEW_PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert wrong.status_code == 400 and 'id="current_password-error"' in wrong.text
    done = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert done.status_code == 200 and 'id="changed"' in done.text
    assert client.get("/account").status_code == 200  # this browser stays signed in
    assert other_browser.get("/account").status_code == 302  # the other one is signed out
    assert _mails(app)[-1]["Subject"] in (
        "Kata sandi Anda telah diubah",
        "Your password was changed",
    )


def test_a_flood_of_resets_mails_one_account_at_most_five_times_an_hour(app, client, member):
    answers = [_request_reset(client, "siti@example.id") for _ in range(12)]
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1  # the same answer when limited
    assert len(_mails(app)) == 5


def test_one_client_ip_gets_at_most_twenty_resets_an_hour(app, actions, client, clock):
    for n in range(25):
        actions.create_member(
            membership_number=f"5{n:010d}", nik=f"31740515079{n:05d}", email=f"m{n}@example.id"
        )
    answers = [_request_reset(client, f"m{n}@example.id") for n in range(25)]
    assert len({a.text for a in answers}) == 1
    assert len(_mails(app)) == 20
    token = csrf_from(client.get("/account/reset").text)
    other_ip = client.post(
        "/account/reset",
        data={"identifier": "m24@example.id", "csrf_token": token},
        environ_base={"REMOTE_ADDR": "192.0.2.77"},
    )
    assert other_ip.status_code == 200 and len(_mails(app)) == 21
    clock.advance(hours=1)
    _request_reset(client, "m0@example.id")
    assert len(_mails(app)) == 22  # a new hour, a new allowance
