"""Deployment: Debian's nginx with a self-signed TLS certificate in front of two nodes.

nginx runs the site block that docs/operations.md shows (only addresses and certificate paths
replaced), trusts one proxy hop, and the code flow runs end to end against the https issuer.
scripts/install-nginx installs nginx for the test command; without it the test is skipped.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import jwt as pyjwt
import pytest
import requests
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from idp.config import load_settings
from idp.models import AuditEvent

from .helpers import PASSWORD, REDIRECT_URI, csrf_from, pkce_pair, query_of
from .nodes import Node, free_port

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)), None
)
TEMP_PATHS = ("proxy", "fastcgi", "uwsgi", "scgi")
GUIDE = Path(__file__).parent.parent / "docs" / "operations.md"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        NGINX is None, reason="Debian's nginx is not installed (scripts/install-nginx installs it)"
    ),
]


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _guide_site(replacements: dict[str, str]) -> str:
    """The nginx block of the operations guide, with this test's addresses and files."""
    site = re.search(r"```nginx\n(.*?)```", GUIDE.read_text(), re.S).group(1)
    for old, new in replacements.items():
        assert old in site, f"docs/operations.md's nginx block no longer has {old!r}"
        site = site.replace(old, new)
    return site


def _start_nginx(directory: Path, site: str, port: int) -> subprocess.Popen:
    for temp in ("body", *TEMP_PATHS):
        (directory / temp).mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers read this test's private dir
    conf = directory / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\ndaemon off;\npid {directory}/nginx.pid;\n"
        f"error_log {directory}/error.log warn;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n"
        + "".join(f"  {t}_temp_path {directory}/{t};\n" for t in TEMP_PATHS)
        + f"  client_body_temp_path {directory}/body;\n{site}\n}}\n"
    )
    checked = subprocess.run(  # noqa: S603 - nginx from the system
        [NGINX, "-t", "-p", str(directory), "-c", str(conf)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(  # noqa: S603
        [NGINX, "-p", str(directory), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)  # waiting for a real server process to listen
    process.kill()
    raise RuntimeError((directory / "error.log").read_text())


@pytest.fixture
def deployment(tmp_path, make_config, cli):
    database_url = load_settings(make_config(), environ={}).database_url
    tls_port, http_port = free_port(), free_port()
    issuer = f"https://127.0.0.1:{tls_port}"
    sections = {"server": {"trusted_proxy_hops": 1}}
    nodes = [
        Node(tmp_path, name, issuer, free_port(), database_url, **sections)
        for name in ("node-a", "node-b")
    ]
    assert cli("init", config=nodes[0].config).exit_code == 0
    proxy_dir = tmp_path / "nginx"
    proxy_dir.mkdir()
    cert, key = _self_signed(proxy_dir)
    site = _guide_site({
        "server 10.0.1.11:5000": f"server 127.0.0.1:{nodes[0].port}",
        "server 10.0.1.12:5000": f"server 127.0.0.1:{nodes[1].port}",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{tls_port} ssl;",
        "/etc/ssl/idp/fullchain.pem": str(cert),
        "/etc/ssl/idp/privkey.pem": str(key),
    })  # fmt: skip
    for node in nodes:
        node.start()
    proxy = _start_nginx(proxy_dir, site, tls_port)
    yield {"issuer": issuer, "http": f"http://127.0.0.1:{http_port}", "cert": str(cert),
           "nodes": nodes, "config": nodes[0].config, "database_url": database_url}  # fmt: skip
    proxy.terminate()
    proxy.wait(timeout=10)
    for node in nodes:
        node.stop()


def test_code_flow_through_nginx_and_tls(deployment, cli):
    issuer, cert = deployment["issuer"], deployment["cert"]
    made = cli("members", "create", "--membership-number", "12345678901", "--nik",
               "3174051507900001", "--name", "Siti Rahayu", "--birthdate", "1990-07-15",
               "--email", "siti@example.id", "--password", PASSWORD,
               config=deployment["config"])  # fmt: skip
    assert made.exit_code == 0, made.output
    created = cli("clients", "create", "--name", "RP", "--redirect-uri", REDIRECT_URI,
                  "--first-party", "--json", config=deployment["config"])  # fmt: skip
    client = tuple(json.loads(created.output)[k] for k in ("client_id", "client_secret"))

    browser = requests.Session()
    browser.verify = cert
    browser.trust_env = False  # else REQUESTS_CA_BUNDLE would replace our certificate
    metadata = browser.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    assert metadata["issuer"] == issuer and metadata["token_endpoint"] == f"{issuer}/token"
    plain = requests.get(f"{deployment['http']}/login", allow_redirects=False, timeout=10)
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")

    page = browser.get(f"{issuer}/login", timeout=10)
    assert re.fullmatch(r"[0-9a-f]{32}", page.headers["X-Request-ID"])  # nginx's $request_id
    # A forged X-Forwarded-For is not believed: nginx sets it, and only one hop is trusted.
    spoofed = {"X-Forwarded-For": "203.0.113.7"}
    form = {"identifier": "siti@example.id", "password": "a wrong password here",
            "csrf_token": csrf_from(page.text)}  # fmt: skip
    failed = browser.post(f"{issuer}/login", data=form, headers=spoofed, timeout=10)
    assert failed.status_code == 400
    page = browser.get(f"{issuer}/login", timeout=10)
    form = form | {"password": PASSWORD, "csrf_token": csrf_from(page.text)}
    signed_in = browser.post(f"{issuer}/login", data=form, allow_redirects=False, timeout=10)
    assert signed_in.status_code == 302
    assert any(c.name == "__Host-idp_flow" and c.secure for c in browser.cookies)

    verifier, challenge = pkce_pair()
    authorized = browser.get(f"{issuer}/authorize", allow_redirects=False, timeout=10, params={
        "response_type": "code", "client_id": client[0], "redirect_uri": REDIRECT_URI,
        "scope": "openid", "nonce": "n-1", "code_challenge": challenge,
        "code_challenge_method": "S256"})  # fmt: skip
    code = query_of(authorized.headers["Location"])["code"]
    tokens = requests.post(f"{issuer}/token", auth=client, verify=cert, timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier}).json()  # fmt: skip
    jwks = requests.get(f"{issuer}/jwks", verify=cert, timeout=10).json()
    kid = pyjwt.get_unverified_header(tokens["id_token"])["kid"]
    key = pyjwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid)).key
    claims = pyjwt.decode(tokens["id_token"], key, algorithms=["RS256"], audience=client[0],
                          issuer=issuer)  # fmt: skip
    assert claims["nonce"] == "n-1"
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    userinfo = requests.get(f"{issuer}/userinfo", headers=bearer, verify=cert, timeout=10)
    assert userinfo.status_code == 200 and userinfo.json()["sub"] == claims["sub"]

    # /metrics is not served through the public name; each node serves its own on loopback.
    assert browser.get(f"{issuer}/metrics", timeout=10).status_code == 404
    assert requests.get(f"{deployment['nodes'][0].url}/metrics", timeout=10).status_code == 200

    engine = sa.create_engine(deployment["database_url"])
    with engine.connect() as connection:
        ips = (
            connection.execute(
                sa.select(AuditEvent.ip).where(AuditEvent.event.in_(["signin", "signin_failed"]))
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert ips and set(ips) == {"127.0.0.1"}
