"""Seed many stored rows fast (access-token records, refresh tokens, SSO sessions).

Inserted directly with SQLAlchemy Core in large batches, as a year of production would leave
them: mostly expired, some revoked, all for real clients and a real member.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa

BATCH = 20_000


def _batches(total: int):
    done = 0
    while done < total:
        size = min(BATCH, total - done)
        yield done, size
        done += size


def seed(app, client_id: str, member_email: str, count: int, log=print) -> None:
    """Add `count` rows to each of tokens, refresh_tokens and sso_sessions."""
    from idp.clock import utcnow
    from idp.db import db
    from idp.models import RefreshToken, SsoSession, Token
    from idp.models.identity import find_by_identifier

    with app.app_context():
        member_id = find_by_identifier(member_email).id
        now = utcnow()
        for start, size in _batches(count):
            old = [now - timedelta(minutes=(start + i) % 100_000) for i in range(size)]
            db.session.execute(sa.insert(Token), [
                {"jti": secrets.token_urlsafe(24), "client_id": client_id,
                 "member_id": member_id, "scope": "openid profile email", "issued_at": t,
                 "expires_at": t + timedelta(seconds=300),
                 "revoked_at": t if i % 10 == 0 else None}
                for i, t in enumerate(old)
            ])  # fmt: skip
            db.session.execute(sa.insert(RefreshToken), [
                {"token_hash": secrets.token_hex(32), "family": secrets.token_urlsafe(24),
                 "client_id": client_id, "member_id": member_id, "sid": None,
                 "scope": "openid offline_access", "auth_time": t, "acr": "pwd",
                 "amr": ["pwd"], "issued_at": t, "expires_at": t + timedelta(days=7),
                 "family_expires_at": t + timedelta(days=30),
                 "rotated_at": t if i % 2 == 0 else None}
                for i, t in enumerate(old)
            ])  # fmt: skip
            db.session.execute(sa.insert(SsoSession), [
                {"sid": secrets.token_urlsafe(24), "token_hash": secrets.token_hex(32),
                 "member_id": member_id, "auth_time": t, "acr": "pwd", "amr": ["pwd"],
                 "created_at": t, "last_seen_at": t, "expires_at": t + timedelta(hours=12),
                 "ended_at": t if i % 3 == 0 else None, "ip": "127.0.0.1",
                 "user_agent": "bench"}
                for i, t in enumerate(old)
            ])  # fmt: skip
            db.session.commit()
            if (start // BATCH) % 10 == 9:
                log(f"    seeded {start + size:,} of {count:,} rows per table")
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE"))
        db.engine.dispose()
