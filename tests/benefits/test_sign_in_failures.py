"""A failed sign-in tells the member a plain reason and logs the exact one."""

from __future__ import annotations

import logging

import pytest
from authlib.integrations.base_client import OAuthError

from clients.benefits.sign_in_failures import failure_code, plain_reason
from idp.db import db
from idp.hashing import secret_digest
from idp.models import Client


def test_a_refused_client_secret_says_so_plainly_and_logs_invalid_client(live_benefits, caplog):
    with live_benefits.idp.app.app_context():  # the IdP now holds another secret for us
        client = db.session.scalar(db.select(Client).filter_by(client_id=live_benefits.client_id))
        client.client_secret_hash = secret_digest("a secret the benefits app does not have")
        db.session.commit()
    with caplog.at_level(logging.WARNING):
        answer = live_benefits.sign_in()
    assert answer.status_code == 400
    assert "could not identify itself to the Social Security Portal" in answer.text
    assert "not yours" in answer.text
    assert live_benefits.member_sessions() == []
    assert "sign-in refused: invalid_client" in caplog.text


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (OAuthError("invalid_grant"), "invalid_grant", "old, used twice"),
        (OAuthError("access_denied"), "access_denied", "cancelled"),
        (OAuthError("server_error"), "server_error", "could not confirm"),
        (ValueError("iss"), "ValueError: iss", "could not confirm"),
    ],
)
def test_each_cause_has_a_plain_reason(benefits_app, error, code, words):
    with benefits_app.test_request_context(headers={"Accept-Language": "en"}):
        assert failure_code(error) == code
        assert words in plain_reason(error)
