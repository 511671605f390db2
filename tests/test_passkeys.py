"""Passkeys (issue 22): WebAuthn registration and assertion with a software authenticator,
as a second factor, passwordless, and on the security page. Every refusal stores nothing."""

from __future__ import annotations

import html
import json
import re
from datetime import date

import jwt
import pytest
from sqlalchemy import func, select

from idp.db import db
from idp.models import AuditEvent, Passkey, SsoSession

from .authenticator import SoftAuthenticator
from .helpers import Actions, csrf_from, mail_text, mails

ISSUER = "http://localhost:5000"


@pytest.fixture
def app(make_app):
    # Browsers refuse WebAuthn on IP addresses: the relying party is the issuer's host name.
    return make_app(ISSUER)


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def member(actions):
    return actions.create_member()


@pytest.fixture
def key() -> SoftAuthenticator:
    return SoftAuthenticator(ISSUER)


def options_in(page: str, attribute: str = "data-options") -> str:
    match = re.search(rf'{attribute}="([^"]*)"', page)
    assert match, f"no {attribute} in the page"
    return html.unescape(match.group(1))


def _post(client, path: str, page_path: str = "/account/security", **form):
    token = csrf_from(client.get(page_path).text)
    return client.post(path, data={"csrf_token": token, **form})


def _start(actions: Actions) -> str:
    """On the security page, start adding a passkey; the registration options."""
    page = _post(actions.client, "/account/security/passkey", action="start")
    assert page.status_code == 200, page.text
    return options_in(page.text)


def _confirm(actions: Actions, answer: str, name: str = "My phone"):
    token = csrf_from(actions.client.get("/account/password").text)
    form = {"csrf_token": token, "action": "confirm", "code": answer, "name": name}
    return actions.client.post("/account/security/passkey", data=form)


def _add(actions: Actions, key: SoftAuthenticator, name: str = "My phone"):
    assert actions.sign_in("siti@example.id").status_code == 302
    done = _confirm(actions, key.create(_start(actions)), name)
    assert done.status_code == 200, done.text  # the first factor: recovery codes, shown once
    assert "recovery" in done.text.lower()
    return done


def _sign_out(client) -> None:
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/account/password").text)})


def _passkeys(app) -> list[tuple[str, int]]:
    with app.app_context():
        return [(p.name, p.sign_count) for p in db.session.scalars(select(Passkey))]


def _passwordless(client, answer_for, **extra):
    """GET the sign-in page, answer its passkey challenge with `answer_for(options)`."""
    page = client.get("/login")
    form = {"csrf_token": csrf_from(page.text), "credential": answer_for(options_in(page.text))}
    return client.post("/login/passkey", data=form | extra)


def _sessions(app) -> list[tuple[str, list]]:
    with app.app_context():
        return [(s.acr, list(s.amr)) for s in db.session.scalars(select(SsoSession))]


# -- registration ---------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_add_passkey_and_sign_in_without_password(app, client, actions, member, alg):
    key = SoftAuthenticator(ISSUER, alg)
    _add(actions, key, name="Work laptop")
    with app.app_context():
        stored = db.session.scalar(select(Passkey))
        assert stored.name == "Work laptop" and stored.sign_count == 0
        assert stored.transports == ["internal", "hybrid"] and stored.created_at is not None
        assert stored.last_used_at is None
    assert "“Work laptop”" in mail_text(mails(app)[-1])  # in the member's language
    log = client.get("/account/security").text
    assert "Two-factor sign-in changed: Work laptop" in log
    _sign_out(client)

    signed_in = _passwordless(client, key.get)
    assert signed_in.status_code == 302, signed_in.text
    assert _sessions(app)[-1] == ("mfa", ["hwk", "user", "mfa"])
    assert _passkeys(app) == [("Work laptop", 1)]
    with app.app_context():
        signin = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "signin").order_by(AuditEvent.id)
        ).all()[-1]
        assert signin.detail["amr"] == ["hwk", "user", "mfa"]
    with app.app_context():
        assert db.session.scalar(select(Passkey.last_used_at)) is not None


def test_id_token_says_acr_mfa_and_amr_for_passwordless(app, client, actions, member, key):
    _add(actions, key)
    _sign_out(client)
    client_id, secret = actions.create_client(first_party=True)
    assert _passwordless(client, key.get).status_code == 302
    tokens = actions.tokens(client_id, secret)
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["acr"] == "mfa" and claims["amr"] == ["hwk", "user", "mfa"]


@pytest.mark.parametrize(
    "wrong",
    [
        {"origin": "http://localhost.evil.example:5000"},
        {"origin": "http://127.0.0.1:5000"},
        {"rp_id": "evil.example"},
        {"challenge": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
        {"verified": False},
    ],
    ids=["wrong-origin", "ip-origin", "wrong-rp-id", "wrong-challenge", "not-verified"],
)
def test_registration_refused_and_nothing_stored(app, actions, member, key, wrong):
    assert actions.sign_in("siti@example.id").status_code == 302
    refused = _confirm(actions, key.create(_start(actions), **wrong))
    assert refused.status_code == 400
    assert "The passkey could not be checked" in refused.text
    assert _passkeys(app) == []
    assert mails(app) == []
    options_in(refused.text)  # a fresh challenge to try again


def test_registration_challenge_works_once(app, client, actions, member, key):
    assert actions.sign_in("siti@example.id").status_code == 302
    options = _start(actions)
    cookie = client.get_cookie("idp_flow").value
    assert _confirm(actions, key.create(options)).status_code == 200
    # The same challenge again, from a copy of the old cookie and another authenticator.
    client.set_cookie("idp_flow", cookie)
    replay = _confirm(actions, SoftAuthenticator(ISSUER).create(options), "Copy")
    assert replay.status_code == 400
    assert _passkeys(app) == [("My phone", 0)]


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "bad\x07name"])
def test_registration_needs_a_name(app, actions, member, key, name):
    assert actions.sign_in("siti@example.id").status_code == 302
    refused = _confirm(actions, key.create(_start(actions)), name)
    assert refused.status_code == 400
    assert "Give the passkey a name" in refused.text
    assert _passkeys(app) == []


def test_registration_without_a_started_ceremony_is_refused(app, actions, member, key):
    assert actions.sign_in("siti@example.id").status_code == 302
    refused = _confirm(actions, '{"id": "x"}')
    assert refused.status_code == 400 and "set-up has expired" in refused.text
    assert _passkeys(app) == []


@pytest.mark.parametrize("answer", ["", "not json", "{}", '{"id": 1, "response": []}', "[" * 50])
def test_garbage_registration_answers_are_refused(app, actions, member, answer):
    assert actions.sign_in("siti@example.id").status_code == 302
    _start(actions)
    refused = _confirm(actions, answer)
    assert refused.status_code == 400
    assert _passkeys(app) == []


# -- assertion ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wrong",
    [
        {"origin": "http://localhost:6000"},
        {"rp_id": "example.org"},
        {"challenge": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
        {"verified": False},
        {"credential_id": b"unknown credential"},
    ],
    ids=["wrong-origin", "wrong-rp-id", "wrong-challenge", "not-verified", "unknown"],
)
def test_passwordless_refusals_store_nothing(app, client, actions, member, key, wrong):
    _add(actions, key)
    _sign_out(client)
    before = _sessions(app)
    refused = _passwordless(client, lambda options: key.get(options, **wrong))
    assert refused.status_code == 400
    assert "Sign in with your password" in refused.text
    assert _sessions(app) == before
    assert _passkeys(app) == [("My phone", 0)]


def test_passwordless_challenge_works_once(app, client, actions, member, key):
    _add(actions, key)
    _sign_out(client)
    page = client.get("/login")
    cookie = client.get_cookie("idp_flow").value
    answer = key.get(options_in(page.text))
    form = {"csrf_token": csrf_from(page.text), "credential": answer}
    assert client.post("/login/passkey", data=form).status_code == 302
    _sign_out(client)
    client.set_cookie("idp_flow", cookie)  # the same answer, from a copy of the old cookie
    replay = client.post("/login/passkey", data=form)
    assert replay.status_code == 400
    assert _passkeys(app) == [("My phone", 1)]


def test_counter_going_backwards_is_refused_audited_and_emailed(app, client, actions, member, key):
    _add(actions, key)
    _sign_out(client)
    assert _passwordless(client, lambda o: key.get(o, counter=7)).status_code == 302
    _sign_out(client)
    sent = len(mails(app))
    refused = _passwordless(client, lambda o: key.get(o, counter=5))
    assert refused.status_code == 400
    assert _passkeys(app) == [("My phone", 7)]
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "passkey_counter_regressed")
        ).all()
        assert [e.detail for e in events] == [{"name": "My phone"}]
    assert len(mails(app)) == sent + 1
    assert "“My phone”" in mail_text(mails(app)[-1])
    # The same counter again is refused too; a counter that moves on works.
    assert _passwordless(client, lambda o: key.get(o, counter=7)).status_code == 400
    assert _passwordless(client, lambda o: key.get(o, counter=8)).status_code == 302


def test_empty_passwordless_answer_is_refused(client):
    page = client.get("/login")
    refused = client.post("/login/passkey", data={"csrf_token": csrf_from(page.text)})
    assert refused.status_code == 400 and "Use your passkey" in refused.text


# -- as a second factor after the password --------------------------------------------------


def test_passkey_after_password(app, client, actions, member, key):
    _add(actions, key)
    _sign_out(client)
    to_second_step = actions.sign_in("siti@example.id")
    assert to_second_step.headers["Location"].endswith("/login/2fa")
    page = client.get("/login/2fa")
    assert "Use your passkey" in page.text
    form = {"csrf_token": csrf_from(page.text), "method": "passkey"}
    empty = client.post("/login/2fa", data=form)
    assert empty.status_code == 400 and "Use your passkey first" in empty.text
    before = _sessions(app)
    answer = key.get(options_in(empty.text), rp_id="example.org")
    wrong = client.post("/login/2fa", data=form | {"code": answer})
    assert wrong.status_code == 400 and _sessions(app) == before
    done = client.post("/login/2fa", data=form | {"code": key.get(options_in(wrong.text))})
    assert done.status_code == 302
    assert _sessions(app)[-1] == ("mfa", ["pwd", "hwk", "mfa"])


# -- the security page ----------------------------------------------------------------------


def _passkey_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Passkey.id))


def test_rename_passkey(app, client, actions, member, key):
    _add(actions, key)
    passkey_id = _passkey_id(app)
    renamed = _post(client, f"/account/security/passkeys/{passkey_id}/rename", name=" Tablet ")
    assert renamed.status_code == 302
    assert _passkeys(app) == [("Tablet", 0)]
    assert "“Tablet”" in mail_text(mails(app)[-1])
    assert "Two-factor sign-in changed: Tablet" in client.get("/account/security").text
    refused = _post(client, f"/account/security/passkeys/{passkey_id}/rename", name="")
    assert refused.status_code == 400 and "Give the passkey a name" in refused.text
    assert _passkeys(app) == [("Tablet", 0)]


def test_remove_last_passkey_with_the_passkey_as_proof(app, client, actions, member, key):
    _add(actions, key)
    passkey_id = _passkey_id(app)
    page = client.get("/account/security")
    assert "data-webauthn-proof" in page.text  # the script asks for the passkey on submit
    form = {"csrf_token": csrf_from(page.text), "method": "passkey"}
    path = f"/account/security/passkeys/{passkey_id}/remove"
    no_proof = client.post(path, data=form)
    assert no_proof.status_code == 400 and _passkeys(app) == [("My phone", 0)]
    proof = key.get(options_in(no_proof.text))
    removed = client.post(path, data=form | {"code": proof})
    assert removed.status_code == 302
    assert _passkeys(app) == []
    assert "“My phone”" in mail_text(mails(app)[-1])
    with app.app_context():  # the last factor gone: recovery codes go too, as before
        from idp.models import RecoveryCode

        assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0


def test_cannot_touch_another_members_passkey(app, client, actions, member, key):
    _add(actions, key)
    passkey_id = _passkey_id(app)
    _sign_out(client)
    actions.create_member(
        membership_number="99988877766", nik="3174051208850002",
        birthdate=date(1985, 8, 12), email="budi@example.id",
    )  # fmt: skip
    assert actions.sign_in("budi@example.id").status_code == 302
    renamed = _post(client, f"/account/security/passkeys/{passkey_id}/rename", name="Mine")
    assert renamed.status_code == 400
    removed = _post(client, f"/account/security/passkeys/{passkey_id}/remove")
    assert removed.status_code == 400
    assert _passkeys(app) == [("My phone", 0)]


def test_adding_a_passkey_needs_a_code_once_there_is_a_factor(app, client, actions, member, key):
    _add(actions, key)
    refused = _post(client, "/account/security/passkey", action="start")
    assert refused.status_code == 400
    assert "Enter a code from your current two-factor method" in refused.text


# -- the page and its script ----------------------------------------------------------------


def test_sign_in_page_offers_passkeys_with_an_external_script_only(client):
    page = client.get("/login")
    csp = page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "script-src" not in csp or "'self'" in csp
    scripts = re.findall(r"<script([^>]*)>", page.text)
    assert scripts and all('src="/static/' in s for s in scripts)
    # Without JavaScript the passkey button stays hidden and the password form works.
    assert re.search(r"<button[^>]*data-webauthn-start hidden", page.text)
    assert 'autocomplete="username webauthn"' in page.text
    script = client.get("/static/passkeys.js")
    script.close()
    assert script.status_code == 200


def test_relying_party_comes_from_the_issuer_not_the_request(client):
    page = client.get("/login", headers={"Host": "evil.example"})
    assert '"rpId": "localhost"' in options_in(page.text)


# -- the protocol: require_mfa clients, step-up, the helpdesk -------------------------------


def test_passwordless_satisfies_a_require_mfa_client(app, client, actions, member, key):
    _add(actions, key)
    _sign_out(client)
    client_id, secret = actions.create_client(first_party=True, require_mfa=True)
    assert _passwordless(client, key.get).status_code == 302
    claims = jwt.decode(
        actions.tokens(client_id, secret)["id_token"], options={"verify_signature": False}
    )
    assert claims["acr"] == "mfa" and claims["amr"] == ["hwk", "user", "mfa"]


def test_step_up_with_a_passkey(app, client, actions, member, key):
    _add(actions, key)  # signed in with the password alone, before the passkey existed
    client_id, secret = actions.create_client(first_party=True)
    params, verifier = actions.authorize_params(client_id, acr_values="mfa")
    to_second_step = actions.authorize(params)
    assert to_second_step.headers["Location"].endswith("/login/2fa")
    page = client.get("/login/2fa")
    form = {"csrf_token": csrf_from(page.text), "method": "passkey"}
    done = client.post("/login/2fa", data=form | {"code": key.get(options_in(page.text))})
    assert done.status_code == 302
    code = client.get(done.headers["Location"])
    query = code.headers["Location"]
    assert "code=" in query, query
    tokens = actions.redeem(client_id, secret, query.split("code=")[1].split("&")[0], verifier)
    claims = jwt.decode(tokens.get_json()["id_token"], options={"verify_signature": False})
    assert claims["acr"] == "mfa" and claims["amr"] == ["pwd", "hwk", "mfa"]


def test_helpdesk_reset_removes_passkeys(app, actions, member, key, cli):
    _add(actions, key)
    shown = json.loads(cli("users", "show", member["email"], "--json").output)
    assert shown["second_factors"] == ["passkey"]
    result = cli("users", "reset-factors", member["email"], "--reason", "lost phone", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["second_factors_removed"] == 1
    assert _passkeys(app) == []
