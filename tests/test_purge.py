"""Retention: `idp purge` deletes what no longer serves a purpose, so storage stays bounded."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from idp.db import db
from idp.models import (
    ActionToken,
    AuditEvent,
    AuthorizationCode,
    InitialAccessToken,
    LoginThrottle,
    LogoutDelivery,
    OutboxMessage,
    RateBucket,
    RefreshToken,
    SpentAssertion,
    SpentChallenge,
    SsoSession,
    Token,
)
from idp.oidc.registration import mint_initial_access_token
from idp.purge import purge

from .helpers import csrf_from

PURGED = {
    "authorization_codes": AuthorizationCode,
    "access_tokens": Token,
    "refresh_tokens": RefreshToken,
    "sso_sessions": SsoSession,
    "action_tokens": ActionToken,
    "outbox_messages": OutboxMessage,
    "logout_deliveries": LogoutDelivery,
    "login_throttles": LoginThrottle,
    "rate_buckets": RateBucket,
    "initial_access_tokens": InitialAccessToken,
    "spent_assertions": SpentAssertion,
    "spent_webauthn_challenges": SpentChallenge,
    "audit_events": AuditEvent,
}


def _counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            name: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for name, model in PURGED.items()
        }


@pytest.fixture
def seeded(app, client, actions, clock):
    """One member's ordinary day: every kind of row the purge knows about."""
    member = actions.create_member()
    client_id, secret = actions.create_client(
        first_party=True,
        scope="openid profile offline_access",
        grant_types=["authorization_code", "refresh_token"],
        backchannel_logout_uri="http://127.0.0.1:9/logout",
    )
    actions.sign_in("nobody@example.id", "a wrong password here")  # throttle, rate bucket, audit
    actions.sign_in(member["email"])
    tokens = actions.tokens(client_id, secret, scope="openid profile offline_access")
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    client.post("/token", auth=(client_id, secret), data=refresh)
    page = client.get("/account/reset")
    client.post("/account/reset", data={"identifier": member["email"],
                                        "csrf_token": csrf_from(page.text)})  # fmt: skip
    page = client.get("/account/sessions")
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})  # queues a logout token
    app.extensions["idp.logout"].stop()  # the delivery stays queued: nothing listens on :9
    with app.app_context():
        mint_initial_access_token(1, 3600)
        db.session.add(SpentAssertion(client_id=client_id, jti_hash="a" * 64,
                                      expires_at=clock.now() + timedelta(minutes=5)))  # fmt: skip
        db.session.add(SpentChallenge(challenge_hash="b" * 64,
                                      expires_at=clock.now() + timedelta(minutes=5)))  # fmt: skip
        db.session.commit()
    return client_id


def test_purge_keeps_what_is_still_in_force(app, seeded):
    before = _counts(app)
    assert [name for name in PURGED if before[name] == 0] == []  # every kind was seeded
    with app.app_context():
        removed = purge()
    after = _counts(app)
    # Nothing live goes: the tokens, the refresh family, the fresh audit trail, the pending
    # logout delivery and the registration token all stay.
    for name in ("access_tokens", "refresh_tokens", "audit_events", "logout_deliveries",
                 "initial_access_tokens", "spent_assertions", "spent_webauthn_challenges",
                 "authorization_codes"):  # fmt: skip
        assert after[name] == before[name], name
    assert sum(removed.values()) == sum(before.values()) - sum(after.values())


def test_purge_brings_storage_back_to_bounded(app, cli, seeded, clock):
    with app.app_context():
        # Let the queued logout be given up, as its retries would after a while.
        db.session.execute(sa.update(LogoutDelivery).values(next_attempt_at=None))
        db.session.commit()
    clock.advance(days=401)  # past every lifetime, and past [retention] audit_days
    with app.app_context():
        removed = purge()
    assert _counts(app) == dict.fromkeys(PURGED, 0)
    assert all(removed[name] > 0 for name in PURGED), removed
    with app.app_context():
        assert purge() == dict.fromkeys(PURGED, 0)  # nothing left to do


def test_audit_events_are_kept_for_the_configured_days(make_app, clock):
    app = make_app(retention={"audit_days": 30})
    from idp import audit

    with app.app_context():
        audit.record("account_unlocked", detail={"by": "operator"})
        db.session.commit()
    clock.advance(days=29)
    with app.app_context():
        assert purge()["audit_events"] == 0
    clock.advance(days=2)
    with app.app_context():
        assert purge()["audit_events"] == 1


def test_cli_purge_prints_what_it_removed(cli):
    result = cli("purge", "--json")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)) == set(PURGED)


def test_bad_retention_is_refused_naming_the_key(cli, make_config):
    result = cli("purge", config=make_config(retention={"audit_days": 0}))
    assert result.exit_code != 0 and "[retention] audit_days" in result.output
