"""Database wiring: one SQLAlchemy instance, UTC-only datetimes, and Alembic migrations."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, delete, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import Pool
from sqlalchemy.types import DateTime, TypeDecorator

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Deterministic constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetime on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: every stored time must be UTC-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """On SQLite: enforce foreign keys, wait on locks instead of failing, and write ahead.

    WAL lets readers run beside the one writer; synchronous=NORMAL syncs at checkpoints rather
    than at every commit (a commit cost ~16 ms of fsync here). A crash of the process loses
    nothing; a power cut may lose the last commits but never corrupts the file. Deployments
    that cannot accept that run PostgreSQL (docs/operations.md).
    """
    if _is_sqlite(dbapi_connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


# A pooled connection idle this long is pinged before use; a busy one is not (a ping is one
# more round trip per request). A connection that broke while in use is caught anyway:
# SQLAlchemy invalidates the whole pool on a disconnect error, and the request gets a 503.
IDLE_PING_SECONDS = 5.0


@event.listens_for(Pool, "checkin")
def _returned(dbapi_connection, connection_record) -> None:
    connection_record.info["idp.returned"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_if_idle(dbapi_connection, connection_record, connection_proxy) -> None:
    returned = connection_record.info.get("idp.returned")
    if returned is None or _is_sqlite(dbapi_connection):
        return  # fresh from connect, or a file on this machine
    if time.monotonic() - returned < IDLE_PING_SECONDS:
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
    except Exception as error:  # any failure: let the pool replace this connection
        raise DisconnectionError(str(error)) from error
    finally:
        try:
            cursor.close()
        except Exception:  # noqa: S110  # a dead connection may refuse to close its cursor
            pass


def upsert(model, values: dict, index: list[str], increments: dict | None = None):
    """INSERT … ON CONFLICT on SQLite and PostgreSQL: one atomic statement either way."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(**values)
    if increments:
        return statement.on_conflict_do_update(index_elements=index, set_=increments)
    return statement.on_conflict_do_nothing(index_elements=index)


def spend_once(model, values: dict, unique: list[str], now: datetime) -> bool:
    """Record a single-use value (a row with `expires_at`); False if it was recorded before.

    Expired records are deleted first, so the table holds only what could still be replayed.
    One atomic INSERT … ON CONFLICT DO NOTHING decides between parallel requests and nodes.
    """
    db.session.execute(delete(model).where(model.expires_at <= now))
    # RETURNING, not rowcount: drivers differ in what rowcount says for ON CONFLICT DO NOTHING.
    return db.session.scalar(upsert(model, values, unique).returning(model.id)) is not None


def init_app(app: Flask) -> None:
    """Bind the database to the app."""
    db.init_app(app)


def alembic_config(url: str):
    """Build an Alembic config pointing at the packaged migrations and the given URL."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Apply every pending migration: the one command an operator runs on upgrade."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")
