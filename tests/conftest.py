"""Fixtures: an app per test with its own database, keys and clock; a live server; helpers."""

from __future__ import annotations

import json
import os
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from idp.app import create_app
from idp.clock import FrozenClock
from idp.config import DEV_KEY_ENCRYPTION_KEY, load_settings
from idp.db import db, upgrade
from idp.kek import parse_keks, seal
from idp.keys import DEFAULT_ALGORITHMS, generate_private_jwk
from idp.models import SigningKey

from .helpers import Actions

BASE_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def _worker_database(base_url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database (test_gw0, ...)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not base_url or not worker:
        return base_url
    url = sa.engine.make_url(base_url)
    name = f"{url.database}_{worker}"
    engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


TEST_DATABASE_URL = _worker_database(BASE_DATABASE_URL)


def _write_config(path: Path, values: dict) -> Path:
    lines = []
    for section, entries in values.items():
        lines.append(f"[{section}]")
        for key, value in entries.items():
            if isinstance(value, bool):
                lines.append(f"{key} = {'true' if value else 'false'}")
            elif isinstance(value, int | float | list):
                lines.append(f"{key} = {json.dumps(value)}")
            else:
                lines.append(f'{key} = "{value}"')
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def template_keys() -> list[dict]:
    """Signing keys made once per run (RSA generation is slow), sealed with the development KEK."""
    kek = parse_keks([DEV_KEY_ENCRYPTION_KEY])[0]
    keys = []
    for alg in DEFAULT_ALGORITHMS:
        kid, document = generate_private_jwk(alg)
        keys.append({"kid": kid, "alg": alg, "private_jwk": seal(document, kek), "kek_id": kek.id})
    return keys


def _adopt_keys(url: str, keys: list[dict]) -> None:
    """Store the template keys as the active ones, as `idp init` would."""
    now = datetime.now(UTC)
    engine = sa.create_engine(url)
    with Session(engine) as session, session.begin():
        for key in keys:
            session.add(
                SigningKey(**key, state="active", published=True, created_at=now, activated_at=now)
            )
    engine.dispose()


@pytest.fixture(scope="session")
def template_database(tmp_path_factory, template_keys) -> str:
    """The migrated schema, built once: a SQLite file to copy, or a PostgreSQL database."""
    if TEST_DATABASE_URL:
        engine = sa.create_engine(TEST_DATABASE_URL)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        upgrade(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    path = tmp_path_factory.mktemp("template") / "idp.sqlite3"
    upgrade(f"sqlite:///{path}")
    _adopt_keys(f"sqlite:///{path}", template_keys)
    return str(path)


def _fresh_database(template: str, directory: Path, keys: list[dict]) -> str:
    if TEST_DATABASE_URL:
        engine = sa.create_engine(TEST_DATABASE_URL)
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        _adopt_keys(TEST_DATABASE_URL, keys)
        return TEST_DATABASE_URL
    target = directory / "idp.sqlite3"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def make_config(tmp_path, template_keys, template_database):
    """Write a config file for this test; later calls reuse the same database and keys."""
    keys_dir = tmp_path / "keys"  # legacy key files only: the keys themselves are in the database
    state = {}

    def make(issuer: str = "http://127.0.0.1:5000", **sections) -> Path:
        if "db" not in state:
            state["db"] = _fresh_database(template_database, tmp_path, template_keys)
        values = {
            "server": {"issuer": issuer, "instance_dir": str(tmp_path / "instance")},
            "database": {"url": state["db"]},
            "keys": {"dir": str(keys_dir), "refresh_seconds": 0},
            # Real argon2id, with small costs so the suite stays fast; defaults are tested apart.
            "passwords": {"argon2_time_cost": 1, "argon2_memory_cost": 1024},
            # Mail and SMS delivered within the request, so a test reads the outbox right after
            # it; tests of the queue itself ask for "worker" and run `idp worker --once`.
            "delivery": {"mode": "inline"},
        }
        for section, entries in sections.items():
            values.setdefault(section, {}).update(entries)
        return _write_config(tmp_path / "config.toml", values)

    return make


@pytest.fixture
def clock() -> FrozenClock:
    now = datetime.now(UTC).replace(microsecond=0)
    return FrozenClock(now)


@pytest.fixture
def make_app(make_config, clock):
    """Build an app on this test's database and keys; every app is disposed afterwards."""
    apps = []

    def make(issuer: str = "http://127.0.0.1:5000", **sections):
        settings = load_settings(make_config(issuer, **sections), environ={})
        app = create_app(settings, clock=clock)
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["idp.logout"].stop()
        app.extensions["idp.outbox"].stop()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def actions(app, client) -> Actions:
    return Actions(app, client)


@pytest.fixture
def cli(make_config):
    """Invoke `idp --config <this test's config> ...` and return the click result."""
    from idp.cli import main

    def invoke(*args: str, config: Path | None = None):
        path = config or make_config()
        return CliRunner().invoke(main, ["--config", str(path), *args], obj={}, env={})

    return invoke


class _LazyApp:
    def __init__(self) -> None:
        self.app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture
def live_server_sections() -> dict:
    """Config sections for `live_server`; a test module overrides this fixture to change them."""
    return {}


@pytest.fixture
def live_server_clock():
    """The clock of `live_server`: None for the wall clock; a test module may inject one."""
    return None


@pytest.fixture
def live_server_host() -> str:
    """The host name in `live_server`'s issuer; passkey tests use "localhost" because
    browsers refuse WebAuthn on IP addresses (it is served on 127.0.0.1 either way)."""
    return "127.0.0.1"


@pytest.fixture
def live_server(make_config, live_server_sections, live_server_clock, live_server_host):
    """A real HTTP server on loopback whose issuer is its own URL; stops after the test."""
    proxy = _LazyApp()
    server = make_server("127.0.0.1", 0, proxy, threaded=True)
    base_url = f"http://{live_server_host}:{server.server_port}"
    settings = load_settings(make_config(base_url, **live_server_sections), environ={})
    proxy.app = create_app(settings, clock=live_server_clock)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    live = Actions(proxy.app, None)
    live.url = base_url
    yield live
    proxy.app.extensions["idp.logout"].stop()
    proxy.app.extensions["idp.outbox"].stop()
    server.shutdown()
    thread.join(timeout=5)
    with proxy.app.app_context():
        db.engine.dispose()
