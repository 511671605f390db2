"""Helpdesk commands (`idp users ...`): audited, emailed to the member, and never a secret."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from idp.db import db
from idp.models import AuditEvent, Member, RecoveryCode, SecondFactor

from .helpers import PASSWORD, csrf_from, mail_text, mails

NIK = "3174051507900001"


@pytest.fixture
def member(actions):
    return actions.create_member(phone="081234567890")


def _add_factors(app, member, clock) -> None:
    """A confirmed TOTP factor and one recovery code (their secrets are opaque here)."""
    with app.app_context():
        db.session.add(SecondFactor(member_id=member["id"], kind="totp", secret_encrypted="sealed",
                                    created_at=clock.now(), confirmed_at=clock.now()))  # fmt: skip
        db.session.add(RecoveryCode(member_id=member["id"], code_hash="c" * 64,
                                    created_at=clock.now()))  # fmt: skip
        db.session.commit()


def _member(app, member) -> Member:
    with app.app_context():
        row = db.session.get(Member, member["id"])
        db.session.expunge(row)
        return row


def _audit(app, event: str) -> list[dict]:
    with app.app_context():
        return [
            e.detail
            for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.event == event))
        ]


def _last_mail_to(app, address: str):
    return [m for m in mails(app) if m["To"] == address][-1]


def test_show_gives_the_account_without_secrets(app, cli, member, clock):
    _add_factors(app, member, clock)
    result = cli("users", "show", member["membership_number"], "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["nik"] == "************0001" and NIK not in result.output
    assert info["email"] == member["email"] and info["second_factors"] == ["totp"]
    assert info["recovery_codes_left"] == 1 and info["status"] == "active"
    assert info["online_access"] is True and info["locked_until"] is None
    password_hash = _member(app, member).password_hash
    for secret in (password_hash, "sealed", "c" * 64, PASSWORD):
        assert secret not in result.output
    # Found by email too, in any case; the text form shows the same fields.
    text = cli("users", "show", member["email"].upper())
    assert text.exit_code == 0 and "************0001" in text.output


def test_show_unknown_member_is_a_clear_error(cli):
    result = cli("users", "show", "nobody@example.id")
    assert result.exit_code != 0 and "no member" in result.output


def test_reset_factors_removes_them_and_signs_out_everywhere(
    app, client, cli, actions, member, clock
):
    actions.sign_in(member["email"])
    assert client.get("/account").status_code == 200
    _add_factors(app, member, clock)
    result = cli("users", "reset-factors", member["email"], "--reason", "lost phone", "--json")
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    assert outcome["second_factors_removed"] == 1 and outcome["sessions_ended"] == 1
    info = json.loads(cli("users", "show", member["email"], "--json").output)
    assert info["second_factors"] == [] and info["recovery_codes_left"] == 0
    assert client.get("/account").status_code == 302  # signed out
    assert _audit(app, "second_factors_reset") == [
        {"by": "helpdesk", "reason": "lost phone", "removed": 1}
    ]
    assert "masuk dua langkah" in mail_text(_last_mail_to(app, member["email"]))


def test_set_email_needs_confirmation_and_tells_the_old_address(app, client, cli, member):
    result = cli("users", "set-email", member["membership_number"], "Siti.New@Example.id")
    assert result.exit_code == 0, result.output
    row = _member(app, member)
    assert row.email == "siti.new@example.id" and row.email_verified is False
    assert "siti.new@example.id" in mail_text(_last_mail_to(app, member["email"]))
    link = re.search(r"http://127\.0\.0\.1:5000(/account/verify/\S+)",
                     mail_text(_last_mail_to(app, "siti.new@example.id"))).group(1)  # fmt: skip
    page = client.get(link)
    assert client.post(link, data={"csrf_token": csrf_from(page.text)}).status_code == 200
    assert _member(app, member).email_verified is True
    assert _audit(app, "email_changed") == [{"by": "helpdesk", "reason": ""}]


@pytest.mark.parametrize("email", ["not-an-address", "other@example.id"])
def test_set_email_refuses_a_bad_or_taken_address_and_changes_nothing(
    app, cli, actions, member, email
):
    actions.create_member(membership_number="12345678902", nik="3174051507900002",
                          email="other@example.id")  # fmt: skip
    before = len(mails(app))
    result = cli("users", "set-email", member["email"], email)
    assert result.exit_code != 0 and email in result.output
    assert _member(app, member).email == member["email"] and len(mails(app)) == before
    assert _audit(app, "email_changed") == []


def test_set_phone_needs_confirmation_and_emails_the_member(app, cli, member):
    result = cli("users", "set-phone", member["email"], "0812 9999 8888", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["phone"] == "+6281299998888"
    row = _member(app, member)
    assert row.phone == "+6281299998888" and row.phone_verified is False
    assert "8888" in mail_text(_last_mail_to(app, member["email"]))
    assert _audit(app, "phone_changed") == [{"by": "helpdesk", "reason": ""}]
    refused = cli("users", "set-phone", member["email"], "12345")
    assert refused.exit_code != 0 and "12345" in refused.output
    assert _member(app, member).phone == "+6281299998888"


def test_disable_ends_access_at_once_and_enable_restores_it(app, client, cli, actions, member):
    client_id, secret = actions.create_client(first_party=True)
    actions.sign_in(member["email"])
    token = actions.tokens(client_id, secret)["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/userinfo", headers=bearer).status_code == 200

    disabled = cli("users", "disable", member["email"], "--reason", "fraud report", "--json")
    assert disabled.exit_code == 0, disabled.output
    assert json.loads(disabled.output) == {"membership_number": member["membership_number"],
                                           "status": "disabled", "sessions_ended": 1}  # fmt: skip
    assert client.get("/userinfo", headers=bearer).status_code == 401
    assert client.get("/account").status_code == 302
    assert actions.sign_in(member["email"]).status_code != 302  # refused like a wrong password
    assert "menonaktifkan akses daring" in mail_text(_last_mail_to(app, member["email"]))
    again = cli("users", "disable", member["email"])
    assert again.exit_code != 0 and "already disabled" in again.output

    assert cli("users", "enable", member["email"]).exit_code == 0
    assert actions.sign_in(member["email"]).status_code == 302
    assert "memulihkan akses daring" in mail_text(_last_mail_to(app, member["email"]))
    assert [d["reason"] for d in _audit(app, "account_disabled")] == ["fraud report"]
    assert len(_audit(app, "account_enabled")) == 1


def test_notices_go_out_in_the_members_language(app, cli, member):
    with app.app_context():
        db.session.get(Member, member["id"]).locale = "en"
        db.session.commit()
    assert cli("users", "disable", member["email"]).exit_code == 0
    assert "suspended online access" in mail_text(_last_mail_to(app, member["email"]))


def test_reason_is_limited(cli, member):
    result = cli("users", "disable", member["email"], "--reason", "x" * 201)
    assert result.exit_code != 0 and "200 characters" in result.output
