"""Structured logs: JSON lines with a request id, and never a secret (security invariant 9)."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re
from dataclasses import replace

import pytest

from idp.logging_setup import logging_config, redact_path

from .helpers import PASSWORD, csrf_from, mail_text, mails

NIK = "3174051507900001"


@pytest.fixture
def log_output(app):
    """The process's logging as `idp serve` sets it up, written to a buffer for the test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    settings = app.extensions["idp.settings"]
    config = logging_config(replace(settings, log=replace(settings.log, format="json")))
    config["handlers"]["stderr"]["stream"] = stream = io.StringIO()
    logging.config.dictConfig(config)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _post(client, path: str, data: dict, **headers):
    page = client.get(path)
    return client.post(path, data=data | {"csrf_token": csrf_from(page.text)}, headers=headers)


def test_a_full_flow_logs_json_lines_without_any_secret(app, client, actions, log_output):
    actions.create_member(password=None, email=None)
    activated = _post(client, "/account/activate", {
        "membership_number": "12345678901", "nik": NIK, "birthdate": "1990-07-15",
        "email": "siti.baru@example.id", "password": PASSWORD,
    })  # fmt: skip
    assert activated.status_code == 200
    link = re.search(r"http://127\.0\.0\.1:5000(/account/verify/\S+)", mail_text(mails(app)[-1]))
    verify_path = link.group(1)
    client.get(verify_path)
    _post(client, verify_path, {})
    actions.sign_in("siti.baru@example.id", "a wrong password here")
    actions.sign_in("siti.baru@example.id")
    client_id, secret = actions.create_client(
        first_party=True,
        scope="openid profile offline_access",
        grant_types=["authorization_code", "refresh_token"],
    )
    code, verifier, _ = actions.get_code(client_id, scope="openid profile offline_access")
    tokens = actions.redeem(client_id, secret, code, verifier).get_json()
    refreshed = client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(client_id, secret),
    ).get_json()
    client.get("/userinfo", headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    _post(client, "/account/reset", {"identifier": "siti.baru@example.id"})
    reset_path = re.search(r"(/account/reset/\S+)", mail_text(mails(app)[-1])).group(1)
    client.get(reset_path)
    client.get(f"/authorize?client_id={client_id}&code_challenge=secretchallengevalue123")

    output = log_output.getvalue()
    secrets = [PASSWORD, "a wrong password here", NIK, secret, code, verifier,
               tokens["access_token"], tokens["id_token"], tokens["refresh_token"],
               refreshed["access_token"], verify_path.rsplit("/", 1)[1],
               reset_path.rsplit("/", 1)[1], "secretchallengevalue123"]  # fmt: skip
    for value in secrets:
        assert value not in output
    lines = _lines(log_output)  # every line is one JSON object
    requests = [line for line in lines if line["logger"] == "idp.request"]
    audits = [line for line in lines if line["logger"] == "idp.audit"]
    assert len(requests) >= 15 and all(r["request_id"] not in ("", "-") for r in requests)
    paths = {r["http"]["path"] for r in requests}
    assert "/account/verify/<token>" in paths and "/account/reset/<token>" in paths
    assert {a["audit"]["event"] for a in audits} >= {"activated", "signin_failed", "signin"}
    assert all(a["request_id"] != "-" for a in audits)
    assert {"time", "level", "logger", "message"} <= requests[0].keys()


def test_request_id_is_taken_from_the_header_or_made(client, log_output):
    given = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    assert given.headers["X-Request-ID"] == "lb-7f3a.42"
    made = client.get("/healthz", headers={"X-Request-ID": 'bad id {"json": 1} ' + "x" * 80})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    ids = [line["request_id"] for line in _lines(log_output) if line["logger"] == "idp.request"]
    assert ids == ["lb-7f3a.42", made.headers["X-Request-ID"]]


def test_an_audit_event_outside_a_request_is_one_line(app, log_output):
    from idp import audit
    from idp.db import db

    with app.app_context():
        audit.record("account_unlocked", detail={"by": "operator"})
        db.session.commit()
    (line,) = [line for line in _lines(log_output) if line["logger"] == "idp.audit"]
    assert line["audit"] == {"event": "account_unlocked", "member_id": None, "client_id": None,
                             "ip": None, "by": "operator"}  # fmt: skip
    assert line["request_id"] == "-"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/account/verify/IjEyMyI.Zx9-abcDEF_ghij", "/account/verify/…"),
        ("/no/such/page", "/no/such/page"),
        ("/x/0123456789abcdef0123", "/x/…"),
    ],
)
def test_unmatched_paths_have_token_like_segments_blanked(path, expected):
    assert redact_path(path) == expected


def test_unknown_path_is_logged_redacted(client, log_output):
    client.get("/account/verify-old/IjEyMyI.Zx9-abcDEF_ghij_klmnop")
    (line,) = [line for line in _lines(log_output) if line["logger"] == "idp.request"]
    assert line["http"]["path"] == "/account/verify-old/…" and line["http"]["status"] == 404


def test_text_format_in_development_and_json_in_production():
    from idp.config import ServerSettings, Settings, load_settings

    assert load_settings(environ={}).log_format == "text"
    assert Settings(server=ServerSettings(env="production")).log_format == "json"
    bad = {"log": {"format": "xml"}}
    with pytest.raises(Exception, match=r"\[log\] format"):
        load_settings(environ={}, overrides=bad)
