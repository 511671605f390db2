"""docs/integration.md is run, not just read: every code block executes against a live server.

Python blocks run in order in one namespace, like a notebook; values a reader would be given
(an initial access token, the URL their callback received) are supplied here when a block
first names them. Shell blocks are `idp` commands run through the CLI. Any other kind of
block fails the test, so nothing untested can be added to the guide.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from authlib.integrations.base_client import MismatchingStateError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from .helpers import MemberBrowser
from .test_sso_logout import Receiver

pytestmark = pytest.mark.slow

GUIDE = Path(__file__).parent.parent / "docs" / "integration.md"
FLASK_EXAMPLE = "## Example: a Flask app with Authlib"
BLOCK = re.compile(r"^```([^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
REDIRECT_URI = "https://app.example.id/auth/callback"
POST_LOGOUT_REDIRECT_URI = "https://app.example.id/"


def blocks(text: str) -> list[tuple[str, str]]:
    found = BLOCK.findall(text)
    assert text.count("```") == 2 * len(found), "an unclosed or indented code block"
    return found


def test_every_block_is_of_a_kind_the_tests_run():
    kinds = {language for language, _ in blocks(GUIDE.read_text())}
    assert kinds <= {"python", "shell"}, f"blocks nobody runs: {kinds - {'python', 'shell'}}"


def _names_used(source: str) -> set[str]:
    return {
        node.id
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def _run_shell(cli, source: str) -> list[dict]:
    outputs = []
    for line in source.replace("\\\n", " ").splitlines():
        args = shlex.split(line)
        assert args and args[0] == "idp", f"only idp commands are run: {line!r}"
        result = cli(*args[1:])
        assert result.exit_code == 0, result.output
        outputs.append(json.loads(result.output) if "--json" in args else {})
    return outputs


def _key_client(live) -> dict:
    """A client that registered a public key for private_key_jwt (RFC 7523)."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
    public_jwk |= {"kid": "key-1", "use": "sig", "alg": "RS256"}
    client_id, _ = live.create_client(
        name="Batch with a key",
        redirect_uris=[],
        scope="membership",
        grant_types=["client_credentials"],
        token_endpoint_auth_method="private_key_jwt",
        jwks={"keys": [public_jwk]},
    )
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {"KEY_CLIENT_ID": client_id, "PRIVATE_KEY_PEM": pem, "KEY_ID": "key-1"}


def test_the_walkthrough_runs_against_a_live_server(live_server, cli, receiver):
    live = live_server
    member = live.create_member()
    browser = MemberBrowser(live.url, member)
    text = GUIDE.read_text()
    walkthrough = text[: text.index(FLASK_EXAMPLE)]
    namespace: dict = {
        "ISSUER": live.url,
        "REDIRECT_URI": REDIRECT_URI,
        "POST_LOGOUT_REDIRECT_URI": POST_LOGOUT_REDIRECT_URI,
        "BACKCHANNEL_LOGOUT_URI": receiver.url,
    }
    given = {
        "INITIAL_ACCESS_TOKEN": lambda: {
            "INITIAL_ACCESS_TOKEN": _run_shell(cli, "idp clients token --json")[0][
                "initial_access_token"
            ]
        },
        "callback_url": lambda: {"callback_url": browser.callback_for(namespace["authorize_url"])},
        "SERVICE_CLIENT_ID": lambda: dict(
            zip(
                ("SERVICE_CLIENT_ID", "SERVICE_CLIENT_SECRET"),
                live.create_client(
                    name="Batch",
                    redirect_uris=[],
                    scope="openid membership",
                    grant_types=["client_credentials"],
                ),
                strict=True,
            )
        ),
        "KEY_CLIENT_ID": lambda: _key_client(live),
    }
    ran = 0
    for language, source in blocks(walkthrough):
        if language == "shell":
            _run_shell(cli, source)
            continue
        for name in sorted(_names_used(source) & given.keys()):
            if name not in namespace:
                namespace |= given[name]()
        exec(compile(source, f"{GUIDE.name} block {ran + 1}", "exec"), namespace)  # noqa: S102
        ran += 1
    assert ran >= 12

    # Step 11, as the member's browser and the relying party's receiver see it.
    logout = browser.session.get(namespace["logout_url"], allow_redirects=False, timeout=10)
    assert logout.status_code == 302
    assert logout.headers["Location"].startswith(POST_LOGOUT_REDIRECT_URI + "?state=")
    assert receiver.delivered.wait(10)
    claims = namespace["validate_logout_token"](receiver.tokens[0])
    assert claims["sid"] == namespace["id_token"]["sid"]
    with pytest.raises(ValueError, match="not a logout token"):
        namespace["validate_logout_token"](
            _id_token_shaped_like_a_logout_token(live, namespace["CLIENT_ID"])
        )


def _id_token_shaped_like_a_logout_token(live, client_id: str) -> str:
    """Signed by the provider, with the right iss and aud, but without the logout event."""
    from idp.extensions import keystore

    claims = {"iss": live.url, "aud": client_id, "iat": 1, "jti": "x", "sub": "s", "events": {}}
    with live.app.app_context():
        return keystore().sign(claims, alg="RS256")


def test_the_flask_example_signs_a_member_in(live_server):
    live = live_server
    member = live.create_member()
    client_id, client_secret = live.create_client(
        name="Flask example", first_party=True, redirect_uris=[REDIRECT_URI]
    )
    text = GUIDE.read_text()
    examples = [source for language, source in blocks(text[text.index(FLASK_EXAMPLE) :])]
    assert len(examples) == 1
    namespace = {
        "ISSUER": live.url,
        "CLIENT_ID": client_id,
        "CLIENT_SECRET": client_secret,
        "REDIRECT_URI": REDIRECT_URI,
        "__name__": "flask_example",
    }
    exec(compile(examples[0], "flask example", "exec"), namespace)  # noqa: S102
    rp = namespace["app"].test_client()
    started = rp.get("/login")
    assert started.status_code == 302
    callback = MemberBrowser(live.url, member).callback_for(started.headers["Location"])
    assert callback.startswith(REDIRECT_URI + "?")
    finished = rp.get("/auth/callback?" + urlsplit(callback).query)
    assert finished.status_code == 302 and finished.headers["Location"] == "/"
    with rp.session_transaction() as session:
        assert session["member"]["membership_number"] == member["membership_number"]
    # A replayed callback (the state is used up) signs nobody in.
    namespace["app"].testing = True
    with pytest.raises(MismatchingStateError):
        rp.get("/auth/callback?" + urlsplit(callback).query)
