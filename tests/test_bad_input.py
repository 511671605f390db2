"""Bad input gets the RFC's error or a clear 4xx page: never a 500, never a stored change.

RFC 6749 §3.1, §3.2, §4.1.2.1 and §5.2; RFC 6750 §2 and §3; RFC 9068 §4; OIDC Core §3.1.2.6.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import RSAKey

import idp.auth.signin
import idp.models  # noqa: F401  (every table registered before the database is read)
from idp.db import db

from .helpers import PASSWORD, REDIRECT_URI, Actions, csrf_from, query_of

MAX_BODY = 65536  # [server] max_body_bytes default
MAX_QUERY = 8192
URLENCODED = "application/x-www-form-urlencoded"


# -- helpers ----------------------------------------------------------------------------------


def stored_rows(app) -> dict[str, list[tuple]]:
    """Every row of every table: equal before and after means nothing was written."""
    with app.app_context():
        return {
            table.name: sorted(map(tuple, db.session.execute(sa.select(table)).all()), key=repr)
            for table in db.metadata.sorted_tables
        }


def assert_oauth_error(response, status: int, error: str = "invalid_request") -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == error
    assert "no-store" in response.headers.get("Cache-Control", "")


def assert_page(response, status: int) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers


def assert_challenge(response, status: int, error: str | None) -> None:
    """RFC 6750 §3: a Bearer challenge, with an error code only when a token was presented."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="')
    if error is None:
        assert "error=" not in challenge
    else:
        assert f'error="{error}"' in challenge
        assert response.get_json()["error"] == error


def jwt_parts(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload)


def b64url(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def member(actions):
    return actions.create_member()


@pytest.fixture
def rp(actions):
    return actions.create_client(first_party=True)


@pytest.fixture
def signed_in(actions, member, rp):
    actions.sign_in(member["email"])
    return rp


@pytest.fixture
def issued(actions, signed_in) -> dict:
    return actions.tokens(*signed_in)


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


# -- oversized bodies and query strings -------------------------------------------------------


@pytest.mark.parametrize(
    "path, content_type, protocol",
    [
        ("/token", URLENCODED, True),
        ("/userinfo", URLENCODED, True),
        ("/login", URLENCODED, False),
        ("/login", "multipart/form-data", False),
        ("/consent", URLENCODED, False),
    ],
)
def test_oversized_body_is_413(app, client, path, content_type, protocol):
    before = stored_rows(app)
    body = {"padding": "x" * (MAX_BODY + 1)}
    response = client.post(path, data=body, content_type=content_type)
    if protocol:
        assert_oauth_error(response, 413)
    else:
        assert_page(response, 413)
    assert stored_rows(app) == before


def test_oversized_redemption_leaves_the_code_unused(app, actions, signed_in):
    client_id, secret = signed_in
    code, verifier, _ = actions.get_code(client_id)
    before = stored_rows(app)
    response = actions.redeem(client_id, secret, code, verifier, padding="x" * MAX_BODY)
    assert_oauth_error(response, 413)
    assert stored_rows(app) == before
    assert actions.redeem(client_id, secret, code, verifier).status_code == 200


def test_oversized_sign_in_starts_no_session(app, client, member, login_form, argon2_calls):
    before = stored_rows(app)
    response = client.post("/login", data=login_form | {"padding": "x" * MAX_BODY})
    assert_page(response, 413)
    assert stored_rows(app) == before and argon2_calls == []
    assert _signed_out(client)


def test_oversized_consent_stores_no_consent(app, actions, client, member):
    client_id, _ = actions.create_client(name="Third party")
    actions.sign_in(member["email"])
    params, _ = actions.authorize_params(client_id)
    query = urlencode(params)
    page = client.get(f"/consent?{query}")
    assert page.status_code == 200
    before = stored_rows(app)
    form = {"decision": "allow", "csrf_token": csrf_from(page.text), "padding": "x" * MAX_BODY}
    response = client.post(f"/consent?{query}", data=form)
    assert_page(response, 413)
    assert stored_rows(app) == before


@pytest.mark.parametrize(
    "path, protocol", [("/authorize", False), ("/login", False), ("/userinfo", True)]
)
def test_query_string_over_8_kib_is_414(client, path, protocol):
    response = client.get(f"{path}?state={'s' * MAX_QUERY}")
    if protocol:
        assert_oauth_error(response, 414)
    else:
        assert_page(response, 414)


def test_query_string_at_8_kib_is_read(client):
    query = "client_id=unknown&state="
    response = client.get(f"/authorize?{query}{'s' * (MAX_QUERY - len(query))}")
    assert_page(response, 400)  # refused for the unknown client, not for its length


# -- non-UTF-8 and NUL bytes ------------------------------------------------------------------

BAD_BYTES = [
    pytest.param(b"%ff%fe", id="percent-encoded-invalid-utf8"),
    pytest.param(b"%c3%28", id="percent-encoded-bad-continuation"),
    pytest.param(b"%ed%a0%80", id="percent-encoded-surrogate"),
    pytest.param(b"\xff\xfe", id="raw-invalid-utf8"),
    pytest.param(b"%00", id="percent-encoded-nul"),
    pytest.param(b"\x00", id="raw-nul"),
]


@pytest.mark.parametrize("bad", BAD_BYTES)
@pytest.mark.parametrize(
    "path, protocol", [("/authorize", False), ("/login", False), ("/userinfo", True)]
)
def test_bad_bytes_in_query_are_400(app, client, rp, path, protocol, bad):
    query = urlencode({"client_id": rp[0], "redirect_uri": REDIRECT_URI}).encode()
    raw_query = (query + b"&state=" + bad).decode("latin-1")  # WSGI strings are latin-1
    response = client.get(path, environ_overrides={"QUERY_STRING": raw_query})
    if protocol:
        assert_oauth_error(response, 400)
    else:
        assert_page(response, 400)


@pytest.mark.parametrize("bad", BAD_BYTES)
def test_bad_bytes_in_token_request_are_400(app, actions, signed_in, bad):
    client_id, secret = signed_in
    code, verifier, _ = actions.get_code(client_id)
    before = stored_rows(app)
    form = urlencode(
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    ).encode()
    response = actions.client.post(
        "/token",
        data=form + b"&redirect_uri=" + bad,
        content_type=URLENCODED,
        auth=(client_id, secret),
    )
    assert_oauth_error(response, 400)
    assert stored_rows(app) == before
    assert actions.redeem(client_id, secret, code, verifier).status_code == 200


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
    "credentials",
    [b"\xff\xfe:secret", b"client%00:secret", b"client:%ff"],
    ids=["not-utf8", "nul-client-id", "percent-encoded-not-utf8"],
)
def test_unreadable_basic_credentials_are_invalid_request(app, client, rp, credentials):
    # RFC 6749 §2.3.1: client_id and secret are form-encoded UTF-8 inside the Basic header.
    before = stored_rows(app)
    headers = {"Authorization": "Basic " + base64.b64encode(credentials).decode()}
    response = client.post("/token", data={"grant_type": "authorization_code"}, headers=headers)
    assert_oauth_error(response, 400)
    assert stored_rows(app) == before


def test_latin1_charset_label_does_not_bypass_utf8_check(client):
    response = client.post(
        "/token",
        data=b"grant_type=authorization_code&code=\xe9",
        content_type=URLENCODED + "; charset=ISO-8859-1",
    )
    assert_oauth_error(response, 400)


# -- repeated parameters, wrong content types -------------------------------------------------


@pytest.mark.parametrize("name", ["grant_type", "code", "redirect_uri", "code_verifier"])
def test_repeated_token_parameter_is_invalid_request(app, actions, signed_in, name):
    # RFC 6749 §3.2: request parameters MUST NOT be included more than once.
    client_id, secret = signed_in
    code, verifier, _ = actions.get_code(client_id)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    form[name] = [form[name], form[name]]
    before = stored_rows(app)
    response = actions.client.post("/token", data=form, auth=(client_id, secret))
    assert_oauth_error(response, 400)
    assert name in response.get_json()["error_description"]
    assert stored_rows(app) == before
    assert actions.redeem(client_id, secret, code, verifier).status_code == 200


@pytest.mark.parametrize(
    "content_type, encode",
    [
        ("application/json", json.dumps),
        ("text/plain", urlencode),
        ("multipart/form-data", None),
        ("", urlencode),
    ],
    ids=["json", "text-plain", "multipart", "none"],
)
def test_token_request_in_another_content_type_is_invalid_request(
    app, actions, signed_in, content_type, encode
):
    client_id, secret = signed_in
    code, verifier, _ = actions.get_code(client_id)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    before = stored_rows(app)
    body = encode(form) if encode else form
    response = actions.client.post(
        "/token", data=body, content_type=content_type or None, auth=(client_id, secret)
    )
    assert_oauth_error(response, 400)
    assert stored_rows(app) == before
    assert actions.redeem(client_id, secret, code, verifier).status_code == 200


# -- wrong methods ----------------------------------------------------------------------------

ENDPOINTS = [
    ("/authorize", "GET", False),
    ("/token", "POST", True),
    ("/userinfo", "GET", True),
    ("/jwks", "GET", True),
    ("/.well-known/openid-configuration", "GET", True),
    ("/login", "GET", False),
]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path, allowed, protocol", ENDPOINTS)
def test_wrong_method_is_405_with_allow(app, client, method, path, allowed, protocol):
    before = stored_rows(app)
    response = client.open(path, method=method, data={"x": "1"})
    if protocol:
        assert_oauth_error(response, 405)
    else:
        assert_page(response, 405)
    allow = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed in allow and method not in allow
    assert stored_rows(app) == before


# -- bearer tokens at /userinfo (RFC 6750) ----------------------------------------------------


def _alg_none(token: str) -> str:
    header, claims = jwt_parts(token)
    return f"{b64url(header | {'alg': 'none'})}.{b64url(claims)}."


def _foreign_key(token: str) -> str:
    header, claims = jwt_parts(token)  # same kid, typ and claims; not our key
    return jwt.encode(header, claims, RSAKey.generate_key(2048), algorithms=["RS256"])


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = jwt_parts(token)[1] | {"scope": "openid profile email phone address membership"}
    return f"{header}.{b64url(claims)}.{signature}"


def _hs256_with_public_key(token: str, jwks: dict) -> str:
    # Key confusion: HMAC keyed with our public key, which anyone can fetch from /jwks.
    header, claims = jwt_parts(token)
    public = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    secret = RSAKey.import_key(public).as_pem(private=False)
    signing_input = f"{b64url(header | {'alg': 'HS256'})}.{b64url(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


GARBAGE_TOKENS = {
    "random": lambda issued, jwks: secrets.token_urlsafe(32),
    "10-kb": lambda issued, jwks: "a" * 10240,
    "three-dots": lambda issued, jwks: "a.b.c",
    "not-json-header": lambda issued, jwks: "eyJ.eyJ.sig",
    "array-header": lambda issued, jwks: f"{b64url(b'[]')}.{b64url(b'{}')}.x",
    "object-kid": lambda issued, jwks: f"{b64url({'kid': {}, 'alg': 'RS256'})}.e30.x",
    "latin-1": lambda issued, jwks: "\xff\xfe\xe9",
    "alg-none": lambda issued, jwks: _alg_none(issued["access_token"]),
    "foreign-key": lambda issued, jwks: _foreign_key(issued["access_token"]),
    "tampered-claims": lambda issued, jwks: _tampered(issued["access_token"]),
    "hs256-key-confusion": lambda issued, jwks: _hs256_with_public_key(
        issued["access_token"], jwks
    ),
    # RFC 9068 §4: an ID token is typ JWT, not at+jwt, so it is not an access token.
    "id-token": lambda issued, jwks: issued["id_token"],
}


@pytest.mark.parametrize("make_token", GARBAGE_TOKENS.values(), ids=GARBAGE_TOKENS.keys())
def test_garbage_bearer_token_is_invalid_token(app, client, issued, make_token):
    token = make_token(issued, client.get("/jwks").get_json())
    before = stored_rows(app)
    response = client.get("/userinfo", headers=bearer(token))
    assert_challenge(response, 401, "invalid_token")
    assert response.mimetype == "application/json"
    assert stored_rows(app) == before
    # The genuine token still works: refusing garbage revoked nothing.
    assert client.get("/userinfo", headers=bearer(issued["access_token"])).status_code == 200


def test_expired_access_token_is_invalid_token(client, clock, issued):
    clock.advance(seconds=301)
    response = client.get("/userinfo", headers=bearer(issued["access_token"]))
    assert_challenge(response, 401, "invalid_token")


def test_access_token_from_another_issuer_is_invalid_token(client, make_app, member, rp):
    # Another deployment sharing our keys and database: only its iss tells its tokens apart.
    other = make_app(issuer="https://other.example.id")
    elsewhere = Actions(other, other.test_client())
    elsewhere.sign_in(member["email"])
    token = elsewhere.tokens(*rp)["access_token"]
    assert jwt_parts(token)[1]["iss"] == "https://other.example.id"
    response = client.get("/userinfo", headers=bearer(token))
    assert_challenge(response, 401, "invalid_token")


@pytest.mark.parametrize(
    "headers, status, error",
    [
        # RFC 6750 §3.1: no credentials, or another scheme, get a challenge without an error.
        ({}, 401, None),
        ({"Authorization": "Basic abc"}, 401, None),
        ({"Authorization": "Digest username=x"}, 401, None),
        ({"Authorization": ""}, 401, None),
        # RFC 6750 §2.1: "Bearer" needs a b64token after one space; without one it is malformed.
        ({"Authorization": "Bearer "}, 400, "invalid_request"),
        ({"Authorization": "Bearer"}, 400, "invalid_request"),
        ({"Authorization": "Bearer    "}, 400, "invalid_request"),
    ],
    ids=["none", "basic", "digest", "empty-header", "bearer-space", "bearer-only", "spaces"],
)
def test_missing_or_malformed_credentials(client, headers, status, error):
    assert_challenge(client.get("/userinfo", headers=headers), status, error)


def test_token_in_header_and_body_is_invalid_request(client, issued):
    # RFC 6750 §2: clients MUST NOT use more than one method to transmit the token.
    token = issued["access_token"]
    response = client.post("/userinfo", headers=bearer(token), data={"access_token": token})
    assert_challenge(response, 400, "invalid_request")


def test_token_twice_in_body_is_invalid_request(client, issued):
    token = issued["access_token"]
    response = client.post("/userinfo", data={"access_token": [token, token]})
    assert_challenge(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "request_kwargs",
    [
        # RFC 6750 §2.2: form-encoded bodies only; a JSON body carries no credentials.
        lambda token: {"method": "POST", "json": {"access_token": token}},
        # RFC 6750 §2.3 (URI query parameter) is not supported: tokens in URLs leak.
        lambda token: {"method": "GET", "query_string": {"access_token": token}},
        lambda token: {
            "method": "POST",
            "data": {"access_token": token},
            "content_type": "multipart/form-data",
        },
    ],
    ids=["json-body", "query", "multipart-body"],
)
def test_token_outside_header_or_form_body_is_not_accepted(client, issued, request_kwargs):
    response = client.open("/userinfo", **request_kwargs(issued["access_token"]))
    assert_challenge(response, 401, None)


# -- /authorize garbage -----------------------------------------------------------------------


def _codes(app) -> int:
    return len(stored_rows(app)["authorization_codes"])


@pytest.mark.parametrize(
    "extra",
    [
        {"max_age": "99999999999999999999"},
        {"max_age": "-1"},
        {"max_age": "1e3"},
        {"max_age": "\uff11"},  # FULLWIDTH DIGIT ONE: isdigit() but not an integer to us
        {"prompt": "none login"},
        {"prompt": "\x01"},
        {"response_mode": "fragment"},
    ],
    ids=["max-age-huge", "max-age-negative", "max-age-float", "max-age-fullwidth",
         "prompt-none-login", "prompt-control", "response-mode"],
)  # fmt: skip
def test_absurd_values_redirect_invalid_request_to_registered_uri(app, actions, signed_in, extra):
    # RFC 6749 §4.1.2.1: the redirect URI is verified, so the error goes back to the client.
    client_id, _ = signed_in
    params, _ = actions.authorize_params(client_id, **extra)
    response = actions.authorize(params)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT_URI + "?")
    query = query_of(response.headers["Location"])
    assert query["error"] == "invalid_request" and query["state"] == params["state"]
    assert _codes(app) == 0


@pytest.mark.parametrize(
    "raw",
    ["state=%00", "nonce=a%00b", "prompt=%00", "scope=openid%00", "login_hint=%00"],
)
@pytest.mark.parametrize("known_client", [True, False], ids=["known-client", "unknown-client"])
def test_nul_bytes_at_authorize_are_a_page(app, actions, signed_in, raw, known_client):
    client_id = signed_in[0] if known_client else "unknown-client"
    params, _ = actions.authorize_params(client_id)
    response = actions.client.get(f"/authorize?{urlencode(params)}&{raw}")
    assert_page(response, 400)
    assert _codes(app) == 0


@pytest.mark.parametrize(
    "extra",
    [
        {"max_age": "99999999999999999999"},
        {"state": "s" * 7000},
        {"nonce": "n" * 7000},
        {"prompt": "bogus"},
        {"scope": "openid " + "x" * 7000},
    ],
    ids=["max-age-huge", "long-state", "long-nonce", "prompt", "long-scope"],
)
def test_unknown_client_gets_a_page_never_a_redirect(app, actions, signed_in, extra):
    params, _ = actions.authorize_params("unknown-client", **extra)
    response = actions.authorize(params)
    assert_page(response, 400)
    assert _codes(app) == 0


def test_long_state_within_the_cap_is_echoed_intact(actions, signed_in):
    state = secrets.token_urlsafe(5000)[:6000]
    code, _, params = actions.get_code(signed_in[0], state=state)
    assert params["state"] == state and code


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


# -- sweep: nothing malformed is a 500 --------------------------------------------------------


def _basic(raw: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


def _sweep(client_id: str) -> list[tuple[str, str, dict]]:
    good = urlencode({"client_id": client_id, "redirect_uri": REDIRECT_URI})
    authorize = f"/authorize?response_type=code&{good}"
    return [
        ("GET", "/authorize", {}),
        ("GET", "/authorize?client_id=&redirect_uri=", {}),
        ("GET", "/authorize?client_id=a&client_id=b", {}),
        ("GET", "/authorize?%zz=%zz&%=%", {}),
        ("GET", "/authorize?==&&=", {}),
        ("GET", f"{authorize}&request=abc", {}),
        ("GET", f"{authorize}&id_token_hint=garbage", {}),
        ("GET", f"{authorize}&id_token_hint=a.b.c", {}),
        ("GET", f"{authorize}&id_token_hint={b64url(b'[]')}.e30.x", {}),
        ("GET", f"{authorize}&code_challenge_method=plain&code_challenge=x", {}),
        ("GET", f"{authorize}&response_type=token", {}),
        ("GET", f"{authorize}&scope=", {}),
        ("GET", f"{authorize}&ui_locales=%ff", {}),
        ("GET", f"{authorize}&ui_locales=" + "x" * 4000, {}),
        ("POST", "/authorize", {"json": {"client_id": client_id}}),
        ("POST", "/authorize", {"data": b"client_id=%00", "content_type": URLENCODED}),
        ("GET", f"/authorize?client_id={client_id}&redirect_uri=javascript:alert(1)", {}),
        ("GET", "/authorize", {"headers": {"Cookie": "idp_flow=garbage.garbage.garbage"}}),
        ("POST", "/token", {}),
        ("POST", "/token", {"data": "=&=&&", "content_type": URLENCODED}),
        ("POST", "/token", {"data": {"grant_type": "password", "username": "a"}}),
        ("POST", "/token", {"data": {"grant_type": "authorization_code"}}),
        ("POST", "/token", {"data": {"grant_type": "x" * 10_000}}),
        ("POST", "/token", {"data": {"grant_type": "refresh_token", "refresh_token": "x"}}),
        ("POST", "/token", {"data": {"grant_type": "authorization_code", "code": "x"},
                            "headers": {"Authorization": "Basic !!!"}}),
        ("POST", "/token", {"data": {"grant_type": "authorization_code", "code": "x"},
                            "headers": _basic(b"no-colon")}),
        ("POST", "/token", {"data": {"grant_type": "authorization_code", "code": "x"},
                            "headers": _basic(b"\xff\xfe:\xff")}),
        ("POST", "/token", {"data": {"grant_type": "authorization_code", "code": "x"},
                            "headers": _basic(client_id.encode() + b":%ff")}),
        ("POST", "/token", {"data": {"grant_type": "authorization_code", "code": "x",
                                     "client_id": client_id, "client_secret": "\x00"}}),
        ("POST", "/token", {"data": {"grant_type": "authorization_code", "code": "x"},
                            "headers": {"Authorization": "Basic \xff\xfe"}}),
        ("POST", "/token", {"data": {"grant_type": "authorization_code", "code": "x"},
                            "headers": {"Authorization": "Basic\t" + base64.b64encode(
                                b"\xff:x").decode()}}),
        ("OPTIONS", "/token", {}),
        ("HEAD", "/jwks", {}),
        ("POST", "/token", {"data": {"grant_type": "authorization_code", "code": "x",
                                     "client_assertion_type": "x", "client_assertion": "a.b"}}),
        ("GET", "/userinfo", {"headers": {"Authorization": "Bearer ....."}}),
        ("GET", "/userinfo", {"headers": {"Authorization": "Bearer a, Bearer b"}}),
        ("GET", "/userinfo", {"headers": {"Authorization": "Bearer " + b64url(b'"x"') + ".e30."}}),
        ("POST", "/userinfo", {"data": b"access_token=\xff", "content_type": URLENCODED}),
        ("GET", "/jwks?x=%ff", {}),
        ("GET", "/jwks", {"headers": {"If-None-Match": '"' + "x" * 5000}}),
        ("GET", "/.well-known/openid-configuration", {"headers": {"If-None-Match": "W/"}}),
        ("GET", "/.well-known/openid-configuration/extra", {}),
        ("GET", "/login?next=//evil.example&login_hint=" + "x" * 5000, {}),
        ("GET", "/login?login_hint=%ff", {}),
        ("POST", "/login", {"data": "identifier=a&password=b", "content_type": "text/plain"}),
        ("POST", "/login", {"data": {"identifier": "\xff"}, "content_type": "multipart/form-data"}),
        ("POST", "/logout", {}),
        ("POST", "/logout", {"data": {"x": "x" * (MAX_BODY + 1)}}),
        ("GET", "/consent", {}),
        ("GET", "/consent?client_id=unknown&redirect_uri=x", {}),
        ("POST", "/consent", {"data": {"decision": "allow"}}),
        ("GET", "/account", {"headers": {"Cookie": "idp_flow=\xff\xfe"}}),
        ("GET", "/account", {"environ_overrides": {"QUERY_STRING": "x=\x00"}}),
        ("GET", "/no-such-page%ff", {}),
        ("GET", "/authorize", {"headers": {"Accept-Language": "\xff;q=abc, ;q=2"}}),
    ]  # fmt: skip


def test_no_malformed_request_is_a_500(app, actions, signed_in):
    client_id, _ = signed_in
    before = stored_rows(app)
    failures = []
    for method, url, kwargs in _sweep(client_id):
        response = actions.client.open(url, method=method, **kwargs)
        if response.status_code >= 500:
            failures.append((method, url[:80], response.status_code))
    assert failures == []
    # Codes may be issued (an empty scope or an unknown ui_locales is not an error), nothing else.
    after = stored_rows(app)
    for name in ("members", "clients", "tokens", "consents", "sso_sessions"):
        assert after[name] == before[name], name
