"""Seed many stored rows fast (access-token records, refresh tokens, SSO sessions).

Inserted directly through the database driver in large batches (executemany on SQLite, COPY
on PostgreSQL), as a busy service keeps them while `idp worker` purges: issued over the last
5.5 minutes (access tokens: a tenth already expired, for the purge to find), 7.7 days (refresh
tokens) and 13.2 hours (sessions), some revoked or rotated or ended, all for a real client and
a real member.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

BATCH = 50_000
# How far back the stored rows were issued: lifetimes plus a tenth (access tokens 300 s,
# refresh tokens idle 7 days, sessions 12 hours).
SPANS = {
    "tokens": timedelta(seconds=330),
    "refresh_tokens": timedelta(days=7.7),
    "sso_sessions": timedelta(hours=13.2),
}
AMR = json.dumps(["pwd"])

TOKENS = ("tokens", "jti, client_id, member_id, scope, issued_at, expires_at, revoked_at")
REFRESH = (
    "refresh_tokens",
    "token_hash, family, client_id, member_id, sid, scope, auth_time, acr, amr, issued_at, "
    "expires_at, family_expires_at, rotated_at",
)
SESSIONS = (
    "sso_sessions",
    "sid, token_hash, member_id, auth_time, acr, amr, created_at, last_seen_at, expires_at, "
    "ended_at, ip, user_agent",
)


def _rows(kind: str, client_id: str, member_id: int, times: list[datetime]) -> Iterator[tuple]:
    for i, t in enumerate(times):
        if kind == "tokens":
            yield (secrets.token_urlsafe(24), client_id, member_id, "openid profile email", t,
                   t + timedelta(seconds=300), t if i % 10 == 0 else None)  # fmt: skip
        elif kind == "refresh_tokens":
            yield (secrets.token_hex(32), secrets.token_urlsafe(24), client_id, member_id, None,
                   "openid offline_access", t, "pwd", AMR, t, t + timedelta(days=7),
                   t + timedelta(days=30), t if i % 2 == 0 else None)  # fmt: skip
        else:
            yield (secrets.token_urlsafe(24), secrets.token_hex(32), member_id, t, "pwd", AMR, t,
                   t, t + timedelta(hours=12), t if i % 3 == 0 else None, "127.0.0.1",
                   "bench")  # fmt: skip


def _writer(raw, dialect: str) -> Callable[[str, str, list[tuple]], None]:
    cursor = raw.cursor()
    if dialect == "sqlite":
        # Random unique keys touch index pages all over: keep them in memory while seeding.
        cursor.execute("PRAGMA cache_size = -500000")

    def write(table: str, columns: str, rows: list[tuple]) -> None:
        if dialect == "sqlite":
            marks = ", ".join("?" * len(columns.split(",")))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 (constants)
                [
                    tuple(v.isoformat(" ") if isinstance(v, datetime) else v for v in row)
                    for row in rows
                ],  # fmt: skip
            )
        else:
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    return write


def seed(app, client_id: str, member_email: str, count: int, log=print) -> None:
    """Add `count` rows to each of tokens, refresh_tokens and sso_sessions."""
    from idp.clock import utcnow
    from idp.db import db
    from idp.models.identity import find_by_identifier

    with app.app_context():
        member_id = find_by_identifier(member_email).id
        dialect = db.engine.dialect.name
        now = utcnow().replace(microsecond=123456)  # isoformat then always shows microseconds
        if dialect == "sqlite":
            # The form SQLAlchemy's SQLite DateTime stores: naive UTC, "YYYY-MM-DD HH:MM:SS.ffffff".
            now = now.astimezone(UTC).replace(tzinfo=None)
        raw = db.engine.raw_connection()
        try:
            write = _writer(raw, dialect)
            done = 0
            while done < count:
                size = min(BATCH, count - done)
                for table, columns in (TOKENS, REFRESH, SESSIONS):
                    span = SPANS[table]
                    times = [now - span * ((done + i) % 1000) / 1000 for i in range(size)]
                    write(table, columns, list(_rows(table, client_id, member_id, times)))
                raw.commit()
                done += size
                if done % 200_000 == 0 or done == count:
                    log(f"    seeded {done:,} of {count:,} rows per table")
            if dialect == "postgresql":
                raw.commit()
                raw.autocommit = True
                raw.cursor().execute("ANALYZE")
        finally:
            raw.close()
        db.engine.dispose()
