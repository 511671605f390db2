"""Issue 18: the hot paths do less work, and still answer exactly as before.

Discovery and the JWKS are replayed as bytes before Flask; client records are kept per
process; the hot endpoints make a counted number of SQL statements; SQLite writes ahead; argon2
work is bounded per process; access tokens may be signed with ES256.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager

import jwt
import pytest
import sqlalchemy as sa

from idp.auth.passwords import hashing_slot
from idp.db import db
from idp.keyring import rotate_keys
from idp.models import Client

from .conftest import TEST_DATABASE_URL

DISCOVERY = "/.well-known/openid-configuration"
CACHED = {"keys": {"refresh_seconds": 5}}


class Turnable:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@contextmanager
def statements(app):
    """The SQL statements the app sends while the block runs (BEGIN/COMMIT not included)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


# -- discovery and JWKS as bytes ----------------------------------------------------------------


def test_published_documents_are_replayed_with_fresh_request_ids(make_app):
    app = make_app(**CACHED)
    published = app.extensions["idp.published"]
    published.now = Turnable()
    client = app.test_client()
    first = client.get("/jwks")
    with statements(app) as seen:
        again = client.get("/jwks", headers={"X-Request-ID": "rp-trace-1"})
        later = client.get(DISCOVERY)
        replayed_discovery = client.get(DISCOVERY)
    assert again.data == first.data and again.status_code == 200
    # Security headers, caching and CORS come from the first answer; the request id is new.
    for name in ("Content-Security-Policy", "Cache-Control", "ETag", "Content-Type",
                 "Access-Control-Allow-Origin", "X-Content-Type-Options"):  # fmt: skip
        assert again.headers.get(name) == first.headers.get(name), name
    assert again.headers["X-Request-ID"] == "rp-trace-1"
    assert first.headers["X-Request-ID"] != replayed_discovery.headers["X-Request-ID"]
    assert replayed_discovery.data == later.data
    # The replayed JWKS and discovery took no statement; the first discovery read the keys.
    assert len(seen) <= 1


def test_conditional_get_of_a_replayed_document_is_304(make_app):
    app = make_app(**CACHED)
    client = app.test_client()
    etag = client.get("/jwks").headers["ETag"]
    for offered in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        answer = client.get("/jwks", headers={"If-None-Match": offered})
        assert answer.status_code == 304, offered
        assert answer.data == b""
        assert answer.headers["ETag"] == etag
        assert answer.headers["Cache-Control"].startswith("public")
    assert client.get("/jwks", headers={"If-None-Match": '"other"'}).status_code == 200


def test_replay_expires_and_follows_a_key_rotation_in_the_process(make_app):
    app = make_app(**CACHED)
    published = app.extensions["idp.published"]
    published.now = clock = Turnable()
    client = app.test_client()
    before = client.get("/jwks").get_json()
    # A rotation in another process: this one keeps answering the kept bytes until they age.
    with app.app_context():
        engine = db.engine
    other = make_app(**CACHED)
    with other.app_context():
        rotate_keys("RS256", force=True)
    assert client.get("/jwks").get_json() == before
    clock.value += 5
    app.extensions["idp.keys"].invalidate()  # the ring's own refresh period is over as well
    after = client.get("/jwks").get_json()
    assert {k["kid"] for k in after["keys"]} != {k["kid"] for k in before["keys"]}
    # A rotation in this process drops the kept bytes at once.
    with app.app_context():
        rotate_keys("ES256", force=True)
    assert client.get("/jwks").get_json() != after
    engine.dispose()


def test_only_plain_gets_of_the_two_documents_are_replayed(make_app):
    app = make_app(**CACHED)
    client = app.test_client()
    client.get("/jwks")
    # A query string, another method or another path goes through Flask as before.
    assert client.get("/jwks?x=1").status_code == 200
    assert client.post("/jwks").status_code == 405
    assert client.head("/jwks").status_code == 200
    assert client.get("/jwks/").status_code == 404


def test_without_a_refresh_period_nothing_is_kept(make_app):
    app = make_app()  # the suite's [keys] refresh_seconds = 0
    client = app.test_client()
    client.get("/jwks")
    with app.app_context():
        rotate_keys("RS256", force=True)
    published = app.extensions["idp.published"]
    assert published.seconds == 0 and not published._kept


# -- client records per process ------------------------------------------------------------------


def _client_credentials(client, client_id, secret):
    return client.post(
        "/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )


def test_a_cached_client_saves_its_select_and_a_change_in_the_process_is_seen_at_once(make_app):
    app = make_app(**CACHED)
    from .helpers import Actions

    actions = Actions(app, app.test_client())
    client_id, secret = actions.create_client(grant_types=["client_credentials"])
    http = app.test_client()
    assert _client_credentials(http, client_id, secret).status_code == 200
    with statements(app) as seen:
        assert _client_credentials(http, client_id, secret).status_code == 200
    assert not [s for s in seen if "FROM clients" in s]
    assert [s for s in seen if s.startswith("INSERT INTO tokens")]
    # An ORM change (as the CLI and registration make) drops the kept record in this process.
    with app.app_context():
        row = db.session.scalar(sa.select(Client).where(Client.client_id == client_id))
        row.grant_types = ["authorization_code"]
        db.session.commit()
    refused = _client_credentials(http, client_id, secret)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "unauthorized_client"


def test_a_change_made_elsewhere_is_seen_within_the_refresh_period(make_app):
    app = make_app(**CACHED)
    cache = app.extensions["idp.clients"]
    cache.now = clock = Turnable()
    from .helpers import Actions

    actions = Actions(app, app.test_client())
    client_id, secret = actions.create_client(grant_types=["client_credentials"])
    http = app.test_client()
    assert _client_credentials(http, client_id, secret).status_code == 200
    # Another node deletes it (no ORM event reaches this process).
    with app.app_context():
        db.session.execute(sa.delete(Client).where(Client.client_id == client_id))
        db.session.commit()
    clock.value += 4.9
    with app.app_context():
        assert cache.get(client_id) is not None  # still kept, within the bound
        db.session.rollback()
    clock.value += 0.2
    refused = _client_credentials(http, client_id, secret)
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "invalid_client"


def test_registration_delete_forgets_the_client_at_once(make_app, cli):
    app = make_app(**CACHED)
    minted = cli("clients", "token", "--json")
    assert minted.exit_code == 0, minted.output
    initial = json.loads(minted.output)["initial_access_token"]
    http = app.test_client()
    registered = http.post(
        "/register",
        headers={"Authorization": f"Bearer {initial}"},
        json={"client_name": "Gone soon", "grant_types": ["client_credentials"],
              "response_types": [], "token_endpoint_auth_method": "client_secret_basic"},
    )  # fmt: skip
    assert registered.status_code == 201, registered.text
    body = registered.get_json()
    assert _client_credentials(http, body["client_id"], body["client_secret"]).status_code == 200
    deleted = http.delete(
        f"/register/{body['client_id']}",
        headers={"Authorization": f"Bearer {body['registration_access_token']}"},
    )
    assert deleted.status_code == 204
    refused = _client_credentials(http, body["client_id"], body["client_secret"])
    assert refused.status_code == 401


# -- SQL statements per request -------------------------------------------------------------------


@pytest.fixture
def member_token(make_app):
    app = make_app(**CACHED)
    from .helpers import Actions

    http = app.test_client()
    actions = Actions(app, http)
    member = actions.create_member()
    client_id, secret = actions.create_client(first_party=True)
    actions.sign_in(member["email"])
    tokens = actions.tokens(client_id, secret)
    return app, http, tokens["access_token"], (client_id, secret)


def test_userinfo_takes_two_statements_and_introspection_one(member_token):
    app, http, token, (client_id, secret) = member_token
    http.get("/userinfo", headers={"Authorization": f"Bearer {token}"})  # the client is kept
    with statements(app) as seen:
        answer = http.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.get_json()["membership_number"]
    # The token joined to its member, then the employer claim: one query each.
    assert len(seen) == 2, seen
    http.post("/introspect", data={"token": token}, auth=(client_id, secret))
    with statements(app) as seen:
        answer = http.post("/introspect", data={"token": token}, auth=(client_id, secret))
    assert answer.get_json()["active"] is True
    assert len(seen) == 1, seen


# -- SQLite -------------------------------------------------------------------------------------


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite pass only: WAL is SQLite's")
def test_sqlite_writes_ahead(app):
    with app.app_context():
        mode = db.session.execute(sa.text("PRAGMA journal_mode")).scalar()
        synchronous = db.session.execute(sa.text("PRAGMA synchronous")).scalar()
    assert (mode, synchronous) == ("wal", 1)  # 1 = NORMAL


# -- bounded argon2 work -------------------------------------------------------------------------


def test_a_sign_in_that_finds_every_hashing_slot_taken_gets_503_and_records_nothing(make_app):
    app = make_app(passwords={"argon2_time_cost": 1, "argon2_memory_cost": 1024,
                              "max_concurrent_hashes": 1, "hash_wait_seconds": 0})  # fmt: skip
    from idp.models import LoginThrottle

    from .helpers import Actions

    http = app.test_client()
    actions = Actions(app, http)
    member = actions.create_member()
    page = http.get("/login")
    held, release = threading.Event(), threading.Event()

    def occupy():
        with app.app_context(), hashing_slot():
            held.set()
            release.wait(10)

    holder = threading.Thread(target=occupy)
    holder.start()
    held.wait(10)
    try:
        from .helpers import csrf_from

        form = {"identifier": member["email"], "password": "wrong password, twice",
                "csrf_token": csrf_from(page.text)}  # fmt: skip
        busy = http.post("/login", data=form)
    finally:
        release.set()
        holder.join(10)
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "1"
    assert "try again" in busy.text.lower() or "coba lagi" in busy.text.lower()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) == 0
    # With the slot free again the same form is answered normally: a wrong password, counted.
    answered = http.post("/login", data=form)
    assert answered.status_code == 400 and "Retry-After" not in answered.headers
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) >= 1


def test_hashing_slots_are_re_entrant_within_a_thread(app):
    with app.app_context():
        from idp.auth.passwords import hash_password, verify_password

        with hashing_slot(), hashing_slot():
            assert verify_password(hash_password("kopi-susu-pagi-hari"), "kopi-susu-pagi-hari")


# -- ES256 access tokens ---------------------------------------------------------------------------


def _access_token_alg(app, token: str) -> tuple[str, dict]:
    header = jwt.get_unverified_header(token)
    jwks = app.test_client().get("/jwks").get_json()
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(
        token, jwt.PyJWK(key).key, algorithms=[header["alg"]], audience="http://127.0.0.1:5000"
    )
    return header["alg"], claims


def test_es256_access_tokens_server_wide_and_per_client(make_app, cli):
    app = make_app(tokens={"access_token_alg": "ES256"})
    from .helpers import Actions

    http = app.test_client()
    actions = Actions(app, http)
    default_id, default_secret = actions.create_client(grant_types=["client_credentials"])
    rs_id, rs_secret = actions.create_client(
        grant_types=["client_credentials"], access_token_alg="RS256"
    )
    token = _client_credentials(http, default_id, default_secret).get_json()["access_token"]
    alg, claims = _access_token_alg(app, token)
    assert alg == "ES256" and claims["client_id"] == default_id
    # The ES256 token is as good as an RS256 one at introspection.
    described = http.post("/introspect", data={"token": token}, auth=(default_id, default_secret))
    assert described.get_json()["active"] is True
    token = _client_credentials(http, rs_id, rs_secret).get_json()["access_token"]
    assert _access_token_alg(app, token)[0] == "RS256"


def test_access_token_alg_is_checked_in_config_and_cli(make_config, cli):
    from idp.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match=r"\[tokens\] access_token_alg"):
        load_settings(make_config(tokens={"access_token_alg": "HS256"}), environ={})
    refused = cli("clients", "create", "--name", "x", "--grant-type", "client_credentials",
                  "--access-token-alg", "none")  # fmt: skip
    assert refused.exit_code != 0
    assert "access_token_alg must be one of" in refused.output
    made = cli("clients", "create", "--name", "y", "--grant-type", "client_credentials",
               "--access-token-alg", "ES256", "--json")  # fmt: skip
    assert made.exit_code == 0, made.output
    assert '"access_token_alg": "ES256"' in made.output


# -- connection pings ---------------------------------------------------------------------------


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL pass only: SQLite has no server")
@pytest.mark.parametrize("idle_ping", [0.0, 3600.0])
def test_a_broken_idle_connection_is_pinged_and_a_busy_one_recovers(app, monkeypatch, idle_ping):
    import idp.db

    monkeypatch.setattr(idp.db, "IDLE_PING_SECONDS", idle_ping)
    http = app.test_client()
    assert http.get("/readyz").status_code == 200  # a pooled connection now exists
    with app.app_context():
        database = db.engine.url.database
    killer = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with killer.connect() as conn:
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"),
            {"db": database},
        )  # fmt: skip
    killer.dispose()
    first = http.get("/readyz")
    if idle_ping == 0.0:
        assert first.status_code == 200  # the ping found the dead connection and replaced it
    else:
        # Not pinged: this request meets the dead connection and gets a 503, never a 500;
        # SQLAlchemy drops the pool and the next request is served.
        assert first.status_code == 503
    assert http.get("/readyz").status_code == 200
