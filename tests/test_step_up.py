"""Step-up and second-factor bookkeeping (issue 16 item 11).

auth_time and amr say only what happened (OIDC Core §2, RFC 8176); acr_values is a list in
order of preference (OIDC Core §3.1.2.1); code sends and wrong codes count per account.
"""

from __future__ import annotations

import re

import jwt
import pyotp
import pytest

from idp.db import db

from .helpers import Actions, csrf_from, mails, query_of


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def member(actions):
    return actions.create_member()


def _post(client, path: str, page_path: str = "/account/security", **form):
    token = csrf_from(client.get(page_path).text)
    return client.post(path, data={"csrf_token": token, **form})


def _enrol_totp(actions) -> pyotp.TOTP:
    page = _post(actions.client, "/account/security/totp", action="start")
    secret = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', page.text).group(1)
    totp = pyotp.TOTP(secret.replace(" ", ""))
    done = _post(actions.client, "/account/security/totp", action="confirm", code=totp.now())
    assert done.status_code == 200, done.text
    return totp


def _second_step(client, code: str):
    page = client.get("/login/2fa")
    return client.post("/login/2fa", data={"code": code, "csrf_token": csrf_from(page.text)})


def _id_token(actions, client_id, secret, response, verifier) -> dict:
    code = query_of(response.headers["Location"])["code"]
    tokens = actions.redeem(client_id, secret, code, verifier).get_json()
    return jwt.decode(tokens["id_token"], options={"verify_signature": False})


def test_code_only_step_up_keeps_auth_time_and_the_recent_password_rule(make_app, clock):
    """A step-up with a code alone raises acr, but auth_time stays the password's time, and
    the "password in the last 10 minutes" rule for factor changes is not met by it."""
    off = make_app(mfa={"policy": "off"})
    browser = off.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    off_actions = Actions(off, browser)
    off_actions.create_member()
    client_id, secret = off_actions.create_client(first_party=True)
    off_actions.sign_in("siti@example.id")
    signed_in_at = int(clock.now().timestamp())
    # The factor is added under the normal policy, in the same browser session.
    app = make_app()
    actions = Actions(app, app.test_client())
    actions.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    actions.client.set_cookie("idp_session", browser.get_cookie("idp_session").value)
    totp = _enrol_totp(actions)
    clock.advance(minutes=11)
    params, verifier = actions.authorize_params(client_id, acr_values="mfa")
    assert actions.authorize(params).headers["Location"] == "/login/2fa"
    clock.advance(seconds=31)
    done = _second_step(actions.client, totp.at(clock.now()))
    final = actions.client.get(done.headers["Location"])
    claims = _id_token(actions, client_id, secret, final, verifier)
    assert claims["acr"] == "mfa" and claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["auth_time"] == signed_in_at  # the password's time, not the code's
    # The code did not count as a recent password: changing factors asks for the password.
    answer = _post(actions.client, "/account/security/totp", action="start")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/account/confirm")


def test_a_password_and_a_code_at_sign_in_move_auth_time(actions, member, clock):
    actions.sign_in("siti@example.id")
    totp = _enrol_totp(actions)
    client_id, secret = actions.create_client(first_party=True)
    clock.advance(minutes=20)
    params, verifier = actions.authorize_params(client_id, prompt="login")
    login = actions.authorize(params)
    assert login.headers["Location"].startswith("/login?")
    next_url = query_of(login.headers["Location"])["next"]
    assert actions.sign_in("siti@example.id", next_url=next_url).headers["Location"] == "/login/2fa"
    clock.advance(seconds=31)
    done = _second_step(actions.client, totp.at(clock.now()))
    claims = _id_token(actions, client_id, secret, actions.client.get(done.headers["Location"]),
                       verifier)  # fmt: skip
    assert claims["auth_time"] == int(clock.now().timestamp())
    assert claims["amr"] == ["pwd", "otp", "mfa"]


@pytest.mark.parametrize(
    ("acr_values", "enrol"),
    [("pwd mfa", False), ("mfa pwd", False), ("mfa", True), ("pwd", False)],
)
def test_acr_values_are_preferences(app, actions, member, acr_values, enrol):
    """Without a second factor, `mfa pwd` signs in with pwd; `mfa` alone asks to add one."""
    client_id, secret = actions.create_client(first_party=True)
    actions.sign_in("siti@example.id")
    params, verifier = actions.authorize_params(client_id, acr_values=acr_values)
    response = actions.authorize(params)
    if enrol:
        assert response.headers["Location"].startswith("/account/security?enrol=1")
    else:
        assert _id_token(actions, client_id, secret, response, verifier)["acr"] == "pwd"


def test_mfa_first_still_asks_a_member_who_has_a_factor(make_app, clock):
    off = make_app(mfa={"policy": "off"})
    browser = off.test_client()
    off_actions = Actions(off, browser)
    off_actions.create_member()
    client_id, _secret = off_actions.create_client(first_party=True)
    off_actions.sign_in("siti@example.id")
    app = make_app()
    actions = Actions(app, app.test_client())
    actions.client.set_cookie("idp_session", browser.get_cookie("idp_session").value)
    _enrol_totp(actions)
    params, _ = actions.authorize_params(client_id, acr_values="mfa pwd")
    assert actions.authorize(params).headers["Location"] == "/login/2fa"


def test_five_codes_an_hour_per_account_whatever_the_purpose(app, actions, member, clock):
    with app.app_context():
        from idp.models import Member

        db.session.get(Member, member["id"]).email_verified = True
        db.session.commit()
    actions.sign_in("siti@example.id")
    answers = []
    for _ in range(3):  # enrolment codes by email...
        answers.append(_post(actions.client, "/account/security/add", kind="email", action="send"))
        clock.advance(seconds=61)
    for _ in range(3):  # ...and phone confirmation codes by SMS share one hourly allowance
        answers.append(_post(actions.client, "/account/phone", "/account/phone",
                             phone="081299998888"))  # fmt: skip
        clock.advance(seconds=61)
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 200, 400]
    assert "Too many codes were sent in the last hour" in answers[-1].text
    sms = list(app.extensions["idp.settings"].sms_outbox_dir.glob("*.json"))
    assert len(mails(app)) == 3 and len(sms) == 2


def test_wrong_codes_share_one_counter_per_account(actions, member, clock):
    """Wrong codes on the security page and at sign-in (typed as an email) add up."""
    actions.sign_in("siti@example.id")
    _enrol_totp(actions)
    for _ in range(3):
        wrong = _post(actions.client, "/account/security/recovery", method="totp", code="000000")
        assert wrong.status_code == 400
    actions.client.post(
        "/logout", data={"csrf_token": csrf_from(actions.client.get("/account").text)}
    )
    assert actions.sign_in("siti@example.id").headers["Location"] == "/login/2fa"
    assert _second_step(actions.client, "000000").status_code == 400
    locked = _second_step(actions.client, "000000")
    assert locked.status_code == 403 and "temporarily locked" in locked.text
    # The lock is the account's: even the right password meets it now.
    assert actions.sign_in("siti@example.id").status_code == 403
