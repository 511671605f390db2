"""Sign-in: identifiers, one answer for every failure, argon2id, session cookie and CSRF."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import select

import idp.auth.signin
from idp.db import db
from idp.models import Member, SsoSession

from .helpers import PASSWORD, Actions, csrf_from, mail_text, mails
from .malformed import BAD_BYTES, MAX_BODY, URLENCODED, assert_page, stored_rows


@pytest.fixture
def member(actions):
    return actions.create_member()


@pytest.fixture
def login_form(client) -> dict:
    """A sign-in form that would succeed, CSRF token included."""
    page = client.get("/login")
    return {
        "identifier": "siti@example.id",
        "password": PASSWORD,
        "csrf_token": csrf_from(page.text),
    }


@pytest.fixture
def argon2_calls(monkeypatch) -> list[int]:
    """Record the length of every password handed to argon2 at sign-in."""
    calls = []
    verify = idp.auth.signin.verify_password

    def spy(password_hash, password):
        calls.append(len(password))
        return verify(password_hash, password)

    monkeypatch.setattr(idp.auth.signin, "verify_password", spy)
    return calls


def _signed_out(client) -> bool:
    response = client.get("/account")
    return response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "identifier", ["siti@example.id", "SITI@Example.ID", "  siti@example.id ", "12345678901"]
)
def test_sign_in_by_email_or_membership_number(actions, member, identifier):
    response = actions.sign_in(identifier)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"


def test_failures_look_identical(actions, member):
    wrong_password = actions.sign_in("siti@example.id", "wrong password entirely")
    unknown = actions.sign_in("nobody@example.id", "wrong password entirely")
    assert wrong_password.status_code == unknown.status_code == 400

    def message(page) -> str:
        return page.text.split('id="form-error">')[1].split("<")[0]

    assert message(wrong_password) == message(unknown)


def test_membership_record_without_online_access_cannot_sign_in(actions):
    actions.create_member(password=None)
    response = actions.sign_in("12345678901", PASSWORD)
    assert response.status_code == 400


def test_unknown_identifier_still_runs_argon2(app, actions, monkeypatch):
    calls = []
    import argon2

    original = argon2.PasswordHasher.verify

    def counting(self, hash_, password):
        calls.append(hash_)
        return original(self, hash_, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    actions.sign_in("nobody@example.id", "whatever password")
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


def test_password_is_stored_as_argon2id(app, member):
    with app.app_context():
        stored = db.session.get(Member, member["id"]).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_hash_is_upgraded_when_parameters_change(app, actions, member):
    from argon2 import PasswordHasher

    with app.app_context():
        row = db.session.get(Member, member["id"])
        row.password_hash = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(
            PASSWORD
        )
        db.session.commit()
    actions.sign_in(member["email"])
    with app.app_context():
        assert "m=1024" in db.session.get(Member, member["id"]).password_hash


def test_session_cookie_is_httponly_lax_and_rotated(app, actions, client, member):
    first = actions.sign_in(member["email"])
    cookie = first.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookie if c.startswith("idp_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    first_value = client.get_cookie("idp_session").value
    actions.sign_in(member["email"])
    second_value = client.get_cookie("idp_session").value
    assert first_value != second_value
    with app.app_context():
        # Re-authentication keeps the session (and its sid) but never the cookie value.
        sessions = db.session.scalars(select(SsoSession).order_by(SsoSession.id)).all()
        assert len(sessions) == 1 and sessions[0].ended_at is None
        assert sessions[0].token_hash not in (first_value, second_value)
    client.set_cookie("idp_session", first_value)
    assert client.get("/account").status_code == 302  # the old value no longer signs in

    other = actions.create_member(
        membership_number="98765432109", nik="3174051507900002", email="budi@example.id"
    )
    client.set_cookie("idp_session", second_value)
    actions.sign_in(other["email"])
    with app.app_context():
        sessions = db.session.scalars(select(SsoSession).order_by(SsoSession.id)).all()
        assert len(sessions) == 2
        assert sessions[0].ended_at is not None and sessions[1].ended_at is None


def test_https_issuer_uses_host_prefixed_secure_cookie(make_app):
    from .helpers import Actions

    app = make_app(issuer="https://sso.example.id")
    browser = app.test_client()
    browser.environ_base |= {"wsgi.url_scheme": "https", "HTTP_HOST": "sso.example.id"}
    actions = Actions(app, browser)
    actions.create_member()
    response = actions.sign_in("siti@example.id")
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("__Host-idp_session="))
    assert "Secure" in session_cookie and "Path=/" in session_cookie
    assert "Domain" not in session_cookie


def test_login_post_without_csrf_is_refused(client, member):
    response = client.post("/login", data={"identifier": "siti@example.id", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get_cookie("idp_session") is None


OFF_SITE_TARGETS = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example",
    # Browsers drop tabs and newlines and read "\\" as "/": each of these is //evil.example.
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/\\\\evil.example",
    "\\/evil.example",
    "\x01//evil.example",
    "https:evil.example",
]


@pytest.mark.parametrize("target", OFF_SITE_TARGETS)
def test_next_is_never_an_open_redirect(actions, member, target):
    response = actions.sign_in(member["email"], next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"


@pytest.mark.parametrize("target", OFF_SITE_TARGETS)
def test_account_pages_never_redirect_off_site(actions, member, target):
    actions.sign_in(member["email"])
    page = actions.client.get("/account/confirm", query_string={"next": target})
    form = {"password": PASSWORD, "next": target, "csrf_token": csrf_from(page.text)}
    response = actions.client.post("/account/confirm", data=form)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"


def test_a_local_next_with_a_stray_newline_stays_local(actions, member):
    response = actions.sign_in(member["email"], next_url="/account/\nsessions")
    assert response.headers["Location"] == "/account/sessions"


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"identifier": "", "password": PASSWORD}, "identifier"),
        ({"identifier": "x@y.id"}, "password"),
    ],
)
def test_empty_fields_get_field_level_messages(client, form, field):
    page = client.get("/login")
    response = client.post("/login", data=form | {"csrf_token": csrf_from(page.text)})
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.text


def test_sign_out_ends_the_session(app, actions, client, member):
    actions.sign_in(member["email"])
    page = client.get("/account")
    assert "Siti Rahayu" in page.text and "************0001" in page.text
    assert "3174051507900001" not in page.text
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    assert client.get("/account").status_code == 302


# -- /login garbage ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, invalid",
    [
        ({"identifier": "i" * 10_000}, {"identifier"}),
        ({"password": "p" * 50_000}, {"password"}),
        ({"identifier": ""}, {"identifier"}),
        ({"identifier": "   "}, {"identifier"}),
        ({"password": ""}, {"password"}),
        ({"identifier": None}, {"identifier"}),
        ({"password": None}, {"password"}),
        ({"identifier": None, "password": None}, {"identifier", "password"}),
    ],
    ids=["identifier-10k", "password-50k", "empty-identifier", "blank-identifier",
         "empty-password", "no-identifier", "no-password", "no-fields"],
)  # fmt: skip
def test_invalid_sign_in_form_is_400_without_argon2(
    app, client, member, login_form, argon2_calls, change, invalid
):
    before = stored_rows(app)
    form = {k: v for k, v in (login_form | change).items() if v is not None}
    response = client.post("/login", data=form)
    assert_page(response, 400)
    for field in ("identifier", "password"):
        assert (f'id="{field}-error"' in response.text) == (field in invalid)
    assert argon2_calls == [], "argon2 ran on input that fails validation"
    assert stored_rows(app) == before
    assert _signed_out(client)


def test_password_over_the_body_cap_is_413(app, client, member, login_form, argon2_calls):
    before = stored_rows(app)
    response = client.post("/login", data=login_form | {"password": "p" * 100_000})
    assert_page(response, 413)
    assert argon2_calls == [] and stored_rows(app) == before


def test_oversized_sign_in_starts_no_session(app, client, member, login_form, argon2_calls):
    before = stored_rows(app)
    response = client.post("/login", data=login_form | {"padding": "x" * MAX_BODY})
    assert_page(response, 413)
    assert stored_rows(app) == before and argon2_calls == []
    assert _signed_out(client)


@pytest.mark.parametrize(
    "form_change",
    [{"csrf_token": None}, {"csrf_token": "forged"}, {"csrf_token": "\x00"}],
    ids=["no-csrf", "forged-csrf", "nul-csrf"],
)
def test_sign_in_without_valid_csrf_is_400(app, client, member, login_form, form_change):
    before = stored_rows(app)
    form = {k: v for k, v in (login_form | form_change).items() if v is not None}
    response = client.post("/login", data=form)
    assert_page(response, 400)
    assert stored_rows(app) == before
    assert _signed_out(client)


# -- non-UTF-8 and NUL bytes in the sign-in form ----------------------------------------------


@pytest.mark.parametrize("bad", BAD_BYTES)
@pytest.mark.parametrize("field", ["identifier", "password", "next"])
def test_bad_bytes_in_sign_in_form_are_400(app, client, member, login_form, field, bad):
    before = stored_rows(app)
    form = urlencode(login_form).encode() + b"&" + field.encode() + b"=" + bad
    if field != "next":  # replace the good value rather than repeat the field
        form = urlencode({k: v for k, v in login_form.items() if k != field}).encode()
        form += b"&" + field.encode() + b"=siti" + bad
    response = client.post("/login", data=form, content_type=URLENCODED)
    assert_page(response, 400)
    assert stored_rows(app) == before
    assert _signed_out(client)


def test_nul_in_multipart_sign_in_is_400(app, client, member, login_form, argon2_calls):
    # PostgreSQL text cannot hold NUL: it must never reach a query, whatever the encoding.
    before = stored_rows(app)
    form = login_form | {"identifier": "siti@example.id\x00"}
    response = client.post("/login", data=form, content_type="multipart/form-data")
    assert_page(response, 400)
    assert argon2_calls == [] and stored_rows(app) == before


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://127.0.0.1:5001"},  # another port is another origin
        {"Sec-Fetch-Site": "cross-site", "Origin": "null"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_credentials_posted_from_another_origin_are_refused(actions, member, headers):
    page = actions.client.get("/login")
    form = {"identifier": member["email"], "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    response = actions.client.post("/login", data=form, headers=headers)
    assert response.status_code == 403
    assert actions.client.get_cookie("idp_session") is None


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://127.0.0.1:5000"},
        # Under Referrer-Policy: no-referrer browsers send Origin: null even from our own page.
        {"Sec-Fetch-Site": "same-origin", "Origin": "null"},
    ],
)
def test_credentials_posted_from_our_own_origin_are_served(actions, member, headers):
    page = actions.client.get("/login")
    form = {"identifier": member["email"], "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    response = actions.client.post("/login", data=form, headers=headers)
    assert response.status_code == 302 and actions.client.get_cookie("idp_session") is not None


def test_a_sign_in_from_a_new_browser_is_emailed_once(app, actions, member):
    actions.sign_in(member["email"])  # the first sign-in ever: nothing to compare with
    assert mails(app) == []
    phone = Actions(app, app.test_client())
    phone.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    phone.client.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (Linux; Android 14) Chrome/130.0"
    phone.sign_in(member["email"])
    (notice,) = mails(app)
    text = mail_text(notice)
    assert "belum pernah kami lihat" in text and "Chrome, Android" in text  # her language
    assert "/account/security" in text
    phone.client.post("/logout", data={"csrf_token": csrf_from(phone.client.get("/account").text)})
    phone.sign_in(member["email"])  # the same browser again: known now
    actions.sign_in(member["email"])
    assert len(mails(app)) == 1


def test_the_sign_in_page_names_the_real_host(client):
    page = client.get("/login", headers={"Host": "login-palsu.example"})
    assert 'id="real-site"' in page.text and "127.0.0.1:5000" in page.text
