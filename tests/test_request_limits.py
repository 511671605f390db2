"""HTTP hygiene (RFC 9110): size caps, undecodable queries, wrong methods, and never a 500.

RFC 9110 §15.5.14 (413), §15.5.15 (414), §15.5.6 and §10.2.1 (405 with Allow); a protocol
endpoint answers in its RFC's JSON error shape, a page endpoint with an HTML page.
"""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest

from .helpers import REDIRECT_URI, csrf_from
from .malformed import (
    BAD_BYTES,
    MAX_BODY,
    MAX_QUERY,
    URLENCODED,
    assert_oauth_error,
    assert_page,
    b64url,
    stored_rows,
)

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


# -- non-UTF-8 and NUL bytes in the query string ----------------------------------------------


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


# -- found by fuzzing: each of these was a 500 -------------------------------------------------

MALFORMED_HOSTS = [
    "a" * 64 + ".example",  # a DNS label over 63 characters (IDNA refused it deep in werkzeug)
    "x" * 254,
    "login.example.id:99999",
    "login.example.id:",
    "[::1",
    "[nonsense]",
    "ex ample",
    "a..b",
    "-a.example",
]
# (Hosts that are not valid IDNA, such as "xn--.example", make werkzeug's test client itself
# fail before the app is called; tests/test_fuzz.py sends those through WSGI directly.)


@pytest.mark.parametrize("host", MALFORMED_HOSTS)
@pytest.mark.parametrize("path", ["/token", "/revoke", "/introspect", "/authorize", "/login"])
def test_a_malformed_host_header_is_400(app, client, rp, host, path):
    before = stored_rows(app)
    response = client.post(path, headers={"Host": host}, data={"token": "x"}, auth=rp)
    assert response.status_code == 400
    assert stored_rows(app) == before


@pytest.mark.parametrize(
    "host",
    ["login.example.id", "login.example.id:8443", "127.0.0.1:5000", "[::1]:5000", "localhost."],
)
def test_well_formed_hosts_are_served(client, host):
    assert (
        client.get("/.well-known/openid-configuration", headers={"Host": host}).status_code == 200
    )


@pytest.mark.parametrize("depth", [20, 5_000, 30_000])
def test_deeply_nested_registration_json_is_invalid_metadata(app, client, cli, depth):
    import json

    token = json.loads(cli("clients", "token", "--json").output)["initial_access_token"]
    before = stored_rows(app)
    body = '{"client_name": "x", "redirect_uris": ' + "[" * depth + "]" * depth + "}"
    response = client.post(
        "/register", data=body, content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert_oauth_error(response, 400, "invalid_client_metadata")
    assert stored_rows(app) == before  # the initial access token is not spent either


def test_repeated_non_ascii_parameter_at_authorize_goes_back_to_the_client(actions, signed_in):
    client_id, _ = signed_in
    params, _ = actions.authorize_params(client_id)
    query = urlencode(params) + "&%C3%A9%22=1&%C3%A9%22=2"
    response = actions.client.get(f"/authorize?{query}")
    assert response.status_code == 302
    assert "error=invalid_request" in response.headers["Location"]


@pytest.mark.parametrize("next_url", ["/account\r\nSet-Cookie: x=1", "/\r\n/evil.example"])
def test_cr_lf_in_next_is_not_a_500(actions, member, next_url):
    page = actions.client.get("/login", query_string={"next": next_url})
    assert page.status_code == 200
    answer = actions.sign_in(member["email"], next_url=next_url)
    assert answer.status_code == 302 and "\n" not in answer.headers["Location"]


def test_first_parallel_sign_ins_of_a_new_worker_are_not_a_500(live_server):
    """The dummy hash for unknown identifiers is built once, under a lock."""
    import threading

    import requests

    browser = requests.Session()
    token = csrf_from(browser.get(f"{live_server.url}/login", timeout=10).text)
    cookies = browser.cookies.get_dict()
    live_server.app.extensions.pop("idp.hasher", None)  # as a freshly started worker
    live_server.app.extensions.pop("idp.dummy_hash", None)
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def sign_in(n: int) -> None:
        barrier.wait(timeout=30)
        form = {"identifier": f"nobody{n}@example.id", "password": "x" * 12, "csrf_token": token}
        answer = requests.post(f"{live_server.url}/login", data=form, cookies=cookies, timeout=60)
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=sign_in, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert statuses == [400] * 8
