"""Server-side request forgery through client metadata (issue 16 item 2).

Under the `public` outbound policy the identity provider calls only https URLs whose every
resolved address is public: refused at registration, checked again at connect time (DNS
rebinding), with `[outbound] allow` for trusted internal relying parties; errors are uniform.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from joserfc.jwk import RSAKey

from idp.oidc.client_auth import JwksError, fetch_jwks
from idp.oidc.outbound import OutboundRefused, current_policy

from .helpers import REDIRECT_URI

PUBLIC = "93.184.216.34"  # an address in public space (no packet is sent to it)


@pytest.fixture(scope="module")
def public_jwks() -> dict:
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    return {"keys": [key.as_dict(private=False)]}


def _token(cli) -> str:
    return json.loads(cli("clients", "token", "--json").output)["initial_access_token"]


def _register(client, cli, **metadata):
    body = {"client_name": "Mitra", "redirect_uris": [REDIRECT_URI]} | metadata
    return client.post("/register", json=body, headers={"Authorization": f"Bearer {_token(cli)}"})


INTERNAL_URLS = [
    "http://127.0.0.1:8080/jwks",
    "https://127.0.0.1/jwks",
    "https://localhost/jwks",
    "https://169.254.169.254/latest/meta-data",
    "https://10.0.0.5/keys",
    "https://172.16.3.4/keys",
    "https://192.168.1.1/keys",
    "https://[::1]/keys",
    "https://[fd00::1]/keys",
    "https://0.0.0.0/keys",
    "https://no-such-host.invalid/keys",  # does not resolve
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_registration_refuses_internal_or_plain_http_destinations(make_app, cli, public_jwks, url):
    client = make_app(outbound={"policy": "public"}).test_client()
    as_keys = _register(client, cli, token_endpoint_auth_method="private_key_jwt", jwks_uri=url)
    as_logout = _register(client, cli, backchannel_logout_uri=url)
    for response in (as_keys, as_logout):
        assert response.status_code == 400
        body = response.get_json()
        assert body["error"] == "invalid_client_metadata"
        assert "public host" in body["error_description"]  # one wording for every reason


def test_plain_http_is_refused_even_to_a_public_host(make_app, cli):
    client = make_app(outbound={"policy": "public"}).test_client()
    response = _register(client, cli, backchannel_logout_uri=f"http://{PUBLIC}/logout")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_client_metadata"


def test_public_https_destinations_are_registered(make_app, cli):
    client = make_app(outbound={"policy": "public"}).test_client()
    response = _register(
        client, cli, token_endpoint_auth_method="private_key_jwt", jwks_uri=f"https://{PUBLIC}/k",
        backchannel_logout_uri=f"https://{PUBLIC}/logout",
    )  # fmt: skip
    assert response.status_code == 201, response.text


def test_the_allow_list_admits_trusted_internal_relying_parties(make_app, cli):
    app = make_app(outbound={"policy": "public", "allow": ["10.20.0.0/16", "rp.internal"]})
    client = app.test_client()
    assert _register(client, cli, backchannel_logout_uri="https://10.20.1.2/out").status_code == 201
    assert _register(client, cli, backchannel_logout_uri="https://10.21.1.2/out").status_code == 400


def test_development_keeps_http_on_loopback(make_app, cli):
    client = make_app().test_client()  # policy auto, not production: "any"
    response = _register(client, cli, backchannel_logout_uri="http://127.0.0.1:9/logout")
    assert response.status_code == 201


class _Counting(BaseHTTPRequestHandler):
    hits = 0
    body = b"{}"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def loopback_server():
    _Counting.hits = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_name_that_rebinds_to_loopback_is_refused_at_connect_time(
    make_app, monkeypatch, loopback_server
):
    """The name passed the registration check; by the time of the call it points inside."""
    app = make_app(outbound={"policy": "public"})
    real = socket.getaddrinfo
    answers = iter([PUBLIC, "127.0.0.1", "127.0.0.1"])

    def rebinding(host, port, *args, **kwargs):
        if host == "keys.rebind.example":
            address = next(answers)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    port = loopback_server.server_port
    url = f"https://keys.rebind.example:{port}/jwks"
    with app.app_context():
        policy = current_policy()
        assert policy.vetted_addresses("keys.rebind.example", port) == [PUBLIC]  # registration
        with pytest.raises(JwksError, match="did not give a usable key set"):
            fetch_jwks(url)  # connect time: now 127.0.0.1
        with pytest.raises(OutboundRefused):
            policy.vetted_addresses("keys.rebind.example", port)
    assert _Counting.hits == 0


def test_fetch_errors_do_not_tell_a_closed_port_from_an_open_one(make_app, loopback_server):
    app = make_app()  # development: loopback allowed, so both ports are really tried
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    messages = []
    with app.app_context():
        for port in (closed_port, loopback_server.server_port):
            with pytest.raises(JwksError) as error:
                fetch_jwks(f"http://127.0.0.1:{port}/jwks")
            messages.append(str(error.value))
    assert _Counting.hits == 1
    assert messages[0] == messages[1] == "the jwks_uri did not give a usable key set"
