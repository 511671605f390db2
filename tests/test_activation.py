"""Activation ("Daftar") and email verification (issue 4), over HTTP with the mail outbox."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import date

import pytest
from sqlalchemy import select

from idp.db import db
from idp.models import AuditEvent, Member

from .helpers import csrf_from, query_of

GOOD = {
    "membership_number": "12345678901",
    "nik": "3174051507900001",
    "birthdate": "1990-07-15",
    "email": "Siti.Baru@Example.id",
    "password": "sepeda biru di pagi cerah",
}


@pytest.fixture
def record(actions):
    """A membership record registered by an employer, without online access."""
    return actions.create_member(password=None, email=None)


def _post(client, path: str, data: dict):
    page = client.get(path)
    return client.post(path, data=data | {"csrf_token": csrf_from(page.text)})


def _mails(app) -> list:
    outbox = app.extensions["idp.settings"].mail_outbox_dir
    if not outbox.exists():
        return []
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(outbox.glob("*.eml"))
    ]


def _link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://127\.0\.0\.1:5000(/account/verify/\S+)", text).group(1)


def _member(app, number: str = "12345678901") -> Member:
    with app.app_context():
        return db.session.scalar(select(Member).where(Member.membership_number == number))


def test_activation_then_verification(app, client, record):
    response = _post(client, "/account/activate", GOOD)
    assert response.status_code == 200
    assert "siti.baru@example.id" in response.text
    member = _member(app)
    assert member.password_hash.startswith("$argon2id$")
    assert member.email == "siti.baru@example.id" and member.email_verified is False

    (message,) = _mails(app)
    assert message["To"] == "siti.baru@example.id"
    link = _link(message)
    confirm_page = client.get(link)
    assert confirm_page.status_code == 200 and _member(app).email_verified is False
    confirmed = client.post(link, data={"csrf_token": csrf_from(confirm_page.text)})
    assert confirmed.status_code == 200
    assert _member(app).email_verified is True

    reused = client.post(link, data={"csrf_token": csrf_from(confirm_page.text)})
    assert reused.status_code == 400


def test_verification_link_expires_after_24_hours(app, client, clock, record):
    _post(client, "/account/activate", GOOD)
    link = _link(_mails(app)[0])
    clock.advance(hours=24, seconds=1)
    page = client.get(link)
    assert client.post(link, data={"csrf_token": csrf_from(page.text)}).status_code == 400
    assert _member(app).email_verified is False


def test_forged_link_is_refused(client, record):
    page = client.get("/account/verify/not-a-token")
    response = client.post("/account/verify/not-a-token", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "change",
    [
        {"membership_number": "99999999999"},
        {"nik": "3174051507900002"},
        {"birthdate": "1990-07-16", "nik": "3174051607900001"},
    ],
    ids=["unknown-membership", "other-nik", "other-birthdate"],
)
def test_mismatches_get_one_generic_answer_and_store_nothing(app, client, record, change):
    reference = _post(client, "/account/activate", GOOD | {"membership_number": "00000000000"})
    response = _post(client, "/account/activate", GOOD | change)
    assert response.status_code == reference.status_code == 400
    message = re.search(r'id="form-error">([^<]+)<', response.text).group(1)
    assert message == re.search(r'id="form-error">([^<]+)<', reference.text).group(1)
    assert _member(app).password_hash is None and _mails(app) == []
    with app.app_context():
        assert db.session.scalars(select(AuditEvent.event)).all().count("activation_failed") == 2


def test_already_activated_membership_gets_the_same_answer(app, client, actions):
    actions.create_member()
    response = _post(client, "/account/activate", GOOD)
    assert response.status_code == 400 and 'id="form-error"' in response.text


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"nik": "12345"}, "nik", "16"),
        ({"nik": "0000001507900001"}, "nik", "region"),
        ({"nik": "3174051607900001"}, "nik", "date of birth"),
        ({"birthdate": "15-07-1990"}, "birthdate", "YYYY-MM-DD"),
        ({"birthdate": "2999-01-01"}, "birthdate", "future"),
        ({"email": "not-an-email"}, "email", "email"),
        ({"password": "short"}, "password", "12"),
        ({"password": "siti.baru-password-x"}, "password", "name, email"),
        ({"password": "x 3174051507900001 y"}, "password", "NIK"),
        ({"password": "lahir 15071990 ok!"}, "password", "date of birth"),
        ({"membership_number": ""}, "membership_number", "membership number"),
    ],
)
def test_field_rules_give_field_level_messages(app, client, record, change, field, text):
    with client.session_transaction() as flask_session:
        flask_session["locale"] = "en"
    response = _post(client, "/account/activate", GOOD | change)
    assert response.status_code == 400
    message = re.search(rf'id="{field}-error">([^<]+)<', response.text).group(1)
    assert text.lower() in message.lower()
    assert 'name="password" type="password" value=""' in response.text  # never echoed back
    assert _member(app).password_hash is None


def test_women_nik_adds_40_to_the_day(app, client, actions):
    actions.create_member(
        password=None, email=None, membership_number="55566677788", nik="3174055507900001"
    )
    response = _post(
        client,
        "/account/activate",
        GOOD | {"membership_number": "55566677788", "nik": "3174055507900001"},
    )
    assert response.status_code == 200


def test_email_of_another_account_is_not_revealed(app, client, actions, record):
    actions.create_member(
        membership_number="99988877766",
        nik="3174051208850002",
        birthdate=date(1985, 8, 12),
        email="siti.baru@example.id",
    )
    response = _post(client, "/account/activate", GOOD)
    assert response.status_code == 200  # the same answer as a success
    assert _member(app).password_hash is None
    (notice,) = _mails(app)
    assert notice["To"] == "siti.baru@example.id"
    assert "verify" not in notice.get_body(("plain",)).get_content()


def test_unverified_account_cannot_sign_in_to_a_client(app, client, actions, record):
    _post(client, "/account/activate", GOOD)
    client_id, _ = actions.create_client(first_party=True)
    actions.sign_in("siti.baru@example.id", GOOD["password"])
    params, _ = actions.authorize_params(client_id)
    response = actions.authorize(params)
    assert response.headers["Location"].startswith("/account/verify?")
    silent, _ = actions.authorize_params(client_id, prompt="none")
    assert query_of(actions.authorize(silent).headers["Location"])["error"] == (
        "interaction_required"
    )

    page = client.get(response.headers["Location"])
    resend = client.post(response.headers["Location"], data={"csrf_token": csrf_from(page.text)})
    assert resend.status_code == 429  # the activation mail went out less than a minute ago
    # After verifying with the newest link, the same request goes through.
    link = _link(_mails(app)[-1])
    confirm = client.get(link)
    client.post(link, data={"csrf_token": csrf_from(confirm.text)})
    assert "code" in query_of(actions.authorize(params).headers["Location"])


def test_resend_is_throttled_and_kills_older_links(app, client, clock, actions, record):
    _post(client, "/account/activate", GOOD)
    first = _link(_mails(app)[0])
    actions.sign_in("siti.baru@example.id", GOOD["password"])
    clock.advance(seconds=61)
    page = client.get("/account/verify")
    sent = client.post("/account/verify", data={"csrf_token": csrf_from(page.text)})
    assert sent.status_code == 200 and 'id="sent"' in sent.text
    assert len(_mails(app)) == 2
    old = client.get(first)
    assert client.post(first, data={"csrf_token": csrf_from(old.text)}).status_code == 400
    again = client.post("/account/verify", data={"csrf_token": csrf_from(page.text)})
    assert again.status_code == 429


def test_the_whole_password_policy_runs_once_the_record_is_known(app, client, record):
    """The member's name is only known after matching: it is checked then (as reset does)."""
    response = _post(client, "/account/activate", GOOD | {"password": "sitirahayu1990"})
    assert response.status_code == 400
    assert 'id="password-error"' in response.text
    assert _member(app).password_hash is None and _mails(app) == []


@pytest.mark.parametrize("live_server_sections", [{"lockout": {"max_failures": 20}}])
def test_parallel_activations_of_one_record_let_exactly_one_win(live_server):
    import threading

    import requests

    live_server.create_member(password=None, email=None)
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def activate(n: int) -> None:
        browser = requests.Session()
        page = browser.get(f"{live_server.url}/account/activate", timeout=10)
        form = GOOD | {"email": f"siti{n}@example.id", "csrf_token": csrf_from(page.text)}
        barrier.wait(timeout=30)
        answer = browser.post(f"{live_server.url}/account/activate", data=form, timeout=60)
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=activate, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert sorted(statuses) == [200] + [400] * 9
    member = _member(live_server.app)
    assert member.password_hash is not None and member.email.startswith("siti")
    assert len(_mails(live_server.app)) == 1
