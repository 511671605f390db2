"""docs/integration.md is run, not just read: every code block is exercised against a live server.

Each fenced block names its kind, and each kind has one rule:

- ``python``: executed. Sections 1-11 run in order in one namespace, like a notebook; a value
  the reader is given (an initial access token, the URL their callback received, a logout
  token) is supplied when a block first names it. Each example app runs alone and is driven
  through its routes as a member's browser would. All pass the project's ruff rules.
- ``shell``: `idp` commands, run through the CLI; `--json` output must parse.
- ``http``: a request (method, path, headers, body) is sent to the live server, with the guide's
  issuer `https://login.example.id` standing for it and each `{placeholder}` filled with a
  fresh real value (a code, a token, a registration); a response block (`HTTP/1.1 200 OK`,
  headers, JSON body) right after it must match what came back.
- ``json``: must parse, and must match a real document: the output of the shell block before
  it, or the expression named by a `<!-- compare: EXPR -->` line above it.

Matching: shown headers and JSON members must be there with the values shown; `…` in a string
matches anything, `"…": "…"` allows members not shown, and times (`iat`, `exp`, ...) may differ
as long as `exp - iat` is the one shown. Any other kind of block fails, so nothing untested can
be added to the guide.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import shlex
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from werkzeug.serving import make_server

from idp.db import db
from idp.models import LogoutDelivery

from .helpers import MemberBrowser, csrf_from, pkce_pair, query_of
from .test_sso_logout import Receiver

pytestmark = pytest.mark.slow

GUIDE = Path(__file__).parent.parent / "docs" / "integration.md"
KINDS = {"python", "shell", "http", "json"}
GUIDE_ISSUER = "https://login.example.id"
GUIDE_HOST = "login.example.id"
REDIRECT_URI = "https://app.example.id/auth/callback"
POST_LOGOUT_REDIRECT_URI = "https://app.example.id/"
SCOPE = "openid profile email membership offline_access"
EXAMPLES = {
    "authlib": "## Example 1: a Flask app with Authlib",
    "pyoidc": "## Example 2: a Flask app with pyoidc (a generic OIDC library)",
}
TIMES = {"iat", "exp", "auth_time", "updated_at", "client_id_issued_at"}
FENCE = re.compile(r"^```(.*)$")
COMPARE = re.compile(r"^<!-- compare: (.+) -->$")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


# -- reading the guide ---------------------------------------------------------------------------


@dataclass
class Block:
    kind: str
    source: str
    line: int  # of the first line inside the fence
    section: str
    compare: str | None


def read_guide(text: str) -> list[Block]:
    blocks, lines = [], text.splitlines()
    section, compare, index = "", None, 0
    while index < len(lines):
        line, index = lines[index], index + 1
        if line.startswith("## "):
            section = line
        if fence := FENCE.match(line):
            end = lines.index("```", index)
            source = "\n".join(lines[index:end]) + "\n"
            blocks.append(Block(fence.group(1).strip(), source, index + 1, section, compare))
            compare, index = None, end + 1
        elif match := COMPARE.match(line):
            compare = match.group(1)
        elif line.strip():
            compare = None  # the directive names the block right below it
    return blocks


def walkthrough(blocks: list[Block]) -> list[Block]:
    return [b for b in blocks if b.section not in EXAMPLES.values()]


def example(blocks: list[Block], name: str) -> Block:
    (found,) = [b for b in blocks if b.section == EXAMPLES[name]]
    assert found.kind == "python"
    return found


def run_python(block: Block, namespace: dict) -> None:
    # Padded so that a traceback names the guide's own line numbers.
    code = compile("\n" * (block.line - 1) + block.source, str(GUIDE), "exec")
    exec(code, namespace)  # noqa: S102 - the guide's own code is what is under test


def unfold(source: str) -> list[str]:
    """Join the lines the guide broke before `&` (HTTP) or after `\\` (shell)."""
    lines: list[str] = []
    for line in source.replace("\\\n", " ").splitlines():
        if lines and line.lstrip().startswith("&"):
            lines[-1] += line.strip()
        else:
            lines.append(line)
    return lines


@dataclass
class Message:
    start: str
    headers: dict[str, str]
    body: str


def parse_http(source: str) -> Message:
    lines = unfold(source)
    blank = lines.index("") if "" in lines else len(lines)
    headers = dict(line.split(": ", 1) for line in lines[1:blank])
    return Message(lines[0], headers, "\n".join(lines[blank + 1 :]).strip())


def is_response(block: Block) -> bool:
    return block.kind == "http" and block.source.startswith("HTTP/1.1 ")


# -- matching what the guide shows against what the server does --------------------------------


def real_urls(value: str, live_url: str) -> str:
    return value.replace(GUIDE_ISSUER, live_url).replace(
        quote(GUIDE_ISSUER, safe=""), quote(live_url, safe="")
    )


def assert_like(shown, actual, path: str = "$") -> None:
    """`actual` is what `shown` describes (see the module docstring)."""
    if isinstance(shown, str) and "…" in shown:
        assert isinstance(actual, str), f"{path}: {actual!r} is not a string"
        pattern = ".*".join(re.escape(part) for part in shown.split("…"))
        assert re.fullmatch(pattern, actual, re.DOTALL), f"{path}: {actual!r} is not {shown!r}"
    elif isinstance(shown, dict):
        assert isinstance(actual, dict), f"{path}: {actual!r} is not an object"
        expected = set(shown) - {"…"}
        if "…" in shown:
            assert expected <= set(actual), f"{path}: missing {sorted(expected - set(actual))}"
        else:
            assert expected == set(actual), f"{path}: {sorted(expected)} != {sorted(actual)}"
        for key in sorted(expected):
            if key in TIMES and isinstance(shown[key], int):
                assert isinstance(actual[key], int), f"{path}.{key}: not a time"
            else:
                assert_like(shown[key], actual[key], f"{path}.{key}")
        if {"iat", "exp"} <= expected:
            shown_life, real_life = shown["exp"] - shown["iat"], actual["exp"] - actual["iat"]
            assert shown_life == real_life, f"{path}: lives {real_life} s, not {shown_life} s"
    elif isinstance(shown, list):
        assert isinstance(actual, list) and len(actual) == len(shown), f"{path}: {actual!r}"
        for index, (item, real) in enumerate(zip(shown, actual, strict=True)):
            assert_like(item, real, f"{path}[{index}]")
    else:
        assert shown == actual, f"{path}: {actual!r} != {shown!r}"


def assert_response_like(shown: Message, response: requests.Response, live_url: str) -> None:
    code = int(shown.start.split()[1])
    assert shown.start == f"HTTP/1.1 {code} {HTTPStatus(code).phrase}", shown.start
    assert response.status_code == code, response.text
    for name, value in shown.headers.items():
        assert name in response.headers, f"no {name} header"
        assert_like(real_urls(value, live_url), response.headers[name], name)
    if shown.body:
        assert_like(json.loads(real_urls(shown.body, live_url)), response.json())


# -- values a reader would have: clients, codes, tokens -----------------------------------------


def basic(client_id: str, secret: str) -> str:
    return base64.b64encode(f"{quote(client_id)}:{quote(secret)}".encode()).decode()


class Wire:
    """Fresh real values for the `{placeholders}` of HTTP blocks (and the walkthrough's givens).

    Each provider makes its values the way a relying party comes by them; a block's
    placeholders are filled by the providers they trigger, earlier ones first.
    """

    def __init__(self, live, cli, member: dict) -> None:
        self.live, self.cli = live, cli
        self.browser = MemberBrowser(live.url, member)
        self.cli_outputs: list[dict] = []
        self._client: dict | None = None
        self._key_client: dict | None = None
        self.providers = [
            ({"registration_access_token"}, self.registration),
            ({"code", "code_verifier"}, self.code),
            ({"access_token", "refresh_token", "id_token"}, self.tokens),
            ({"state", "nonce", "code_challenge"}, self.authorization_request),
            ({"client_id", "client_secret", "basic_credentials"}, self.client),
            ({"initial_access_token"}, self.initial_access_token),
            ({"service_credentials"}, self.service_client),
            ({"client_assertion"}, self.client_assertion),
            ({"public_jwk"}, self.public_jwk),
        ]

    def values_for(self, names: set[str]) -> dict[str, str]:
        values: dict[str, str] = {}
        for triggers, provide in self.providers:
            if triggers & names:
                for name, value in provide().items():
                    values.setdefault(name, value)
        assert names <= values.keys(), f"no value for {sorted(names - values.keys())}"
        return values

    def client(self) -> dict:
        if self._client is None:
            client_id, secret = self.live.create_client(
                name="Layanan Saya",
                redirect_uris=[REDIRECT_URI],
                post_logout_redirect_uris=[POST_LOGOUT_REDIRECT_URI],
                grant_types=["authorization_code", "refresh_token"],
                scope=SCOPE,
            )
            self._client = {
                "client_id": client_id,
                "client_secret": secret,
                "basic_credentials": basic(client_id, secret),
            }
        return self._client

    def authorization_request(self) -> dict:
        verifier, challenge = pkce_pair()
        return {
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_verifier": verifier,
        }

    def code(self) -> dict:
        request = self.authorization_request()
        url = self.browser.authorize_url(
            self.client()["client_id"],
            REDIRECT_URI,
            scope=SCOPE,
            code_challenge=request["code_challenge"],
            code_challenge_method="S256",
        )
        code = query_of(self.browser.callback_for(url))["code"]
        return {"code": code, "code_verifier": request["code_verifier"]}

    def tokens(self) -> dict:
        client, code = self.client(), self.code()
        response = requests.post(
            f"{self.live.url}/token",
            data={"grant_type": "authorization_code", "redirect_uri": REDIRECT_URI} | code,
            auth=(client["client_id"], client["client_secret"]),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        tokens = response.json()
        return {name: tokens[name] for name in ("access_token", "refresh_token", "id_token")}

    def initial_access_token(self) -> dict:
        result = self.cli("clients", "token", "--json")
        assert result.exit_code == 0, result.output
        return {"initial_access_token": json.loads(result.output)["initial_access_token"]}

    def registration(self) -> dict:
        response = requests.post(
            f"{self.live.url}/register",
            headers={
                "Authorization": f"Bearer {self.initial_access_token()['initial_access_token']}"
            },
            json={"client_name": "Layanan Saya", "redirect_uris": [REDIRECT_URI]},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return {
            name: body[name] for name in ("client_id", "client_secret", "registration_access_token")
        }

    def service_client(self) -> dict:
        """The service client the guide's own `idp clients create` registered."""
        services = [c for c in self.cli_outputs if "client_credentials" in c.get("grant_types", [])]
        assert services, "the guide registers no service client before using one"
        client = services[-1]
        return {
            "SERVICE_CLIENT_ID": client["client_id"],
            "SERVICE_CLIENT_SECRET": client["client_secret"],
            "service_credentials": basic(client["client_id"], client["client_secret"]),
        }

    def fapi_client(self) -> dict:
        """The client the guide's own `idp clients create --profile fapi2` registered."""
        registered = [c for c in self.cli_outputs if c.get("profile") == "fapi2"]
        assert registered, "the guide registers no FAPI 2.0 client before using one"
        return {"FAPI_CLIENT_ID": registered[-1]["client_id"]}

    def key_client(self) -> dict:
        """A client that registered a public key for private_key_jwt (RFC 7523)."""
        if self._key_client is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            public_jwk |= {"kid": "key-1", "use": "sig", "alg": "RS256"}
            client_id, _ = self.live.create_client(
                name="Batch iuran",
                redirect_uris=[],
                scope="membership",
                grant_types=["client_credentials"],
                token_endpoint_auth_method="private_key_jwt",
                jwks={"keys": [public_jwk]},
            )
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            self._key_client = {
                "KEY_CLIENT_ID": client_id,
                "PRIVATE_KEY_PEM": pem,
                "KEY_ID": "key-1",
            }
        return self._key_client

    def client_assertion(self) -> dict:
        key, now = self.key_client(), int(time.time())
        claims = {
            "iss": key["KEY_CLIENT_ID"],
            "sub": key["KEY_CLIENT_ID"],
            "aud": f"{self.live.url}/token",
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 60,
        }
        assertion = jwt.encode(
            claims, key["PRIVATE_KEY_PEM"], algorithm="RS256", headers={"kid": key["KEY_ID"]}
        )
        return {"client_assertion": assertion}

    def public_jwk(self) -> dict:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        public = {"kty": "RSA", "kid": "key-2", "n": jwk["n"], "e": jwk["e"]}
        return {"public_jwk": json.dumps(public | {"use": "sig", "alg": "RS256"})}


def send(request: Message, wire: Wire) -> requests.Response:
    method, target, version = request.start.split(" ")
    assert version == "HTTP/1.1" and target.startswith("/"), request.start
    assert request.headers.pop("Host") == GUIDE_HOST, "requests go to the identity provider"
    text = "\n".join([target, *request.headers.values(), request.body])
    values = wire.values_for(set(PLACEHOLDER.findall(text)))
    form = request.headers.get("Content-Type") == "application/x-www-form-urlencoded"

    def fill(template: str, encode: bool) -> str:
        filled = PLACEHOLDER.sub(
            lambda m: quote(values[m[1]], safe="") if encode else values[m[1]], template
        )
        return real_urls(filled, wire.live.url)

    return requests.request(
        method,
        wire.live.url + fill(target, encode=True),
        headers={name: fill(value, encode=False) for name, value in request.headers.items()},
        data=fill(request.body, encode=form).encode() or None,
        allow_redirects=False,
        timeout=10,
    )


def run_shell(source: str, wire: Wire) -> dict | None:
    output = None
    for line in unfold(source):
        args = shlex.split(line)
        assert args and args[0] == "idp", f"only idp commands are run: {line!r}"
        result = wire.cli(*args[1:])
        assert result.exit_code == 0, result.output
        if "--json" in args:
            output = json.loads(result.output)
            wire.cli_outputs.append(output)
    return output


# -- the tests ----------------------------------------------------------------------------------


def test_every_block_is_of_a_kind_the_tests_run():
    text = GUIDE.read_text()
    blocks = read_guide(text)
    assert text.count("\n```") == 2 * len(blocks), "an unclosed or indented code block"
    for block, after in zip(blocks, [*blocks[1:], None], strict=True):
        where = f"{GUIDE.name}:{block.line}"
        assert block.kind in KINDS, f"{where}: a ```{block.kind} block nobody runs"
        if block.kind == "json":
            json.loads(block.source)
        if block.kind == "http":
            message = parse_http(block.source)
            if message.body and message.headers.get("Content-Type") == "application/json":
                json.loads(PLACEHOLDER.sub("0", message.body))
            # Requests and their responses come in pairs, so every status is checked.
            answered = after is not None and is_response(after)
            assert is_response(block) or answered, f"{where}: a request without its response"
            assert not is_response(block) or not answered, f"{where}: two responses"
        if block.compare is not None:
            assert block.kind == "json", f"{where}: compare only json blocks"
        assert block.kind != "json" or block.compare or before_is_shell(blocks, block), where
    assert {b.section for b in blocks} >= set(EXAMPLES.values())


def before_is_shell(blocks: list[Block], block: Block) -> bool:
    index = blocks.index(block)
    return index > 0 and blocks[index - 1].kind == "shell"


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def test_the_walkthrough_runs_against_a_live_server(live_server, cli, receiver, tmp_path,
                                                    monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)  # the guide writes the client's key file where it stands
    live = live_server
    member = live.create_member()
    wire = Wire(live, cli, member)
    browser = MemberBrowser(live.url, member)  # the member's browser of the Python steps
    namespace: dict = {
        "ISSUER": live.url,
        "REDIRECT_URI": REDIRECT_URI,
        "POST_LOGOUT_REDIRECT_URI": POST_LOGOUT_REDIRECT_URI,
        "BACKCHANNEL_LOGOUT_URI": receiver.url,
    }

    def signed_out() -> dict:
        logout = browser.get(namespace["logout_url"])
        assert logout.status_code == 302
        assert logout.headers["Location"].startswith(POST_LOGOUT_REDIRECT_URI + "?state=")
        assert receiver.delivered.wait(10)
        return {"logout_token": receiver.tokens[0]}

    given = {
        "INITIAL_ACCESS_TOKEN": lambda: {
            "INITIAL_ACCESS_TOKEN": wire.initial_access_token()["initial_access_token"]
        },
        "callback_url": lambda: {"callback_url": browser.callback_for(namespace["authorize_url"])},
        "logout_token": signed_out,
        "SERVICE_CLIENT_ID": wire.service_client,
        "KEY_CLIENT_ID": wire.key_client,
        "FAPI_CLIENT_ID": wire.fapi_client,
        "fapi_callback_url": lambda: {
            "fapi_callback_url": browser.callback_for(namespace["fapi_authorize_url"])
        },
    }
    blocks = walkthrough(read_guide(GUIDE.read_text()))
    last_output, last_response, counts = None, None, dict.fromkeys(KINDS, 0)
    for block in blocks:
        counts[block.kind] += 1
        if block.kind == "python":
            words = set(re.findall(r"\b\w+\b", block.source))
            for name in sorted(words & given.keys() - namespace.keys()):
                namespace |= given[name]()
            run_python(block, namespace)
        elif block.kind == "shell":
            last_output = run_shell(block.source, wire)
        elif is_response(block):
            assert_response_like(parse_http(block.source), last_response, live.url)
        elif block.kind == "http":
            last_response = send(parse_http(block.source), wire)
        else:
            shown = json.loads(real_urls(block.source, live.url))
            real = eval(block.compare, namespace) if block.compare else last_output  # noqa: S307
            assert_like(shown, real, f"{GUIDE.name}:{block.line}")
    assert counts["python"] >= 15 and counts["http"] >= 30 and counts["json"] >= 5, counts

    # Section 8: the step-up request leads a member without a second factor to set one up.
    # (The member's session ended in section 9, so sign in again first.)
    browser.callback_for(namespace["start_sign_in"]()[0])
    step_up = browser.get(namespace["step_up_url"])
    location = step_up.headers["Location"]
    assert urlsplit(location).path == "/account/security", location
    # Section 9: the validator refuses tokens that are signed right but are not logout tokens.
    with pytest.raises(ValueError, match="not a logout token"):
        namespace["validate_logout_token"](namespace["tokens"]["id_token"])
    forged = _signed(live, namespace["CLIENT_ID"], typ="logout+jwt", events={})
    with pytest.raises(ValueError, match="not a logout token"):
        namespace["validate_logout_token"](forged)


def _signed(live, client_id: str, typ: str, **claims) -> str:
    """Signed by the identity provider's key, with the right iss and aud."""
    from idp.extensions import keystore

    now = int(time.time())
    body = {"iss": live.url, "aud": client_id, "iat": now, "exp": now + 60, "jti": "x"}
    body |= {"sub": "s", "sid": "s"} | claims
    with live.app.app_context():
        return keystore().sign(body, alg="RS256", typ=typ)


# -- the two example apps -----------------------------------------------------------------------


class _LazyApp:
    """A WSGI app bound once the guide's code has made it."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture
def rp_server():
    """The example app on loopback, where the identity provider sends back-channel logout."""
    proxy = _LazyApp()
    server = make_server("127.0.0.1", 0, proxy, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    proxy.url = f"http://127.0.0.1:{server.server_port}"
    yield proxy
    server.shutdown()
    thread.join(timeout=5)


def _example_app(live, name: str, **client_metadata):
    client_id, secret = live.create_client(
        name=name,
        redirect_uris=[REDIRECT_URI],
        post_logout_redirect_uris=[POST_LOGOUT_REDIRECT_URI],
        scope="openid profile email membership",
        **client_metadata,
    )
    namespace = {
        "ISSUER": live.url,
        "CLIENT_ID": client_id,
        "CLIENT_SECRET": secret,
        "REDIRECT_URI": REDIRECT_URI,
        "POST_LOGOUT_REDIRECT_URI": POST_LOGOUT_REDIRECT_URI,
        "SECRET_KEY": secrets.token_hex(32),
        "__name__": f"example_{name}",
    }
    run_python(example(read_guide(GUIDE.read_text()), name), namespace)
    return namespace


def _authorize(rp, browser: MemberBrowser) -> str:
    """The member opens /login at the example; return the URL they come back to it with."""
    started = rp.get("/login")
    assert started.status_code == 302
    callback = browser.callback_for(started.headers["Location"])
    assert callback.startswith(REDIRECT_URI + "?")
    return callback


def _callback(rp, url: str):
    return rp.get("/auth/callback?" + urlsplit(url).query)


def _without_iss(url: str) -> str:
    return re.sub(r"&iss=[^&]*", "", url)


def _lands_signed_in(response, rp) -> bool:
    assert response.status_code == 302 and response.headers["Location"] == "/", response.text
    return "Siti Rahayu" in rp.get("/").text


def _signs_out_through_end_session(rp, browser: MemberBrowser) -> None:
    out = rp.post("/logout")
    assert out.status_code == 302
    assert "Sign in" in rp.get("/").text
    end_session = browser.get(out.headers["Location"])
    assert end_session.status_code == 302
    assert end_session.headers["Location"].startswith(POST_LOGOUT_REDIRECT_URI)
    # The identity provider's session is over too: the next sign-in asks for the password.
    again = browser.get(rp.get("/login").headers["Location"])
    assert urlsplit(again.headers["Location"]).path == "/login"


def test_example_1_authlib_signs_in_and_hears_of_sign_out(live_server, rp_server):
    live = live_server
    member = live.create_member()
    namespace = _example_app(
        live, "authlib", backchannel_logout_uri=f"{rp_server.url}/auth/backchannel-logout"
    )
    rp_server.app = namespace["app"]
    rp, browser = namespace["app"].test_client(), MemberBrowser(live.url, member)

    callback = _authorize(rp, browser)
    # RFC 9207: without our iss the answer is refused before its code is used...
    assert _callback(rp, _without_iss(callback)).status_code == 400
    # ...so the genuine answer still works, once.
    assert _lands_signed_in(_callback(rp, callback), rp)
    assert _callback(rp, callback).status_code == 400

    # The member signs out at the identity provider: the example hears of it by back channel.
    page = browser.get("/account")
    assert browser.post("/logout", {"csrf_token": csrf_from(page.text)}).status_code == 302
    assert live.app.extensions["idp.logout"].wait_idle(10)
    with live.app.app_context():
        (delivery,) = db.session.scalars(select(LogoutDelivery)).all()
        assert delivery.delivered_at is not None and delivery.attempts == 1
    assert "Sign in" in rp.get("/").text
    # Its endpoint refuses what is not a logout token for it.
    id_token_like = _signed(live, namespace["CLIENT_ID"], typ="JWT", events={})
    refused = rp.post("/auth/backchannel-logout", data={"logout_token": id_token_like})
    assert refused.status_code == 400 and refused.headers["Cache-Control"] == "no-store"

    assert _lands_signed_in(_callback(rp, _authorize(rp, browser)), rp)
    _signs_out_through_end_session(rp, browser)


def test_example_2_pyoidc_signs_in_and_out(live_server):
    live = live_server
    member = live.create_member()
    namespace = _example_app(live, "pyoidc")
    rp, browser = namespace["app"].test_client(), MemberBrowser(live.url, member)

    # pyoidc accepts an answer without iss; the example does not.
    assert _callback(rp, _without_iss(_authorize(rp, browser))).status_code == 400
    callback = _authorize(rp, browser)
    assert _lands_signed_in(_callback(rp, callback), rp)
    assert _callback(rp, callback).status_code == 400
    assert not namespace["portal"].grant, "the example forgets finished sign-ins"
    _signs_out_through_end_session(rp, browser)


def test_python_blocks_read_like_the_code_base(tmp_path):
    """Guide code is copied into real apps: it passes the project's ruff rules and format."""
    for block in read_guide(GUIDE.read_text()):
        if block.kind == "python":
            (tmp_path / f"line_{block.line}.py").write_text(block.source)
    ruff = [sys.executable, "-m", "ruff"]
    rules = ["--select", "E,F,W,I,B,UP,S", "--ignore", "F821,S101", "--line-length", "100"]
    checked = subprocess.run(
        [*ruff, "check", *rules, str(tmp_path)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout
    formatted = subprocess.run(
        [*ruff, "format", "--check", "--line-length", "100", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert formatted.returncode == 0, formatted.stdout
