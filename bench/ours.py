"""Our identity provider as production runs it: `idp init`, seeded by the CLI, `idp serve`.

Single-use values (codes, refresh tokens) and a member's access token are minted through the
Python API straight into the database the server uses, as the token endpoint would store them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import urllib.request
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet

from idp.kek import new_kek

from . import processes

VENV_BIN = Path(sys.executable).parent
IDP = str(VENV_BIN / "idp")
REDIRECT_URI = "http://127.0.0.1:5999/callback"
CLIENT_SCOPE = "openid profile email membership offline_access"
MEMBER = {
    "membership-number": "99000000001",
    "nik": "3174051507900001",
    "name": "Siti Rahayu",
    "birthdate": "1990-07-15",
    "email": "bench@example.id",
    "password": "kopi-susu-pagi-hari-bench",
}


def _toml(values: dict) -> str:
    lines = []
    for section, entries in values.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in entries.items()]
    return "\n".join(lines) + "\n"


def reset_postgres(url: str) -> None:
    """An empty schema in the bench's own database (never the shared `test` one)."""
    parsed = sa.engine.make_url(url)
    name = parsed.database
    if name in (None, "", "test", "postgres"):
        raise SystemExit(f"refusing to reset PostgreSQL database {name!r}: use e.g. bench_18")
    server = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        if (
            conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar()
            is None
        ):
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def database_url(name: str, work: Path, args) -> str:
    """SQLite in the run's own directory, or the bench's PostgreSQL database."""
    return f"sqlite:///{work / 'idp.sqlite3'}" if name == "sqlite" else args.postgres_url


def server_version(url: str) -> str:
    if url.startswith("sqlite"):
        return f"SQLite {sqlite3.sqlite_version}"
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        version = conn.execute(sa.text("SHOW server_version")).scalar()
    engine.dispose()
    return f"PostgreSQL {version}"


class Ours:
    """One database's installation: config, schema, keys, client, member, server."""

    def __init__(
        self, work: Path, database_url: str, cpus: str | None, challenge: str, *, engine: str
    ) -> None:
        self.work = work
        self.engine = engine
        self.challenge = challenge  # the S256 PKCE challenge every pre-minted code carries
        self.database_url = database_url
        self.cpus = cpus
        self.port = processes.free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.config = work / "config.toml"
        self.log = work / "idp-serve.log"
        self.process: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.clients: dict[str, tuple[str, str]] = {}
        self._app = None

    # -- installation ------------------------------------------------------------------
    def install(self) -> None:
        """Production-mode config (http on loopback is the one exception production allows)."""
        self.work.mkdir(parents=True, exist_ok=True)
        if self.database_url.startswith("postgresql"):
            reset_postgres(self.database_url)
        self.config.write_text(
            _toml(
                {
                    "server": {
                        "issuer": self.issuer,
                        "secret_key": secrets.token_urlsafe(48),
                        "env": "production",
                        "engine": self.engine,
                        "instance_dir": str(self.work / "instance"),
                    },
                    "database": {"url": self.database_url},
                    "keys": {"dir": str(self.work / "keys"), "encryption_keys": [new_kek()]},
                    "mfa": {"secret_keys": [Fernet.generate_key().decode()]},
                    "members": {"nik_hmac_key": secrets.token_urlsafe(48)},
                    # `idp worker` (started only by --rows) purges expired rows this often.
                    "retention": {"purge_interval": 5},
                }
            )
        )
        self._idp("init")
        member = dict(MEMBER)
        self._idp("members", "create", *_options(member), "--json")
        for alg in ("RS256", "ES256"):
            out = self._idp(
                "clients", "create", "--name", f"bench {alg}", "--redirect-uri", REDIRECT_URI,
                "--scope", CLIENT_SCOPE, "--grant-type", "authorization_code",
                "--grant-type", "refresh_token", "--grant-type", "client_credentials",
                "--first-party", "--id-token-alg", alg, "--access-token-alg", alg, "--json",
            )  # fmt: skip
            created = json.loads(out)
            self.clients[alg] = (created["client_id"], created["client_secret"])

    def _idp(self, *args: str) -> str:
        done = subprocess.run(  # noqa: S603
            [IDP, "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            check=False,
            env=os.environ | {"IDP_CONFIG": str(self.config)},
        )
        if done.returncode != 0:
            raise RuntimeError(f"idp {' '.join(args[:2])} failed: {done.stderr.strip()[-500:]}")
        return done.stdout

    # -- serving -----------------------------------------------------------------------
    def start(self) -> None:
        command = processes.pinned(
            [IDP, "--config", str(self.config), "serve", "--host", "127.0.0.1",
             "--port", str(self.port)],
            self.cpus,
        )  # fmt: skip
        self.process = processes.start(command, env=dict(os.environ), log=self.log)
        processes.wait_for_port(self.process, self.port, self.log)

    def start_worker(self) -> None:
        """`idp worker`: the retention purge every [retention] purge_interval, on our CPUs."""
        command = processes.pinned([IDP, "--config", str(self.config), "worker"], self.cpus)
        self.worker = processes.start(command, env=dict(os.environ), log=self.work / "worker.log")

    def stop(self) -> None:
        if self.worker is not None:
            processes.stop(self.worker)
            self.worker = None
        if self.process is not None:
            processes.stop(self.process)
            self.process = None
        if self._app is not None:
            from idp.db import db

            with self._app.app_context():
                db.engine.dispose()

    def worker_pids(self) -> list[int]:
        return processes.children(self.process.pid) if self.process else []

    # -- minting through the Python API ------------------------------------------------
    @property
    def app(self):
        if self._app is None:
            from idp.app import create_app
            from idp.config import load_settings

            self._app = create_app(load_settings(self.config, environ={}))
        return self._app

    def _member_and_client(self, alg: str):
        from idp.db import db
        from idp.models import Client
        from idp.models.identity import find_by_identifier

        member = find_by_identifier(MEMBER["email"])
        client = db.session.scalar(
            sa.select(Client).where(Client.client_id == self.clients[alg][0])
        )
        return member, client

    def mint_codes(self, alg: str, count: int) -> list[str]:
        """Authorization codes as /authorize stores them (valid 60 s: mint just before use)."""
        from idp.clock import utcnow
        from idp.db import db
        from idp.hashing import secret_digest
        from idp.models import AuthorizationCode

        with self.app.app_context():
            member, client = self._member_and_client(alg)
            now = utcnow()
            values = [secrets.token_urlsafe(32) for _ in range(count)]
            rows = [
                {
                    "code_hash": secret_digest(value),
                    "client_id": client.client_id,
                    "member_id": member.id,
                    "redirect_uri": REDIRECT_URI,
                    "scope": "openid offline_access",
                    "nonce": f"n-{index}",
                    "code_challenge": self.challenge,
                    "code_challenge_method": "S256",
                    "sid": None,
                    "auth_time": now,
                    "acr": "pwd",
                    "amr": ["pwd"],
                    "created_at": now,
                    "expires_at": now + timedelta(seconds=60),
                }
                for index, value in enumerate(values)
            ]
            db.session.execute(sa.insert(AuthorizationCode), rows)
            db.session.commit()
        return values

    def mint_refresh_tokens(self, alg: str, count: int) -> list[str]:
        """offline_access refresh tokens, each the head of its own family."""
        from idp.clock import utcnow
        from idp.db import db
        from idp.hashing import secret_digest
        from idp.models import RefreshToken

        with self.app.app_context():
            member, client = self._member_and_client(alg)
            now = utcnow()
            values = [secrets.token_urlsafe(32) for _ in range(count)]
            rows = [
                {
                    "token_hash": secret_digest(value),
                    "family": secrets.token_urlsafe(24),
                    "client_id": client.client_id,
                    "member_id": member.id,
                    "sid": None,
                    "scope": "openid offline_access",
                    "auth_time": now,
                    "acr": "pwd",
                    "amr": ["pwd"],
                    "issued_at": now,
                    "expires_at": now + timedelta(days=7),
                    "family_expires_at": now + timedelta(days=30),
                }
                for value in values
            ]
            db.session.execute(sa.insert(RefreshToken), rows)
            db.session.commit()
        return values

    def member_access_token(self, alg: str = "RS256") -> str:
        """A member's access token (5 minutes), minted as the token endpoint mints it."""
        from idp.db import db
        from idp.oidc.tokens import issue_access_token

        with self.app.test_request_context():
            member, client = self._member_and_client(alg)
            token = issue_access_token(client, member, "openid profile email membership")
            db.session.commit()
        return token["access_token"]

    def sign_in_form(self) -> tuple[str, str]:
        """(Cookie header, csrf_token) of a fetched /login form, reusable for form posts."""
        with urllib.request.urlopen(f"{self.issuer}/login", timeout=10) as response:  # noqa: S310
            html = response.read().decode()
            cookie = SimpleCookie()
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie.load(header)
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        if not match:
            raise RuntimeError("no csrf_token in the /login form")
        return "; ".join(f"{k}={m.value}" for k, m in cookie.items()), match.group(1)

    def argon2_verify_ms(self, samples: int = 15) -> float:
        """Median time of one argon2id verification with the server's settings, on its CPUs."""
        code = (
            "import statistics, time\n"
            "from idp.app import create_app\n"
            "from idp.config import load_settings\n"
            "from idp.auth.passwords import hash_password, verify_password\n"
            f"app = create_app(load_settings({str(self.config)!r}, environ={{}}))\n"
            "with app.app_context():\n"
            "    h = hash_password('kopi-susu-pagi-hari-bench')\n"
            "    times = []\n"
            f"    for _ in range({samples}):\n"
            "        t = time.perf_counter(); verify_password(h, 'kopi-susu-pagi-hari-bench')\n"
            "        times.append(time.perf_counter() - t)\n"
            "print(statistics.median(times) * 1000)\n"
        )
        command = processes.pinned([sys.executable, "-c", code], self.cpus)
        done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
        return round(float(done.stdout.strip().splitlines()[-1]), 2)


def _options(values: dict) -> list[str]:
    return [part for key, value in values.items() for part in (f"--{key}", value)]
