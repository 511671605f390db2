"""Two-factor sign-in (issue 5): TOTP with QR enrolment, email codes, recovery codes, step-up."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
import requests
from sqlalchemy import select

from idp.db import db
from idp.models import SecondFactor

from .helpers import PASSWORD, Actions, csrf_from, mail_text, mails, query_of


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def member(actions):
    return actions.create_member()


def _post(client, path: str, page_path: str = "/account/security", **form):
    token = csrf_from(client.get(page_path).text)
    return client.post(path, data={"csrf_token": token, **form})


def _enrol_totp(actions) -> tuple[pyotp.TOTP, list[str], str]:
    """Sign in, enrol an authenticator app; return it, the recovery codes and the QR page."""
    assert actions.sign_in("siti@example.id").status_code == 302
    page = _post(actions.client, "/account/security/totp", action="start")
    assert page.status_code == 200
    secret = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', page.text).group(1)
    totp = pyotp.TOTP(secret.replace(" ", ""))
    done = _post(actions.client, "/account/security/totp", action="confirm", code=totp.now())
    assert done.status_code == 200, done.text
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.text)
    _sign_out(actions.client)
    return totp, codes, page.text


def _sign_out(client) -> None:
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/account/password").text)})


def _decode_qr(svg: str) -> str:
    """Rasterise the SVG path of the QR code and decode it with zxing-cpp."""
    import zxingcpp
    from PIL import Image, ImageDraw

    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y in re.findall(r"M(\d+),(\d+)H", svg):
        x, y = int(x) * scale, int(y) * scale
        draw.rectangle([x, y, x + scale - 1, y + scale - 1], fill=0)
    (result,) = zxingcpp.read_barcodes(image)
    return result.text


def _second_step(client, code: str, method: str | None = None):
    page = client.get("/login/2fa" + (f"?method={method}" if method else ""))
    form = {"code": code, "csrf_token": csrf_from(page.text)}
    if method:
        form["method"] = method
    return client.post("/login/2fa", data=form)


def _id_token_claims(actions, client_id: str, secret: str, code: str, verifier: str) -> dict:
    import jwt

    tokens = actions.redeem(client_id, secret, code, verifier).get_json()
    return jwt.decode(tokens["id_token"], options={"verify_signature": False})


def test_qr_code_decodes_to_the_otpauth_uri_and_secret_is_encrypted(app, actions, member):
    totp, codes, page = _enrol_totp(actions)
    svg = re.search(r"<svg .*?</svg>", page, re.S).group(0)
    uri = _decode_qr(svg)
    assert uri.startswith("otpauth://totp/")
    assert pyotp.parse_uri(uri).secret == totp.secret
    assert "issuer=Portal%20Jaminan%20Sosial" in uri
    assert len(codes) == 10 and len(set(codes)) == 10
    with app.app_context():
        (factor,) = db.session.scalars(select(SecondFactor)).all()
        assert factor.confirmed_at is not None
        assert totp.secret not in factor.secret_encrypted


def test_enrolment_needs_a_correct_code(actions, member):
    actions.sign_in("siti@example.id")
    _post(actions.client, "/account/security/totp", action="start")
    wrong = _post(actions.client, "/account/security/totp", action="confirm", code="000000")
    assert wrong.status_code == 400
    assert "The code is not correct" in wrong.text
    # Still no factor: sign-in needs only the password.
    actions.client.post("/logout", data={"csrf_token": csrf_from(wrong.text)})
    assert actions.sign_in("siti@example.id").headers["Location"] == "/account"


def test_totp_sign_in_gives_acr_mfa_and_refuses_a_replayed_code(actions, member, clock):
    totp, _codes, _page = _enrol_totp(actions)
    client_id, secret = actions.create_client(first_party=True)
    params, verifier = actions.authorize_params(client_id)
    first = actions.authorize(params)
    login = actions.client.get(first.headers["Location"])
    answer = actions.client.post(
        "/login",
        data={"identifier": "siti@example.id", "password": PASSWORD,
              "next": query_of(first.headers["Location"])["next"],
              "csrf_token": csrf_from(login.text)},
    )  # fmt: skip
    assert answer.headers["Location"] == "/login/2fa"
    clock.advance(seconds=31)  # a new time step, so the enrolment code is not a replay
    code = totp.at(clock.now())
    done = _second_step(actions.client, code)
    assert done.status_code == 302
    redirect = actions.client.get(done.headers["Location"])
    assert "code=" in redirect.headers["Location"], redirect.headers["Location"]
    callback = query_of(redirect.headers["Location"])
    claims = _id_token_claims(actions, client_id, secret, callback["code"], verifier)
    assert claims["acr"] == "mfa"
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    # The same code again, in a fresh sign-in within the same step: refused.
    _sign_out(actions.client)
    actions.sign_in("siti@example.id")
    replay = _second_step(actions.client, code)
    assert replay.status_code == 400
    assert "The code is not correct" in replay.text


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-30, True), (30, True), (-60, False), (90, False)]
)
def test_drift_window_is_one_step(actions, member, clock, offset, accepted):
    totp, _codes, _page = _enrol_totp(actions)
    clock.advance(seconds=120)
    actions.sign_in("siti@example.id")
    code = totp.at(clock.now().timestamp() + offset)
    assert (_second_step(actions.client, code).status_code == 302) is accepted


def test_password_only_sign_in_is_not_enough_with_a_factor(actions, member):
    _enrol_totp(actions)
    assert actions.sign_in("siti@example.id").headers["Location"] == "/login/2fa"
    # Without the second step there is no session.
    assert actions.client.get("/account").status_code == 302


def test_second_step_expires_after_five_minutes(actions, member, clock):
    totp, _codes, _page = _enrol_totp(actions)
    actions.sign_in("siti@example.id")
    clock.advance(minutes=5, seconds=1)
    late = _second_step(actions.client, totp.at(clock.now()))
    assert late.status_code == 400
    assert "took too long" in late.text
    assert actions.client.get("/account").status_code == 302


def test_recovery_code_works_once_and_is_logged_and_emailed(app, actions, member):
    _totp, codes, _page = _enrol_totp(actions)
    actions.sign_in("siti@example.id")
    assert _second_step(actions.client, codes[0].upper(), "recovery").status_code == 302
    notices = [m for m in mails(app) if "recovery code was just used" in mail_text(m)
               or "kode pemulihan baru saja" in mail_text(m)]  # fmt: skip
    assert len(notices) == 1
    actions.client.post(
        "/logout", data={"csrf_token": csrf_from(actions.client.get("/account").text)}
    )
    actions.sign_in("siti@example.id")
    assert _second_step(actions.client, codes[0], "recovery").status_code == 400
    assert _second_step(actions.client, codes[1], "recovery").status_code == 302
    log = actions.client.get("/account/security").text
    assert "8 recovery codes left" in log


def test_wrong_codes_count_toward_the_lockout(actions, member):
    _enrol_totp(actions)
    actions.sign_in("siti@example.id")
    answers = [_second_step(actions.client, "000000") for _ in range(5)]
    assert [a.status_code for a in answers] == [400, 400, 400, 400, 403]
    assert "temporarily locked" in answers[-1].text
    assert actions.sign_in("siti@example.id").status_code == 403


def _authorize_with_session(actions, client_id: str, **extra):
    params, verifier = actions.authorize_params(client_id, **extra)
    return actions.authorize(params), verifier


def test_step_up_from_pwd_session(make_app, clock):
    """A password-only session (factor added later) is asked for the factor by acr_values."""
    app = make_app()
    actions = Actions(app, app.test_client())
    actions.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    actions.create_member()
    totp, _codes, _page = _enrol_totp(actions)
    # Open a password-only session the way a member did before enrolling: policy off.
    off = make_app(mfa={"policy": "off"})
    off_client = off.test_client()
    off_actions = Actions(off, off_client)
    assert off_actions.sign_in("siti@example.id").headers["Location"] == "/account"
    client_id, secret = off_actions.create_client(first_party=True)
    # Same browser session, now served with the normal policy.
    actions.client.set_cookie("idp_session", off_client.get_cookie("idp_session").value)
    plain, verifier = _authorize_with_session(actions, client_id)
    claims = _id_token_claims(
        actions, client_id, secret, query_of(plain.headers["Location"])["code"], verifier
    )
    assert claims["acr"] == "pwd" and claims["amr"] == ["pwd"]
    for extra in (
        {"acr_values": "mfa"},
        {"claims": '{"id_token":{"acr":{"essential":true,"values":["mfa"]}}}'},
    ):
        stepped, verifier = _authorize_with_session(actions, client_id, **extra)
        assert stepped.headers["Location"] == "/login/2fa", extra
    none, _ = _authorize_with_session(actions, client_id, acr_values="mfa", prompt="none")
    assert query_of(none.headers["Location"])["error"] == "interaction_required"
    bad, _ = _authorize_with_session(actions, client_id, claims="not json")
    assert query_of(bad.headers["Location"])["error"] == "invalid_request"
    clock.advance(seconds=31)
    done = _second_step(actions.client, totp.at(clock.now()))
    final = actions.client.get(done.headers["Location"])
    claims = _id_token_claims(
        actions, client_id, secret, query_of(final.headers["Location"])["code"], verifier
    )
    assert claims["acr"] == "mfa"


def test_require_mfa_client_leads_a_member_without_factor_to_enrol(app, actions, member):
    client_id, _secret = actions.create_client(first_party=True)
    with app.app_context():
        from idp.models import Client

        db.session.scalar(select(Client).where(Client.client_id == client_id)).require_mfa = True
        db.session.commit()
    actions.sign_in("siti@example.id")
    answer, _ = _authorize_with_session(actions, client_id)
    assert answer.headers["Location"].startswith("/account/security?enrol=1")
    page = actions.client.get(answer.headers["Location"])
    assert "This service asks for two-factor sign-in" in page.text


def test_email_code_factor(app, actions, member, clock):
    with app.app_context():
        from idp.models import Member

        db.session.get(Member, member["id"]).email_verified = True
        db.session.commit()
    actions.sign_in("siti@example.id")
    sent = _post(actions.client, "/account/security/add", kind="email", action="send")
    assert sent.status_code == 200
    code = re.search(r"code is (\d{6})|adalah (\d{6})", mail_text(mails(app)[-1]))
    code = code.group(1) or code.group(2)
    done = _post(actions.client, "/account/security/add", kind="email", action="confirm", code=code)
    assert done.status_code == 200 and "recovery codes" in done.text.lower()
    _sign_out(actions.client)
    actions.sign_in("siti@example.id")
    page = actions.client.get("/login/2fa?method=email")
    send = {"method": "email", "action": "send", "csrf_token": csrf_from(page.text)}
    actions.client.post("/login/2fa", data=send)
    again = actions.client.post("/login/2fa", data=send)
    assert "less than a minute ago" in again.text
    match = re.search(r"code is (\d{6})|adalah (\d{6})", mail_text(mails(app)[-1]))
    answer = _second_step(actions.client, match.group(1) or match.group(2), "email")
    assert answer.status_code == 302


def test_removing_a_factor_needs_a_code_and_is_emailed(app, actions, member, clock):
    totp, _codes, _page = _enrol_totp(actions)
    actions.sign_in("siti@example.id")
    clock.advance(seconds=31)
    _second_step(actions.client, totp.at(clock.now()))
    refused = _post(actions.client, "/account/security/remove", kind="totp", method="totp",
                    code="000000")  # fmt: skip
    assert refused.status_code == 400
    clock.advance(seconds=31)
    removed = _post(actions.client, "/account/security/remove", kind="totp", method="totp",
                    code=totp.at(clock.now()))  # fmt: skip
    assert removed.status_code == 302
    assert any("dihapus" in mail_text(m) or "removed" in mail_text(m) for m in mails(app))
    with app.app_context():
        assert db.session.scalars(select(SecondFactor)).all() == []


def test_changes_need_recent_authentication(actions, member, clock):
    actions.sign_in("siti@example.id")
    clock.advance(minutes=11)
    answer = _post(actions.client, "/account/security/totp", action="start")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/account/confirm")


def test_totp_over_real_http(live_server):
    """pyotp-generated codes against a real server: enrol, sign out, sign in with a code."""
    live_server.create_member()
    browser = requests.Session()
    base = live_server.url

    def post(path: str, page: str, **form):
        token = csrf_from(browser.get(base + page, timeout=10).text)
        return browser.post(base + path, data={"csrf_token": token, **form}, timeout=10)

    post("/login", "/login", identifier="siti@example.id", password=PASSWORD)
    started = post("/account/security/totp", "/account/security", action="start")
    secret = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', started.text).group(1)
    totp = pyotp.TOTP(secret.replace(" ", ""))
    post("/account/security/totp", "/account/security", action="confirm", code=totp.now())
    post("/logout", "/account")
    second = post("/login", "/login", identifier="siti@example.id", password=PASSWORD)
    assert second.url.endswith("/login/2fa")
    wrong = post("/login/2fa", "/login/2fa", code="000000")
    assert wrong.status_code == 400
    # The enrolment used this time step's code; the next step's is within the drift window.
    done = post("/login/2fa", "/login/2fa", code=totp.at(time.time() + 30))
    assert done.status_code == 200 and done.url.endswith("/account")


def test_discovery_lists_acr_values(client):
    meta = client.get("/.well-known/openid-configuration").get_json()
    assert meta["acr_values_supported"] == ["pwd", "mfa"]


def test_operators_mark_a_client_require_mfa(cli):
    import json

    result = cli("clients", "create", "--name", "Payroll", "--redirect-uri",
                 "https://payroll.example.id/cb", "--require-mfa", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["require_mfa"] is True
