"""Property-based fuzzing of every endpoint and form: never a 5xx, nothing stored on a refusal.

Hypothesis generates query strings, form bodies (with the browser's valid CSRF token, a wrong
one, or none), JSON bodies and the Host, Authorization and Content-Type headers, mixing random
values with valid ones (the real client, tokens, codes and member) so that requests get past
the first check. Each request must answer below 500, and a refused one (4xx) must leave every
stored row as it was. Failure counters and the audit trail are the exception: counting and
recording refused attempts is their job (security invariant 7).

Runs are deterministic (`derandomize=True`, no example database) and bounded. The app is built
once per test function, not per example: that is why the function-scoped-fixture health check
is suppressed. `SENT` counts the requests; `pytest -s tests/test_fuzz.py` prints the total.
"""

from __future__ import annotations

import base64
import json
import os
import re
import traceback
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import pyotp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder, run_wsgi_app

from idp.auth.passwords import hash_password
from idp.db import db
from idp.models import Member
from idp.oidc.registration import mint_initial_access_token

from .helpers import PASSWORD, REDIRECT_URI, csrf_from, pkce_pair, query_of
from .malformed import stored_rows

MAX_EXAMPLES = 30

FUZZ = settings(
    derandomize=True,
    database=None,
    max_examples=MAX_EXAMPLES,
    deadline=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

# Refused attempts are counted and audited by design; every other table must stay as it was.
COUNTED_ON_REFUSAL = {"login_throttles", "rate_buckets", "audit_events"}

SENT = [0]
# FUZZ_REPORT=1 (diagnosis only): collect every 5xx with its input instead of stopping at one.
REPORT = bool(os.environ.get("FUZZ_REPORT"))
FOUND: list[tuple[str, str, str]] = []


@pytest.fixture(scope="module", autouse=True)
def _report_requests():
    yield
    print(f"\ntests/test_fuzz.py sent {SENT[0]} generated requests")
    shortest: dict[tuple[str, str], str] = {}
    for endpoint, where, found in FOUND:
        if len(found) < len(shortest.get((endpoint, where), found + " ")):
            shortest[endpoint, where] = found
    for (endpoint, where), found in sorted(shortest.items()):
        print(f"-- {endpoint}\n{where}\n  shortest input: {found.splitlines()[0][:400]}")


def _open_raw(browser, method: str, path: str, kwargs: dict):
    """Call the WSGI app directly with the browser's cookies: the test client parses the Host
    header itself (to file cookies) and would fail before or after the app on an odd one,
    which a real server passes on to the app."""
    jar = browser._cookies or {}
    cookies = "; ".join(cookie._to_request_header() for cookie in jar.values())
    headers_ = dict(kwargs["headers"]) | ({"Cookie": cookies} if cookies else {})
    builder = EnvironBuilder(path=path, method=method, **(kwargs | {"headers": headers_}))
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    app = browser.application
    body, status, response_headers = run_wsgi_app(app, environ, buffered=True)
    return app.response_class(body, status, response_headers)


def _where(error: BaseException) -> str:
    """The innermost frame of the project's code and the innermost frame of all."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/idp/" in f.filename]
    shown = ([ours[-1]] if ours else []) + [frames[-1]]
    lines = [f"  {f.filename.split('site-packages/')[-1]}:{f.lineno} {f.line}" for f in shown]
    return "\n".join(dict.fromkeys(lines)) + f"\n  {type(error).__name__}: {error}"


# -- the world the fuzzer attacks -------------------------------------------------------------


@dataclass
class World:
    app: object
    member: dict
    client_id: str
    secret: str
    public_id: str
    third_party_id: str
    access_token: str = ""
    refresh_token: str = ""
    id_token: str = ""
    initial_access_token: str = ""
    registered_id: str = ""
    registration_token: str = ""
    browser: object = None
    csrf: str = ""
    extra: dict = field(default_factory=dict)

    def rows(self) -> dict:
        return {
            name: rows
            for name, rows in stored_rows(self.app).items()
            if name not in COUNTED_ON_REFUSAL
        }

    def send(self, browser, method: str, path: str, **kwargs):
        """One generated request: below 500, and a refusal changes nothing that is stored."""
        SENT[0] += 1
        before = self.rows()
        try:
            if "Host" in kwargs.get("headers", {}):
                response = _open_raw(browser, method, path, kwargs)
            else:
                response = browser.open(path, method=method, **kwargs)
        except Exception as error:  # TESTING re-raises what would be a 500
            found = f"500 from {method} {path} {kwargs!r}\n{_where(error)}"
            if REPORT:
                FOUND.append((f"{method} {path.split('?')[0]}", _where(error), found))
                return None
            raise AssertionError(found) from error
        detail = f"{method} {path} {kwargs!r} -> {response.status_code}"
        if REPORT and response.status_code >= 500:
            FOUND.append((f"{method} {path.split('?')[0]}", str(response.status_code), detail))
            return response
        assert response.status_code < 500, detail + response.get_data(as_text=True)[:500]
        if response.status_code >= 400:
            assert self.rows() == before, f"a refused request changed stored rows: {detail}"
        return response

    def sign_in(self) -> None:
        """(Re)open the fuzzing browser's session; a fuzzed password change is undone."""
        with self.app.app_context():
            member = db.session.get(Member, self.member["id"])
            member.password_hash = hash_password(PASSWORD)
            db.session.commit()
        browser = self.browser
        page = browser.get("/login")
        form = {"identifier": self.member["email"], "password": PASSWORD}
        response = browser.post("/login", data=form | {"csrf_token": csrf_from(page.text)})
        assert response.status_code == 302, response.text
        self.csrf = csrf_from(browser.get("/account/password").text)

    def signed_in(self) -> bool:
        return self.browser.get("/account").status_code == 200


@pytest.fixture
def world(make_app, clock) -> World:
    # Limits far above what a run reaches, so the fuzzer gets past the lockout to deeper code.
    app = make_app(
        lockout={"max_failures": 100000, "ip_max_failures": 100000},
        mfa={"policy": "optional"},
    )
    from .helpers import Actions

    actions = Actions(app, app.test_client())
    member = actions.create_member()
    scope = "openid profile email phone address membership offline_access"
    client_id, secret = actions.create_client(first_party=True, scope=scope,
                                              grant_types=["authorization_code", "refresh_token",
                                                           "client_credentials"],
                                              post_logout_redirect_uris=[REDIRECT_URI])  # fmt: skip
    public_id, _ = actions.create_client(public=True, first_party=True)
    third_party_id, _ = actions.create_client(name="Third party")
    found = World(app, member, client_id, secret, public_id, third_party_id)
    assert actions.sign_in(member["email"]).status_code == 302
    tokens = actions.tokens(client_id, secret, scope="openid profile offline_access")
    found.access_token = tokens["access_token"]
    found.refresh_token = tokens["refresh_token"]
    found.id_token = tokens["id_token"]
    with app.app_context():
        found.initial_access_token = mint_initial_access_token(100000, 86400)
        db.session.commit()
    registered = app.test_client().post(
        "/register",
        json={"client_name": "Fuzzed", "redirect_uris": [REDIRECT_URI]},
        headers={"Authorization": f"Bearer {found.initial_access_token}"},
    )
    assert registered.status_code == 201, registered.text
    found.registered_id = registered.get_json()["client_id"]
    found.registration_token = registered.get_json()["registration_access_token"]
    found.browser = app.test_client()
    found.sign_in()
    return found


# -- strategies -------------------------------------------------------------------------------

TRICKY = [
    "",
    " ",
    "a" * 5000,
    "ñandú-ü",
    "日本語",
    "\u202e",
    "%00",
    "%ff",
    "\r\nSet-Cookie: x=1",
    "//evil.example",
    "/\\evil.example",
    "\t/\t/evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "{}",
    "[]",
    "null",
    "-1",
    "0",
    "99999999999999999999999",
    "1e309",
    "2024-02-30",
    "+6281234567890",
]

text = st.text(max_size=30)
tricky = st.sampled_from(TRICKY)


def values(world: World) -> st.SearchStrategy[str]:
    """Random text, tricky text, and the valid values of the world, in about equal parts."""
    valid = [
        world.client_id,
        world.secret,
        world.public_id,
        world.third_party_id,
        world.access_token,
        world.refresh_token,
        world.id_token,
        world.member["email"],
        world.member["membership_number"],
        PASSWORD,
        REDIRECT_URI,
        "openid profile email",
        "openid offline_access",
        "code",
        "S256",
        "plain",
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "access_token",
        "login",
        "none",
        "consent",
        "mfa pwd",
        "allow",
        "deny",
        "send",
        "confirm",
        "start",
        "totp",
        "sms",
        "email",
        "recovery",
        "others",
        "all",
        "/account",
        "en",
        "id",
    ]
    return st.one_of(text, tricky, st.sampled_from(valid))


# Odd parameter names, few so that they repeat: a repeated non-ASCII name is a classic.
ODD = ["ñ", "名前", "a b", "", "client_id ", "CLIENT_ID"]


def pairs(world: World, names: list[str], max_size: int = 8) -> st.SearchStrategy:
    """Parameter lists (names may repeat, as attackers send them), known names mostly."""
    name = st.one_of(st.sampled_from(names), st.sampled_from(names), text, st.sampled_from(ODD))
    return st.lists(st.tuples(name, values(world)), max_size=max_size)


def query(pairs_: list[tuple[str, str]]) -> str:
    return "?" + urlencode(pairs_) if pairs_ else ""


HOSTS = [
    "127.0.0.1:5000",
    "evil.example",
    "a" * 70 + ".example",
    "localhost:0",
    "[::1]:5000",
    "xn--.example",
    "ex ample",
    "127.0.0.1:5000:5000",
    "ñ.example",
]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/json",
    "multipart/form-data; boundary=xyz",
    "text/plain",
    "application/jwt",
    ";;",
    "",
]


def authorization(world: World) -> st.SearchStrategy[str | None]:
    basic = base64.b64encode(f"{world.client_id}:{world.secret}".encode()).decode()
    return st.one_of(
        st.none(),
        st.sampled_from(
            [
                f"Basic {basic}",
                f"Bearer {world.access_token}",
                f"Bearer {world.initial_access_token}",
                f"Bearer {world.registration_token}",
                "Basic !!!notbase64",
                "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
                "Basic " + base64.b64encode(b"no-colon").decode(),
                "Bearer",
                "Bearer  ",
                "DPoP x",
            ]
        ),
        # A header value cannot hold CR or LF (RFC 9110 §5.5); any other octet can arrive.
        text.map(lambda t: t.encode("utf-8").decode("latin-1").replace("\r", "").replace("\n", "")),
    )


def headers(world: World) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {},
        optional={
            "Host": st.sampled_from(HOSTS),
            "Authorization": authorization(world),
            "Origin": st.sampled_from(["https://evil.example", "null", "http://127.0.0.1:5000"]),
            "Accept-Language": st.sampled_from(["en", "id", "*", "xx;q=abc", "ñ"]),
            "If-None-Match": st.sampled_from(['"abc"', "*", "W/", ""]),
        },
    ).map(lambda found: {k: v for k, v in found.items() if v is not None})


def _send_kwargs(headers_: dict, body: list | None, content_type: str | None) -> dict:
    kwargs: dict = {"headers": headers_}
    if body is not None:
        kwargs["data"] = urlencode(body)
        kwargs["content_type"] = content_type or "application/x-www-form-urlencoded"
    return kwargs


# -- protocol endpoints -----------------------------------------------------------------------

AUTHORIZE_PARAMS = [
    "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
    "code_challenge_method", "prompt", "max_age", "id_token_hint", "login_hint", "acr_values",
    "ui_locales", "claims", "request", "request_uri", "response_mode", "display",
]  # fmt: skip


@FUZZ
@given(data=st.data())
def test_authorize(world, data):
    _, challenge = pkce_pair()
    base = [
        ("response_type", "code"),
        ("client_id", world.client_id),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
    # Either a valid request with fuzzed extras, or fuzz from scratch.
    start = data.draw(st.sampled_from([base, []]))
    params = start + data.draw(pairs(world, AUTHORIZE_PARAMS))
    browser = data.draw(st.sampled_from([world.browser, world.app.test_client()]))
    method = data.draw(st.sampled_from(["GET", "POST"]))
    headers_ = data.draw(headers(world))
    if method == "GET":
        world.send(browser, "GET", "/authorize" + query(params), headers=headers_)
    else:
        world.send(browser, "POST", "/authorize", **_send_kwargs(headers_, params, None))


TOKEN_PARAMS = [
    "grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "client_id",
    "client_secret", "scope", "client_assertion", "client_assertion_type", "resource",
]  # fmt: skip


@FUZZ
@given(data=st.data())
def test_token(world, data):
    body = data.draw(pairs(world, TOKEN_PARAMS))
    content_type = data.draw(st.sampled_from(CONTENT_TYPES))
    world.send(
        world.app.test_client(), "POST", "/token",
        **_send_kwargs(data.draw(headers(world)), body, content_type),
    )  # fmt: skip


@FUZZ
@given(data=st.data(), path=st.sampled_from(["/revoke", "/introspect"]))
def test_revoke_and_introspect(world, data, path):
    body = data.draw(pairs(world, ["token", "token_type_hint", "client_id", "client_secret"]))
    content_type = data.draw(st.sampled_from(CONTENT_TYPES))
    world.send(
        world.app.test_client(), "POST", path,
        **_send_kwargs(data.draw(headers(world)), body, content_type),
    )  # fmt: skip


@FUZZ
@given(data=st.data(), method=st.sampled_from(["GET", "POST"]))
def test_userinfo(world, data, method):
    params = data.draw(pairs(world, ["access_token", "schema", "claims"]))
    headers_ = data.draw(headers(world))
    if method == "GET":
        world.send(world.app.test_client(), "GET", "/userinfo" + query(params), headers=headers_)
    else:
        content_type = data.draw(st.sampled_from(CONTENT_TYPES))
        world.send(
            world.app.test_client(), "POST", "/userinfo",
            **_send_kwargs(headers_, params, content_type),
        )  # fmt: skip


@FUZZ
@given(
    data=st.data(),
    path=st.sampled_from(
        ["/jwks", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]
    ),
)
def test_discovery_and_jwks(world, data, path):
    params = data.draw(pairs(world, ["format", "kid", "callback"], max_size=3))
    method = data.draw(st.sampled_from(["GET", "HEAD", "POST", "OPTIONS"]))
    world.send(world.app.test_client(), method, path + query(params),
               headers=data.draw(headers(world)))  # fmt: skip


JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text, tricky
)
JSON = st.recursive(
    JSON_LEAF,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(text, children, max_size=4)
    ),
    max_leaves=12,
)
METADATA_FIELDS = [
    "client_name", "redirect_uris", "scope", "post_logout_redirect_uris",
    "backchannel_logout_uri", "backchannel_logout_session_required",
    "id_token_signed_response_alg", "token_endpoint_auth_method", "grant_types",
    "response_types", "jwks", "jwks_uri", "client_id", "client_secret", "software_statement",
]  # fmt: skip


def metadata(world: World) -> st.SearchStrategy:
    """JSON documents shaped like client metadata, with wrong types and odd values."""
    value = st.one_of(
        JSON,
        st.lists(values(world), max_size=3),
        st.sampled_from([[REDIRECT_URI], ["http://127.0.0.1/cb"], ["https://a/#f"], [""]]),
        st.sampled_from(["client_secret_post", "none", "private_key_jwt", "ES256", "HS256"]),
    )
    shaped = st.dictionaries(st.sampled_from(METADATA_FIELDS), value, max_size=6)
    return st.one_of(shaped, JSON)


# Deep nesting stays under the body cap ([server] max_body_bytes), so it reaches the parser.
RAW_BODIES = [b"", b"{", b"[" * 30000 + b"]" * 30000, b'{"a":' * 5000 + b"1" + b"}" * 5000,
              b"\xff\xfe{}", b'{"redirect_uris": ["\\ud800"]}', b"1e999999"]  # fmt: skip


def json_body(world: World) -> st.SearchStrategy[bytes]:
    return st.one_of(
        metadata(world).map(lambda doc: json.dumps(doc).encode()),
        st.sampled_from(RAW_BODIES),
    )


@settings(FUZZ, max_examples=2 * MAX_EXAMPLES)  # JSON has the most shapes to try
@given(data=st.data())
def test_register(world, data):
    headers_ = data.draw(headers(world))
    if data.draw(st.booleans()):  # past the initial access token, to the metadata checks
        headers_["Authorization"] = f"Bearer {world.initial_access_token}"
    content_type = data.draw(st.sampled_from(["application/json"] * 4 + CONTENT_TYPES))
    world.send(world.app.test_client(), "POST", "/register", data=data.draw(json_body(world)),
               content_type=content_type, headers=headers_)  # fmt: skip


@settings(FUZZ, max_examples=2 * MAX_EXAMPLES)
@given(data=st.data(), method=st.sampled_from(["GET", "PUT", "DELETE", "POST"]))
def test_register_management(world, data, method):
    client_id = data.draw(st.one_of(st.just(world.registered_id), text, tricky))
    headers_ = data.draw(headers(world))
    if data.draw(st.booleans()):
        headers_["Authorization"] = f"Bearer {world.registration_token}"
    kwargs = {"headers": headers_}
    if method in ("PUT", "POST"):
        kwargs["data"] = data.draw(json_body(world))
        kwargs["content_type"] = data.draw(st.sampled_from(["application/json", *CONTENT_TYPES]))
    world.send(world.app.test_client(), method, "/register/" + quote(client_id, safe=""),
               **kwargs)  # fmt: skip


END_SESSION_PARAMS = [
    "id_token_hint", "post_logout_redirect_uri", "client_id", "state", "ui_locales",
    "logout_hint", "decision", "csrf_token",
]  # fmt: skip


@FUZZ
@given(data=st.data(), path=st.sampled_from(["/end-session", "/end-session/confirm"]))
def test_end_session(world, data, path):
    if not world.signed_in():
        world.sign_in()
    params = data.draw(pairs(world, END_SESSION_PARAMS))
    if data.draw(st.booleans()):
        params.append(("csrf_token", world.csrf))
    method = data.draw(st.sampled_from(["GET", "POST"]))
    headers_ = data.draw(headers(world))
    if method == "GET":
        world.send(world.browser, "GET", path + query(params), headers=headers_)
    else:
        world.send(world.browser, "POST", path, **_send_kwargs(headers_, params, None))


# -- pages and forms --------------------------------------------------------------------------

# path, its fields, needs a signed-in browser
FORMS = [
    ("/login", ["identifier", "password", "next", "login_hint"], False),
    ("/consent", ["decision"], True),
    ("/logout", [], True),
    ("/account", ["saved"], True),
    ("/account/activate", ["membership_number", "nik", "birthdate", "email", "password"], False),
    ("/account/reset", ["identifier"], False),
    ("/account/reset/{token}", ["password"], False),
    ("/account/verify/{token}", [], False),
    ("/account/verify", ["next"], True),
    ("/account/password", ["current_password", "password"], True),
    ("/account/confirm", ["password", "next"], True),
    ("/account/address", ["street_address", "locality", "region", "postal_code", "country"], True),
    ("/account/phone", ["phone", "code"], True),
    ("/account/email", ["email"], True),
    ("/account/email/confirm/{token}", [], False),
    ("/account/security", ["enrol", "next"], True),
    ("/account/security/send-code", ["method"], True),
    ("/account/security/add", ["kind", "action", "method", "code"], True),
    ("/account/security/{kind}", ["action", "method", "code"], True),
    ("/account/security/remove", ["kind", "method", "code"], True),
    ("/account/security/recovery", ["method", "code"], True),
    ("/account/sessions", ["ended"], True),
    ("/account/sessions/end", ["session"], True),
]


@pytest.mark.parametrize("path, fields, signed_in", FORMS, ids=[f[0] for f in FORMS])
@FUZZ
@given(data=st.data())
def test_form(world, data, path, fields, signed_in):
    browser = world.browser if signed_in else world.app.test_client()
    if signed_in and not world.signed_in():
        world.sign_in()
    if not signed_in:
        browser.get("/login")  # a session with a CSRF token
    csrf = world.csrf if signed_in else csrf_from(browser.get("/login").text)
    path = path.format(
        token=data.draw(st.one_of(text, tricky).map(lambda t: quote(t, safe="") or "x")),
        kind=data.draw(st.sampled_from(["totp", "sms", "email", "recovery", "nope", "%C3%B1"])),
    )
    if path == "/consent":  # the pending request the consent page reads
        params, _ = _third_party_request(world)
        path += query(list(params.items()) + data.draw(pairs(world, AUTHORIZE_PARAMS, 3)))
    method = data.draw(st.sampled_from(["GET", "POST", "POST", "POST"]))
    fields_ = fields + ["csrf_token", "next"]
    body = data.draw(pairs(world, fields_))
    token_choice = data.draw(st.sampled_from(["valid", "valid", "none", "wrong"]))
    if token_choice == "valid":
        body.append(("csrf_token", csrf))
    elif token_choice == "wrong":
        body.append(("csrf_token", csrf[:-2] + "xx"))
    headers_ = data.draw(headers(world))
    if method == "GET":
        world.send(browser, "GET", path + query(body), headers=headers_)
    else:
        content_type = data.draw(st.sampled_from([None, None, None, *CONTENT_TYPES]))
        world.send(browser, "POST", path, **_send_kwargs(headers_, body, content_type))


def _third_party_request(world: World) -> tuple[dict, str]:
    _, challenge = pkce_pair()
    return {
        "response_type": "code",
        "client_id": world.third_party_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }, challenge


@FUZZ
@given(data=st.data())
def test_second_factor_form(world, data):
    """The second step of sign-in, with an authenticator app enrolled."""
    totp = world.extra.get("totp")
    if totp is None:
        page = world.browser.post(
            "/account/security/totp", data={"action": "start", "csrf_token": world.csrf}
        )
        secret = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', page.text).group(1)
        totp = world.extra["totp"] = pyotp.TOTP(secret.replace(" ", ""))
        done = world.browser.post(
            "/account/security/totp",
            data={"action": "confirm", "code": totp.now(), "csrf_token": world.csrf},
        )
        assert done.status_code == 200, done.text
    browser = world.app.test_client()
    page = browser.get("/login")
    form = {"identifier": world.member["email"], "password": PASSWORD}
    started = browser.post("/login", data=form | {"csrf_token": csrf_from(page.text)})
    assert started.status_code == 302 and "/login/2fa" in started.headers["Location"]
    csrf = csrf_from(browser.get("/login/2fa").text)
    body = data.draw(pairs(world, ["code", "method", "action"]))
    if data.draw(st.booleans()):
        body.append(("code", totp.now()))
    if data.draw(st.integers(0, 3)):
        body.append(("csrf_token", csrf))
    method = data.draw(st.sampled_from(["GET", "POST", "POST"]))
    headers_ = data.draw(headers(world))
    if method == "GET":
        world.send(browser, "GET", "/login/2fa" + query(body), headers=headers_)
    else:
        world.send(browser, "POST", "/login/2fa", **_send_kwargs(headers_, body, None))


def test_fuzzing_reaches_past_the_first_checks(world):
    """The valid values the strategies mix in do work: a plain code flow through the fuzzer."""
    params, _ = _third_party_request(world)
    params["client_id"] = world.client_id
    response = world.send(world.browser, "GET", "/authorize" + query(list(params.items())))
    assert response.status_code == 302
    assert "code" in query_of(response.headers["Location"])
