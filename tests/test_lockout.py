"""Brute-force protection (issue 6): identifier locks, IP throttle, no lockout denial of service."""

from __future__ import annotations

import json
import re
import threading

import pytest
import requests
from sqlalchemy import func, select

from idp.auth.lockout import retry_after, throttle_key
from idp.db import db
from idp.models import AuditEvent, LoginThrottle

from .helpers import PASSWORD, Actions, csrf_from, mail_text, mails

WRONG = "definitely not the password"


@pytest.fixture(autouse=True)
def english(client):
    """These tests read the English pages (the Indonesian ones are tested in test_i18n)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def english_actions(app) -> Actions:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return Actions(app, client)


@pytest.fixture
def member(actions):
    return actions.create_member()


def _message(page) -> str:
    return re.sub(r"\s+", " ", page.text.split('id="form-error">')[1].split("</p>")[0]).strip()


def _fail(actions, identifier: str, times: int) -> list:
    return [actions.sign_in(identifier, WRONG) for _ in range(times)]


def _events(app, name: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def test_five_failures_lock_and_the_page_says_until_when(actions, member):
    answers = _fail(actions, "siti@example.id", 5)
    assert [r.status_code for r in answers] == [400, 400, 400, 400, 403]
    locked = answers[-1]
    assert "temporarily locked" in locked.text
    assert "5 minutes" in locked.text
    assert 'href="/account/reset"' in locked.text


def test_correct_password_is_refused_during_the_lock_and_works_after(actions, member, clock):
    _fail(actions, "siti@example.id", 5)
    refused = actions.sign_in("siti@example.id", PASSWORD)
    assert refused.status_code == 403
    assert "temporarily locked" in refused.text
    clock.advance(minutes=5, seconds=1)
    assert actions.sign_in("siti@example.id", PASSWORD).status_code == 302


def test_lock_periods_double_and_are_capped(make_app, clock):
    app = make_app(lockout={"lock_seconds": 300, "max_lock_seconds": 1800})
    actions = english_actions(app)
    actions.create_member()
    minutes = []
    for _ in range(5):
        answer = _fail(actions, "12345678901", 5)[-1]
        assert answer.status_code == 403
        minutes.append(int(re.search(r"in (\d+) minute", answer.text).group(1)))
        with app.app_context():
            until = db.session.scalar(select(LoginThrottle.locked_until))
        clock.advance(seconds=(until - clock.now()).total_seconds() + 1)
    assert minutes == [5, 10, 20, 30, 30]


def test_success_resets_the_count(actions, member):
    _fail(actions, "siti@example.id", 4)
    assert actions.sign_in("siti@example.id", PASSWORD).status_code == 302
    actions.client.post(
        "/logout", data={"csrf_token": csrf_from(actions.client.get("/account").text)}
    )
    assert [r.status_code for r in _fail(actions, "siti@example.id", 4)] == [400] * 4


def test_failures_outside_the_window_do_not_add_up(actions, member, clock):
    _fail(actions, "siti@example.id", 4)
    clock.advance(minutes=15, seconds=1)
    assert [r.status_code for r in _fail(actions, "siti@example.id", 4)] == [400] * 4


def test_missing_identifiers_lock_identically(actions, member):
    existing = _fail(actions, "siti@example.id", 6)
    missing = _fail(actions, "nobody@example.id", 6)
    assert [r.status_code for r in existing] == [r.status_code for r in missing]
    assert _message(existing[-1]) == _message(missing[-1])
    assert _message(existing[2]) == _message(missing[2])


def test_identifiers_are_normalised_before_counting(actions, member):
    for variant in ["siti@example.id", "SITI@example.id", " Siti@Example.ID ", "siti@EXAMPLE.id"]:
        actions.sign_in(variant, WRONG)
    assert actions.sign_in("siti@example.id", WRONG).status_code == 403


def test_the_member_is_emailed_once_per_lock(app, actions, member):
    _fail(actions, "siti@example.id", 9)
    notices = [m for m in mails(app) if "dikunci sampai" in mail_text(m)]  # member locale: id
    assert len(notices) == 1
    assert notices[0]["To"] == "siti@example.id"
    assert "/account/reset" in mail_text(notices[0])
    assert re.search(r"dikunci sampai \S+ \S+ WIB", mail_text(notices[0]))  # one zone, named


def test_no_email_for_an_identifier_without_account(app, actions):
    _fail(actions, "nobody@example.id", 6)
    assert mails(app) == []


def test_lock_never_blocks_reset_and_a_reset_unlocks(app, actions, member):
    _fail(actions, "siti@example.id", 5)
    page = actions.client.get("/account/reset")
    asked = actions.client.post(
        "/account/reset", data={"identifier": "siti@example.id", "csrf_token": csrf_from(page.text)}
    )
    assert asked.status_code == 200
    link = re.search(r"http://127\.0\.0\.1:5000(/account/reset/\S+)", mail_text(mails(app)[-1]))
    form = actions.client.get(link.group(1))
    new_password = "hujan turun di sore hari"
    done = actions.client.post(
        link.group(1), data={"password": new_password, "csrf_token": csrf_from(form.text)}
    )
    assert done.status_code == 200
    # Both identifiers of the member are unlocked, and the event is audited.
    assert actions.sign_in("12345678901", new_password).status_code == 302
    assert [e.detail["by"] for e in _events(app, "account_unlocked")] == ["password_set"]


def test_operator_unlock(cli, app, actions, member):
    _fail(actions, "siti@example.id", 5)
    result = cli("users", "unlock", "SITI@example.id", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"identifier": "siti@example.id", "was_locked": True}
    assert actions.sign_in("siti@example.id", PASSWORD).status_code == 302
    again = cli("users", "unlock", "siti@example.id")
    assert again.exit_code == 0 and "was not locked" in again.output
    assert cli("users", "unlock", "  ").exit_code != 0


def test_operator_unlock_of_a_missing_identifier(cli, actions):
    _fail(actions, "nobody@example.id", 5)
    assert json.loads(cli("users", "unlock", "nobody@example.id", "--json").output)["was_locked"]
    assert actions.sign_in("nobody@example.id", WRONG).status_code == 400


def test_every_failure_lock_and_unlock_is_audited_without_the_identifier(app, actions, cli):
    _fail(actions, "nobody@example.id", 6)
    cli("users", "unlock", "nobody@example.id")
    failed = _events(app, "signin_failed")
    assert len(failed) == 5
    assert len(_events(app, "signin_refused_locked")) == 1
    (locked,) = _events(app, "account_locked")
    (unlocked,) = _events(app, "account_unlocked")
    for event in [*failed, locked, unlocked]:
        assert event.member_id is None
        assert "nobody" not in json.dumps(event.detail)
        assert event.detail["identifier_hash"] == failed[0].detail["identifier_hash"]


def test_wrong_activation_details_count_toward_the_lock(make_app, clock):
    app = make_app()
    actions = english_actions(app)
    actions.create_member(password=None)
    form = {
        "membership_number": "12345678901",
        "nik": "3174015505900002",
        "birthdate": "1990-05-15",
        "email": "siti@example.id",
        "password": "hujan turun di sore hari",
    }
    statuses = []
    for _ in range(6):
        page = actions.client.get("/account/activate")
        answer = actions.client.post(
            "/account/activate", data=form | {"csrf_token": csrf_from(page.text)}
        )
        statuses.append(answer.status_code)
    assert statuses == [400, 400, 400, 400, 403, 403]
    assert "temporarily locked" in answer.text


def test_ip_throttle_answers_429_with_retry_after(make_app, clock):
    app = make_app(lockout={"ip_max_failures": 6, "ip_window": 600})
    actions = english_actions(app)
    for n in range(6):  # different identifiers: credential stuffing
        assert actions.sign_in(f"user{n}@example.id", WRONG).status_code == 400
    throttled = actions.sign_in("user9@example.id", WRONG)
    assert throttled.status_code == 429
    wait = int(throttled.headers["Retry-After"])
    assert 0 < wait <= 1200
    assert "too many failed attempts" in throttled.text.lower()
    # Another address is not affected.
    other = actions.client.post("/login", environ_base={"REMOTE_ADDR": "127.0.0.9"}, data={
        "identifier": "user9@example.id", "password": WRONG,
        "csrf_token": csrf_from(actions.client.get("/login").text)})  # fmt: skip
    assert other.status_code == 400
    clock.advance(seconds=wait)
    assert actions.sign_in("user9@example.id", WRONG).status_code == 400


def test_ip_throttle_trusts_forwarded_for_only_when_configured(make_app):
    for hops, expected in [(0, 429), (1, 400)]:
        app = make_app(lockout={"ip_max_failures": 2}, server={"trusted_proxy_hops": hops})
        actions = english_actions(app)
        for n in range(2):
            page = actions.client.get("/login")
            actions.client.post("/login", headers={"X-Forwarded-For": f"198.51.100.{n}"}, data={
                "identifier": f"u{n}@example.id", "password": WRONG,
                "csrf_token": csrf_from(page.text)})  # fmt: skip
        page = actions.client.get("/login")
        answer = actions.client.post(
            "/login",
            headers={"X-Forwarded-For": "198.51.100.7"},
            data={
                "identifier": "u7@example.id",
                "password": WRONG,
                "csrf_token": csrf_from(page.text),
            },
        )
        assert answer.status_code == expected, hops


@pytest.mark.parametrize(
    ("previous", "current", "elapsed", "expected"),
    [
        # The estimate must drop strictly below the limit, hence the one extra second.
        (0, 5, 0, None),  # under the limit
        (0, 10, 0, 601),  # all in this bucket: wait for it to roll over and fade a little
        (0, 10, 300, 301),
        (20, 0, 0, 301),  # half the previous bucket has faded after 300 s
        (10, 5, 100, 201),
        (0, 20, 0, 901),  # twice the limit: roll over, then let half of it fade
    ],
)
def test_sliding_window_retry_after(previous, current, elapsed, expected):
    assert retry_after(previous, current, elapsed, 600, 10) == expected


@pytest.fixture
def live_server_sections() -> dict:
    return {"lockout": {"ip_max_failures": 1000}}  # only the identifier lock is under test


@pytest.fixture
def checked_passwords(monkeypatch) -> list[str]:
    """Every password the live server actually verifies (argon2), recorded."""
    import idp.auth.signin

    checked: list[str] = []
    guard = threading.Lock()
    verify = idp.auth.signin.verify_password

    def counting(stored, password):
        with guard:
            checked.append(password)
        return verify(stored, password)

    monkeypatch.setattr(idp.auth.signin, "verify_password", counting)
    return checked


def _parallel_sign_ins(live_server, identifiers: list[str]) -> list[int]:
    session = requests.Session()
    token = csrf_from(session.get(f"{live_server.url}/login", timeout=10).text)
    cookies = session.cookies.get_dict()
    barrier = threading.Barrier(len(identifiers))
    statuses: list[int] = []

    def attempt(identifier: str) -> None:
        barrier.wait(timeout=30)
        response = requests.post(
            f"{live_server.url}/login",
            data={"identifier": identifier, "password": WRONG, "csrf_token": token},
            cookies=cookies,
            allow_redirects=False,
            timeout=60,
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in identifiers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return statuses


def test_parallel_wrong_passwords_check_no_more_than_the_limit(live_server, checked_passwords):
    """Each try is reserved before the hash is checked: 50 at once check exactly 5."""
    live_server.create_member()
    statuses = _parallel_sign_ins(live_server, ["siti@example.id"] * 50)
    assert len(statuses) == 50 and set(statuses) <= {400, 403}
    assert len(checked_passwords) == 5
    assert statuses.count(400) == 4  # the fifth wrong password places the lock


@pytest.mark.parametrize("live_server_sections", [{"lockout": {"ip_max_failures": 30}}])
def test_parallel_tries_from_one_ip_check_no_more_than_its_limit(live_server, checked_passwords):
    statuses = _parallel_sign_ins(live_server, [f"nobody{n}@example.id" for n in range(50)])
    assert len(statuses) == 50 and set(statuses) <= {400, 429}
    assert len(checked_passwords) <= 30
    assert statuses.count(429) >= 20


def test_fifty_parallel_wrong_passwords_are_all_counted(live_server):
    """No lost updates: every one of 50 concurrent failures counts; the lock holds."""
    live_server.create_member()
    session = requests.Session()
    token = csrf_from(session.get(f"{live_server.url}/login", timeout=10).text)
    cookies = session.cookies.get_dict()
    barrier = threading.Barrier(50)
    statuses: list[int] = []

    def attempt() -> None:
        barrier.wait(timeout=30)
        response = requests.post(
            f"{live_server.url}/login",
            data={"identifier": "siti@example.id", "password": WRONG, "csrf_token": token},
            cookies=cookies,
            allow_redirects=False,
            timeout=60,
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert len(statuses) == 50
    assert set(statuses) <= {400, 403}
    with live_server.app.app_context():
        row = db.session.get(LoginThrottle, throttle_key("siti@example.id"))
        assert row.total_failures == 50
        assert row.lock_count == 1  # exactly one request placed the lock
        counted = db.session.scalar(
            select(func.count()).where(
                AuditEvent.event.in_(["signin_failed", "signin_refused_locked"])
            )
        )
        assert counted == 50
    correct = session.post(
        f"{live_server.url}/login",
        data={"identifier": "siti@example.id", "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert correct.status_code == 403


def test_wrong_passwords_on_the_confirm_page_count_too(actions, member, clock):
    actions.sign_in("siti@example.id")
    clock.advance(minutes=11)  # recent authentication has lapsed
    page = actions.client.get("/account/confirm?next=/account/address")
    answers = [
        actions.client.post(
            "/account/confirm", data={"password": WRONG, "csrf_token": csrf_from(page.text)}
        )
        for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [400, 400, 400, 400, 403]
    # The lock covers the member's sign-in by membership number.
    actions.client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    assert actions.sign_in("12345678901").status_code == 403


def test_a_throttle_row_deleted_by_a_parallel_success_is_made_again(app, actions):
    """A parallel sign-in that succeeds deletes the identifier's row between the two
    statements that count a try: the try is still counted, never a server error."""
    import sqlalchemy as sa

    from idp.db import db
    from idp.models import LoginThrottle

    member = actions.create_member()
    assert actions.sign_in(member["email"], "wrong password, once").status_code == 400
    with app.app_context():
        engine = db.engine
    deleted = []

    def delete_first(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE login_throttles SET failures=CASE") and not deleted:
            deleted.append(True)
            cursor.execute("DELETE FROM login_throttles")

    sa.event.listen(engine, "before_cursor_execute", delete_first)
    try:
        answer = actions.sign_in(member["email"], "wrong password, twice")
    finally:
        sa.event.remove(engine, "before_cursor_execute", delete_first)
    assert deleted and answer.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(LoginThrottle.failures)) == 1
