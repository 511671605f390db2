"""Security invariants from DESIGN.md that cut across features."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from idp.db import db
from idp.models import AuditEvent, AuthorizationCode

from .helpers import PASSWORD


def test_logs_hold_no_passwords_tokens_codes_or_nik(actions, caplog):
    caplog.set_level(logging.DEBUG)
    member = actions.create_member()
    client_id, secret = actions.create_client(first_party=True)
    actions.sign_in(member["email"], "a wrong password here")
    actions.sign_in("nobody@example.id", "a wrong password here")
    actions.sign_in(member["email"])
    code, verifier, _ = actions.get_code(client_id)
    body = actions.redeem(client_id, secret, code, verifier).get_json()
    actions.redeem(client_id, secret, code, verifier)  # replay, logged as an audit event
    text = caplog.text
    for secret_value in (
        PASSWORD,
        "a wrong password here",
        secret,
        code,
        verifier,
        body["access_token"],
        body["id_token"],
        "3174051507900001",
        "nobody@example.id",
    ):
        assert secret_value not in text
    assert "signin_failed" in text and "code_replayed" in text


def test_codes_are_stored_hashed(app, actions):
    member = actions.create_member()
    client_id, _ = actions.create_client(first_party=True)
    actions.sign_in(member["email"])
    code, _, _ = actions.get_code(client_id)
    with app.app_context():
        stored = db.session.scalars(sa.select(AuthorizationCode.code_hash)).all()
    assert stored and code not in stored


def test_failed_sign_in_for_unknown_identifier_is_audited_hashed(app, actions):
    actions.sign_in("nobody@example.id", "some wrong password")
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent)).one()
    assert event.event == "signin_failed" and event.member_id is None
    assert "nobody" not in str(event.detail)


def test_stored_times_are_utc(app, actions):
    member = actions.create_member()
    actions.sign_in(member["email"])
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent)).first()
    assert event.created_at.utcoffset().total_seconds() == 0


def test_default_argon2_parameters_meet_owasp_minimum():
    from idp.config import load_settings

    conf = load_settings(environ={}).passwords
    assert conf.argon2_memory_cost >= 19 * 1024
    assert conf.argon2_time_cost >= 2
    assert conf.argon2_parallelism >= 1
