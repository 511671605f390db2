"""Single sign-on across clients and single logout (RP-initiated and back-channel), issue 8."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt as pyjwt
import pytest
import requests
from sqlalchemy import select

from idp.db import db
from idp.models import LogoutDelivery, SsoSession

from .helpers import REDIRECT_URI, Actions, MemberBrowser, csrf_from, query_of

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class Receiver:
    """A relying party's back-channel logout endpoint on loopback, recording what it got.

    `failures` answers that many requests with 500 first; `hold` keeps the first request
    waiting until released (a slow relying party).
    """

    def __init__(self, failures: int = 0, hold: bool = False) -> None:
        self.tokens: list[str] = []
        self.hits = 0
        self.failures = failures
        self.hold = threading.Event() if hold else None
        self.first_hit = threading.Event()
        self.delivered = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                receiver.hits += 1
                number = receiver.hits
                receiver.first_hit.set()
                if number == 1 and receiver.hold is not None:
                    receiver.hold.wait(timeout=10)
                status = 500 if number <= receiver.failures else 200
                if status == 200:
                    receiver.tokens.extend(form.get("logout_token", []))
                    receiver.delivered.set()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/backchannel-logout"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(**options) -> Receiver:
        made.append(Receiver(**options))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def _verify_logout_token(token: str, jwks: dict, issuer: str, audience: str) -> dict:
    header = pyjwt.get_unverified_header(token)
    assert header["typ"] == "logout+jwt"
    key = next(k for k in pyjwt.PyJWKSet.from_dict(jwks).keys if k.key_id == header["kid"])
    claims = pyjwt.decode(
        token,
        key=key.key,
        algorithms=[header["alg"]],
        audience=audience,
        issuer=issuer,
        options={"require": ["iat", "jti", "sid", "sub", "events"]},
    )
    # Back-Channel Logout §2.4: the event is there, a nonce never is.
    assert claims["events"] == {LOGOUT_EVENT: {}}
    assert "nonce" not in claims
    return claims


def _rp(live, name: str, receiver: Receiver, **extra) -> tuple[str, str]:
    base = f"https://{name}.example.id"
    return live.create_client(
        name=name,
        first_party=True,
        scope="openid profile offline_access",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[f"{base}/callback"],
        post_logout_redirect_uris=[f"{base}/signed-out"],
        backchannel_logout_uri=receiver.url,
        **extra,
    )


@pytest.fixture
def live_server_sections() -> dict:
    return {"logout": {"retry_delays": [0], "backchannel_timeout": 1.0}}


@pytest.mark.slow
def test_sign_in_once_then_single_logout_reaches_every_client(live_server, receivers):
    live = live_server
    member = live.create_member()
    first_receiver, second_receiver = receivers(), receivers()
    first = _rp(live, "first", first_receiver)
    second = _rp(live, "second", second_receiver)
    browser = MemberBrowser(live.url, member)
    first_cb, second_cb = "https://first.example.id/callback", "https://second.example.id/callback"

    back = browser.callback_for(browser.authorize_url(first[0], first_cb))
    first_tokens = browser.redeem(first, query_of(back)["code"], first_cb)
    assert browser.sign_ins == 1
    # The second client: a code straight away, no sign-in page.
    silent = browser.callback_for(
        browser.authorize_url(second[0], second_cb, scope="openid offline_access")
    )
    assert browser.sign_ins == 1 and silent.startswith(second_cb + "?")
    second_tokens = browser.redeem(second, query_of(silent)["code"], second_cb)

    jwks = requests.get(f"{live.url}/jwks", timeout=10).json()
    id_claims = pyjwt.decode(first_tokens["id_token"], options={"verify_signature": False})
    second_claims = pyjwt.decode(second_tokens["id_token"], options={"verify_signature": False})
    assert id_claims["sid"] == second_claims["sid"]
    assert id_claims["auth_time"] == second_claims["auth_time"]

    # The sessions page lists this session with both clients.
    sessions_page = browser.session.get(f"{live.url}/account/sessions", timeout=10)
    assert "first" in sessions_page.text and "second" in sessions_page.text

    logout = browser.session.get(
        f"{live.url}/end-session?"
        + urlencode(
            {
                "id_token_hint": first_tokens["id_token"],
                "post_logout_redirect_uri": "https://first.example.id/signed-out",
                "state": "bye",
            }
        ),
        allow_redirects=False,
        timeout=10,
    )
    assert logout.status_code == 302
    assert logout.headers["Location"] == "https://first.example.id/signed-out?state=bye"
    assert first_receiver.delivered.wait(10) and second_receiver.delivered.wait(10)
    for receiver, client in ((first_receiver, first), (second_receiver, second)):
        claims = _verify_logout_token(receiver.tokens[0], jwks, live.url, client[0])
        assert claims["sid"] == id_claims["sid"] and claims["sub"] == id_claims["sub"]

    # The session is over: the next authorization asks to sign in again.
    again = browser.get(browser.authorize_url(first[0], first_cb))
    assert urlsplit(again.headers["Location"]).path == "/login"
    # Its tokens went with it, but the offline_access grant of the second client stays.
    assert _refresh(live.url, second, second_tokens["refresh_token"]).status_code == 200
    userinfo = requests.get(
        f"{live.url}/userinfo",
        headers={"Authorization": f"Bearer {first_tokens['access_token']}"},
        timeout=10,
    )
    assert userinfo.status_code == 401


def _refresh(base: str, client, token: str) -> requests.Response:
    return requests.post(
        f"{base}/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        auth=client,
        timeout=10,
    )


@pytest.mark.slow
def test_a_slow_or_failing_client_is_retried_and_never_blocks_sign_out(live_server, receivers):
    live = live_server
    member = live.create_member()
    slow, quick = receivers(hold=True), receivers()
    slow_rp, quick_rp = _rp(live, "slow", slow), _rp(live, "quick", quick)
    browser = MemberBrowser(live.url, member)
    browser.callback_for(browser.authorize_url(slow_rp[0], "https://slow.example.id/callback"))
    browser.callback_for(browser.authorize_url(quick_rp[0], "https://quick.example.id/callback"))

    page = browser.session.get(f"{live.url}/account", timeout=10)
    signed_out = browser.session.post(
        f"{live.url}/logout",
        data={"csrf_token": csrf_from(page.text)},
        allow_redirects=False,
        timeout=10,
    )
    assert signed_out.status_code == 302
    # The sign-out answered while the slow client still holds its first request.
    assert slow.first_hit.wait(10) and not slow.delivered.is_set()
    assert quick.delivered.wait(10)
    # The first attempt times out (1 s); the retry (delay 0) is delivered.
    assert slow.delivered.wait(10)
    slow.hold.set()
    assert live.app.extensions["idp.logout"].wait_idle(10)
    with live.app.app_context():
        deliveries = db.session.scalars(select(LogoutDelivery)).all()
        assert {d.client_id: d.attempts for d in deliveries} == {slow_rp[0]: 2, quick_rp[0]: 1}
        assert all(d.delivered_at is not None for d in deliveries)


def _signed_in_with_backchannel(make_app, receiver: Receiver, **sections):
    app = make_app(**sections)
    browser = app.test_client()
    actions = Actions(app, browser)
    member = actions.create_member()
    rp = actions.create_client(first_party=True, backchannel_logout_uri=receiver.url)
    actions.sign_in(member["email"])
    actions.get_code(rp[0])
    return app, browser, actions, member, rp


def _sign_out(browser) -> None:
    page = browser.get("/account")
    browser.post("/logout", data={"csrf_token": csrf_from(page.text)})


def test_failed_delivery_is_retried_after_its_delay_then_given_up(make_app, clock, receivers):
    receiver = receivers(failures=2)
    app, browser, *_ = _signed_in_with_backchannel(
        make_app, receiver, logout={"retry_delays": [60]}
    )
    sender = app.extensions["idp.logout"]
    _sign_out(browser)
    assert sender.wait_idle(10)
    assert receiver.hits == 1
    with app.app_context():
        delivery = db.session.scalars(select(LogoutDelivery)).one()
        assert delivery.attempts == 1 and delivery.last_error == "HTTP 500"
        assert (delivery.next_attempt_at - clock.now()).total_seconds() == 60
    sender.notify()  # nothing is due yet: no new attempt
    assert sender.wait_idle(10) and receiver.hits == 1
    clock.advance(seconds=60)
    sender.notify()
    assert sender.wait_idle(10)
    assert receiver.hits == 2
    with app.app_context():
        delivery = db.session.scalars(select(LogoutDelivery)).one()
        # Bounded: one retry configured, so after two failures it is logged and dropped.
        assert delivery.attempts == 2 and delivery.next_attempt_at is None
        assert delivery.delivered_at is None


def test_end_session_asks_for_confirmation_without_a_matching_hint(actions, client):
    member = actions.create_member()
    rp = actions.create_client(
        first_party=True, post_logout_redirect_uris=["https://rp.example.id/bye"]
    )
    actions.sign_in(member["email"])
    params = {"client_id": rp[0], "post_logout_redirect_uri": "https://rp.example.id/bye"}
    page = client.get(f"/end-session?{urlencode(params | {'state': 'x', 'ui_locales': 'en'})}")
    assert page.status_code == 200 and 'value="logout"' in page.text
    assert "Sign out?" in page.text  # ui_locales chose English
    # "Stay signed in": no redirect, still signed in.
    stay = client.post(
        "/end-session/confirm",
        data=params | {"csrf_token": csrf_from(page.text), "decision": "stay"},
    )
    assert stay.status_code == 200
    assert client.get("/account").status_code == 200
    # The confirmation form is CSRF-protected.
    forged = client.post("/end-session/confirm", data=params | {"decision": "logout"})
    assert forged.status_code == 400
    assert client.get("/account").status_code == 200
    confirmed = client.post(
        "/end-session/confirm",
        data=params | {"state": "x", "csrf_token": csrf_from(page.text), "decision": "logout"},
    )
    assert confirmed.status_code == 302
    assert confirmed.headers["Location"] == "https://rp.example.id/bye?state=x"
    assert client.get("/account").status_code == 302


def test_end_session_hint_for_another_member_asks_first(actions, client):
    member = actions.create_member()
    other = actions.create_member(
        membership_number="98765432109", nik="3174051507900002", email="budi@example.id"
    )
    rp = actions.create_client(first_party=True)
    actions.sign_in(other["email"])
    other_hint = actions.tokens(*rp)["id_token"]
    actions.sign_in(member["email"])
    page = client.get(f"/end-session?{urlencode({'id_token_hint': other_hint})}")
    assert page.status_code == 200 and 'value="logout"' in page.text
    assert client.get("/account").status_code == 200


def test_end_session_accepts_an_expired_hint_and_ends_the_session(actions, client, clock):
    member = actions.create_member()
    rp = actions.create_client(first_party=True)
    actions.sign_in(member["email"])
    hint = actions.tokens(*rp)["id_token"]
    clock.advance(seconds=900)  # the ID token (10 minutes) has expired; the session has not
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    actions.get_code(rp[0])
    response = client.get(f"/end-session?{urlencode({'id_token_hint': hint})}")
    assert response.status_code == 200 and "signed out" in response.text.lower()
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    "problem",
    ["forged_hint", "client_mismatch", "unknown_client"],
)
def test_end_session_refuses_bad_requests_and_ends_nothing(actions, client, problem):
    member = actions.create_member()
    rp = actions.create_client(first_party=True)
    other = actions.create_client(first_party=True, name="Other")
    actions.sign_in(member["email"])
    hint = actions.tokens(*rp)["id_token"]
    params = {
        "forged_hint": {"id_token_hint": hint[:-4] + "AAAA"},
        "client_mismatch": {"id_token_hint": hint, "client_id": other[0]},
        "unknown_client": {"client_id": "nobody"},
    }[problem]
    response = client.get(f"/end-session?{urlencode(params)}")
    assert response.status_code == 400
    assert client.get("/account").status_code == 200


def test_unregistered_post_logout_redirect_uri_is_not_followed(actions, client):
    member = actions.create_member()
    rp = actions.create_client(
        first_party=True, post_logout_redirect_uris=["https://rp.example.id/bye"]
    )
    actions.sign_in(member["email"])
    hint = actions.tokens(*rp)["id_token"]
    for uri in ("https://evil.example/bye", "https://rp.example.id/bye/", REDIRECT_URI):
        actions.sign_in(member["email"])
        params = {"id_token_hint": hint, "post_logout_redirect_uri": uri}
        response = client.get(f"/end-session?{urlencode(params)}")
        assert response.status_code == 200, uri  # a page, never a redirect
        assert client.get("/account").status_code == 302


def test_sessions_page_signs_out_one_or_all_others(make_app, clock, receivers):
    receiver = receivers()
    app, laptop, actions, member, rp = _signed_in_with_backchannel(make_app, receiver)
    phone = app.test_client()
    Actions(app, phone).sign_in(member["email"])
    page = laptop.get("/account/sessions")
    assert page.status_code == 200 and page.text.count('name="session" value="') == 4
    with app.app_context():
        phone_session = db.session.scalars(
            select(SsoSession).order_by(SsoSession.id.desc())
        ).first()
    # Someone else's id, or nonsense, changes nothing.
    laptop.post(
        "/account/sessions/end", data={"session": "999", "csrf_token": csrf_from(page.text)}
    )
    assert phone.get("/account").status_code == 200
    laptop.post(
        "/account/sessions/end",
        data={"session": str(phone_session.id), "csrf_token": csrf_from(page.text)},
    )
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 200
    Actions(app, phone).sign_in(member["email"])
    laptop.post(
        "/account/sessions/end", data={"session": "others", "csrf_token": csrf_from(page.text)}
    )
    assert phone.get("/account").status_code == 302 and laptop.get("/account").status_code == 200
    laptop.post(
        "/account/sessions/end", data={"session": "all", "csrf_token": csrf_from(page.text)}
    )
    assert laptop.get("/account").status_code == 302
    # Only the laptop's session had signed in to the client: one logout token, sent once.
    assert app.extensions["idp.logout"].wait_idle(10)
    assert receiver.hits == 1


def test_password_reset_and_operator_signout_send_backchannel_logout(
    make_app, clock, receivers, cli
):
    from idp.account.passwords import set_password
    from idp.models import Member

    receiver = receivers()
    app, browser, actions, member, rp = _signed_in_with_backchannel(make_app, receiver)
    with app.app_context():
        set_password(db.session.get(Member, member["id"]), "a brand new passphrase 42")
        db.session.commit()
        app.extensions["idp.logout"].notify()
    assert app.extensions["idp.logout"].wait_idle(10)
    assert receiver.hits == 1
    assert browser.get("/account").status_code == 302

    actions.sign_in(member["email"], password="a brand new passphrase 42")
    actions.get_code(rp[0])
    result = cli("users", "signout", member["email"], "--json")
    assert result.exit_code == 0, result.output
    assert '"sessions_ended": 1' in result.output
    assert receiver.hits == 2  # the CLI makes its first attempt before it returns
    assert browser.get("/account").status_code == 302
    unknown = cli("users", "signout", "nobody@example.id")
    assert unknown.exit_code != 0 and "no member" in unknown.output


def test_idle_and_absolute_session_lifetimes(make_app, clock):
    app = make_app(session={"idle_lifetime": 1800, "absolute_lifetime": 7200})
    browser = app.test_client()
    actions = Actions(app, browser)
    member = actions.create_member()
    actions.sign_in(member["email"])
    for _ in range(4):  # active every 29 minutes: the idle limit never strikes...
        clock.advance(seconds=1740)
        assert browser.get("/account").status_code == 200
    clock.advance(seconds=1740)  # ...but 2 hours after sign-in the session is over
    assert browser.get("/account").status_code == 302
    actions.sign_in(member["email"])
    clock.advance(seconds=1801)
    assert browser.get("/account").status_code == 302


def test_id_tokens_carry_the_session_and_reauthentication_keeps_its_sid(actions, client, clock):
    member = actions.create_member()
    rp = actions.create_client(first_party=True)
    actions.sign_in(member["email"])
    first = pyjwt.decode(actions.tokens(*rp)["id_token"], options={"verify_signature": False})
    assert first["acr"] == "pwd" and first["amr"] == ["pwd"] and first["sid"]
    clock.advance(seconds=600)
    params, verifier = actions.authorize_params(rp[0], max_age="60")
    login = actions.authorize(params)
    actions.sign_in(member["email"], next_url=query_of(login.headers["Location"])["next"])
    response = client.get(query_of(login.headers["Location"])["next"])
    code = query_of(response.headers["Location"])["code"]
    again = actions.redeem(*rp, code, verifier).get_json()
    claims = pyjwt.decode(again["id_token"], options={"verify_signature": False})
    assert claims["sid"] == first["sid"]
    assert claims["auth_time"] == first["auth_time"] + 600


def test_access_log_leaves_out_query_strings_and_referrers():
    from gunicorn.config import Config

    from idp.wsgi_server import gunicorn_options

    options = gunicorn_options(host="127.0.0.1", port=5000, workers=1, threads=1)
    config = Config()
    for key, value in options.items():
        config.set(key, value)  # gunicorn accepts every option we pass
    log_format = options["access_log_format"]
    # %(r)s is the request line with its query, %(q)s the query, %(f)s the referrer: an
    # id_token_hint or an authorization code would end up in the log.
    assert "%(r)s" not in log_format and "%(q)s" not in log_format and "%(f)s" not in log_format


def test_a_redirecting_logout_endpoint_counts_as_a_failure():
    from idp.oidc.backchannel import post_logout_token
    from idp.oidc.outbound import Policy, opener

    development = opener(Policy(public_only=False, allowed_hosts=frozenset(), allowed_networks=()))

    hits: list[str] = []

    class Redirecting(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            hits.append(self.path)
            self.send_response(307)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/logout"
        assert post_logout_token(url, "token", timeout=5, opener=development) == "HTTP 307"
        assert hits == ["/logout"]  # the redirect was not followed
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
