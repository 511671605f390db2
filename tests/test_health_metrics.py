"""What operators watch: /healthz, /readyz and /metrics (Prometheus text format)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from idp.db import db
from idp.keyring import retire_key
from idp.mail import send_mail
from idp.models import SigningKey

from .helpers import Actions

TOKEN = "a-metrics-bearer-token-of-32-characters-or-more"


def _samples(client, **headers) -> dict[tuple, float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_healthz_answers_while_the_process_lives(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_is_ready_with_a_database_a_key_and_no_stuck_queue(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "signing_key": "ok", "delivery_queue": "ok"},
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_without_an_active_rs256_key(app, client):
    with app.app_context():
        db.session.execute(db.update(SigningKey).values(state="retired"))
        db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["signing_key"] == "no active RS256 signing key"


def test_readyz_when_the_database_is_unreachable(make_app, tmp_path):
    app = make_app(database={"url": f"sqlite:///{tmp_path}/missing/dir/idp.sqlite3"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"] == "unavailable" and checks["signing_key"] == "unavailable"


def test_readyz_reports_a_stuck_queue_until_a_worker_sends(make_app, cli, make_config, clock):
    app = make_app(delivery={"mode": "worker"})
    client = app.test_client()
    with app.app_context():
        send_mail("siti@example.id", "Halo", "teks", "<p>teks</p>")
    assert client.get("/readyz").status_code == 200  # due, but not late yet
    clock.advance(seconds=901)
    late = client.get("/readyz")
    assert late.status_code == 503
    assert late.get_json()["checks"]["delivery_queue"] == "stuck: mail"
    # `idp worker --once` sends it from the same database (on the wall clock: it is due).
    result = cli("worker", "--once", config=make_config(delivery={"mode": "worker"}))
    assert result.exit_code == 0, result.output
    assert client.get("/readyz").status_code == 200


def test_metrics_count_sign_ins_lockouts_tokens_and_latency(make_app):
    app = make_app(lockout={"max_failures": 2})
    client = app.test_client()
    actions = Actions(app, client)
    before = _samples(client)
    member = actions.create_member()
    client_id, secret = actions.create_client(first_party=True)
    actions.sign_in(member["email"], "a wrong password here")
    actions.sign_in(member["email"], "a wrong password here")  # the second failure locks
    actions.sign_in(member["email"])  # refused: locked
    with app.app_context():
        from idp.auth.lockout import unlock_identifier

        unlock_identifier(member["email"], reason="operator")
        db.session.commit()
    actions.sign_in(member["email"])
    actions.tokens(client_id, secret)
    after = _samples(client)

    def grew(name: str, **labels) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("idp_signins_total", result="failure", factor="password") == 2
    assert grew("idp_signins_total", result="locked", factor="password") == 1
    assert grew("idp_signins_total", result="success", factor="password") == 1
    assert grew("idp_lockouts_total") == 1
    assert grew("idp_tokens_issued_total", grant="authorization_code", client=client_id) == 1
    assert grew("idp_request_duration_seconds_count", endpoint="oidc.token") == 1
    assert grew("idp_http_requests_total", endpoint="oidc.token", status="200") == 1
    # Queue gauges are read from the database at scrape time.
    assert ("idp_delivery_queue_pending", (("channel", "mail"),)) in after


def test_metrics_count_throttled_requests(make_app):
    app = make_app(lockout={"ip_max_failures": 2})
    client = app.test_client()
    actions = Actions(app, client)
    before = _samples(client)
    for _ in range(3):
        actions.sign_in("nobody@example.id", "a wrong password here")
    throttled = actions.sign_in("nobody@example.id", "a wrong password here")
    assert throttled.status_code == 429
    after = _samples(client)
    assert _value(after, "idp_throttled_requests_total", endpoint="auth.login") > _value(
        before, "idp_throttled_requests_total", endpoint="auth.login"
    )


@pytest.mark.parametrize(
    ("remote", "headers", "status"),
    [
        ("127.0.0.1", {}, 200),
        ("::1", {}, 200),
        ("10.1.2.3", {}, 200),  # in allow_from below
        ("203.0.113.9", {}, 404),
        ("203.0.113.9", {"Authorization": f"Bearer {TOKEN}"}, 200),
        ("203.0.113.9", {"Authorization": "Bearer wrong-token"}, 404),
        ("203.0.113.9", {"Authorization": f"Basic {TOKEN}"}, 404),
    ],
)
def test_metrics_only_for_allowed_networks_or_the_bearer_token(make_app, remote, headers, status):
    app = make_app(metrics={"allow_from": ["127.0.0.0/8", "::1/128", "10.0.0.0/8"],
                            "bearer_token": TOKEN})  # fmt: skip
    response = app.test_client().get(
        "/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote}
    )
    assert response.status_code == status
    if status == 404:
        assert b"idp_" not in response.data


def test_metrics_default_to_loopback_only(client):
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert outside.status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200


def test_bad_metrics_settings_are_refused_naming_the_key(cli, make_config):
    for sections, key in (
        ({"metrics": {"allow_from": ["not-a-network"]}}, "[metrics] allow_from"),
        ({"metrics": {"bearer_token": "short"}}, "[metrics] bearer_token"),
        ({"health": {"queue_stuck_seconds": 0}}, "[health] queue_stuck_seconds"),
    ):
        result = cli("keys", "list", config=make_config(**sections))
        assert result.exit_code != 0 and key in result.output


def test_retire_all_keeps_readiness_honest(app, client):
    with app.app_context():
        active = db.session.scalar(
            db.select(SigningKey.kid).where(SigningKey.alg == "RS256", SigningKey.state == "active")
        )
        retire_key(active)  # a fresh active key takes over at once
    assert client.get("/readyz").status_code == 200
