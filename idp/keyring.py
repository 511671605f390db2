"""Key lifecycle: next -> active -> retired -> removed, recorded in the database.

A `next` key is published in the JWKS before it may sign, so relying parties that cache the
JWKS already hold it when it becomes `active`; a `retired` key stays published until every
token it signed has expired. Every node reads the states from the shared database, so a
rotation on one node reaches all of them within `[keys] refresh_seconds`.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .clock import utcnow
from .db import db
from .extensions import settings
from .keys import KeyEntry, KeyStore, check_permissions, generate_key, load_key_file
from .models import SigningKey


class KeyLifecycleError(Exception):
    """A key operation was refused; the message says why and what to do."""


class KeyRing:
    """Per-app view of the keys in force, re-read from the database when it gets stale."""

    def __init__(self, directory: Path, *, passphrase: str = "", refresh_seconds: int = 5) -> None:
        self.directory = directory
        self.passphrase = passphrase
        self.refresh_seconds = refresh_seconds
        self._material: dict[str, object] = {}
        self._store: KeyStore | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        # Refuse to start on a key file that others can read (security invariant 6).
        for path in directory.glob("*.json") if directory.is_dir() else ():
            check_permissions(path)

    def current(self) -> KeyStore:
        """The snapshot in force; re-read after `refresh_seconds`."""
        if self._store is None or time.monotonic() - self._checked >= self.refresh_seconds:
            with self._lock:
                self._store = self._read()
                self._checked = time.monotonic()
        return self._store

    def invalidate(self) -> None:
        self._store = None

    def material(self, kid: str):
        """Private key for a kid, read from its file once (key material loaded on change)."""
        if kid not in self._material:
            _, key = load_key_file(self.directory / f"{kid}.json", self.passphrase)
            self._material[kid] = key
        return self._material[kid]

    def _read(self) -> KeyStore:
        rows = db.session.scalars(select(SigningKey).where(SigningKey.state != "removed")).all()
        if not rows:
            # Installed before key metadata existed and `idp init` not yet re-run.
            return KeyStore.load(self.directory, self.passphrase)
        return KeyStore(
            KeyEntry(
                row.alg,
                self.material(row.kid),
                signing=row.state == "active",
                published=row.published,
            )
            for row in rows
        )


def retention() -> timedelta:
    """How long a retired key stays published: the longest token lifetime plus one JWKS max-age."""
    conf = settings()
    lifetime = max(conf.tokens.access_token_lifetime, conf.tokens.id_token_lifetime)
    return timedelta(seconds=lifetime + conf.keys.jwks_max_age)


def adopt_key_files(session: Session, directory: Path, passphrase: str, now: datetime) -> int:
    """Register key files that have no metadata yet: the newest per algorithm becomes active."""
    known = set(session.scalars(select(SigningKey.kid)))
    has_active = set(session.scalars(select(SigningKey.alg).where(SigningKey.state == "active")))
    paths = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    adopted = 0
    for path in paths:
        if path.stem in known:
            continue
        alg, key = load_key_file(path, passphrase)
        active = alg not in has_active
        has_active.add(alg)
        session.add(
            SigningKey(
                kid=key.kid,
                alg=alg,
                state="active" if active else "retired",
                published=True,
                created_at=now,
                activated_at=now if active else None,
                retired_at=None if active else now,
            )
        )
        adopted += 1
    return adopted


def _ring() -> KeyRing:
    from flask import current_app

    return current_app.extensions["idp.keys"]


def _create(alg: str, state: str, now: datetime) -> SigningKey:
    conf = settings()
    kid = generate_key(
        _ring().directory, alg, rsa_bits=conf.keys.rsa_bits, passphrase=conf.keys.passphrase
    )
    row = SigningKey(
        kid=kid,
        alg=alg,
        state=state,
        published=True,
        created_at=now,
        activated_at=now if state == "active" else None,
    )
    db.session.add(row)
    return row


def _one(alg: str, state: str) -> SigningKey | None:
    return db.session.scalar(
        select(SigningKey).where(SigningKey.alg == alg, SigningKey.state == state).with_for_update()
    )


def _retire(row: SigningKey, now: datetime, *, published: bool = True) -> None:
    row.state = "retired"
    row.retired_at = now
    row.expires_at = now + retention()
    row.published = published


def initialise_keys() -> list[str]:
    """`idp init`: adopt existing files, then ensure an active and a next key per algorithm."""
    now = utcnow()
    conf = settings()
    adopt_key_files(db.session, _ring().directory, conf.keys.passphrase, now)
    db.session.flush()
    created = []
    for alg in conf.keys.algorithms:
        for state in ("active", "next"):
            if _one(alg, state) is None:
                created.append(_create(alg, state, now).kid)
    db.session.commit()
    _ring().invalidate()
    return created


def rotate_keys(alg: str | None = None, *, force: bool = False) -> list[dict]:
    """Promote next to active and active to retired, and publish a new next key."""
    now = utcnow()
    max_age = timedelta(seconds=settings().keys.jwks_max_age)
    algs = [alg] if alg else list(settings().keys.algorithms)
    plans = []
    for name in algs:
        upcoming = _one(name, "next")
        if upcoming is None:
            if not force:
                kid = _create(name, "next", now).kid
                db.session.commit()
                raise KeyLifecycleError(
                    f"{name}: there was no next key; published {kid} now. It may become active "
                    f"after {(now + max_age).isoformat()} (one JWKS max-age), or use --force."
                )
            upcoming = _create(name, "next", now)
        elif upcoming.created_at + max_age > now and not force:
            raise KeyLifecycleError(
                f"{name}: next key {upcoming.kid} was published at "
                f"{upcoming.created_at.isoformat()}; relying parties may not have it in their "
                f"cached JWKS before {(upcoming.created_at + max_age).isoformat()}. "
                "Rotate after that, or use --force."
            )
        plans.append((name, upcoming))
    results = []
    for name, upcoming in plans:
        previous = _one(name, "active")
        if previous is not None:
            _retire(previous, now)
        upcoming.state = "active"
        upcoming.activated_at = now
        fresh = _create(name, "next", now)
        results.append(
            {
                "alg": name,
                "active": upcoming.kid,
                "retired": previous.kid if previous else None,
                "next": fresh.kid,
            }
        )
    db.session.commit()
    _ring().invalidate()
    return results


def retire_key(kid: str, *, keep_publishing: bool = False) -> dict:
    """Emergency: stop signing with a key at once; publish it only if asked."""
    now = utcnow()
    row = db.session.get(SigningKey, kid, with_for_update=True)
    if row is None or row.state in ("retired", "removed"):
        raise KeyLifecycleError(f"{kid}: no next or active key has this kid")
    replacement = None
    if row.state == "active":
        replacement = _one(row.alg, "next")
        if replacement is None:
            replacement = _create(row.alg, "active", now)
        replacement.state = "active"
        replacement.activated_at = now
    _retire(row, now, published=keep_publishing)
    if _one(row.alg, "next") is None:
        _create(row.alg, "next", now)
    db.session.commit()
    _ring().invalidate()
    return {"retired": kid, "published": keep_publishing, "active": replacement and replacement.kid}


def prune_keys() -> list[str]:
    """Remove retired keys past their retention (or unpublished): metadata kept, file deleted."""
    now = utcnow()
    rows = db.session.scalars(
        select(SigningKey).where(SigningKey.state == "retired").with_for_update()
    ).all()
    removed = []
    for row in rows:
        if not row.published or (row.expires_at is not None and row.expires_at <= now):
            row.state = "removed"
            (_ring().directory / f"{row.kid}.json").unlink(missing_ok=True)
            removed.append(row.kid)
    db.session.commit()
    _ring().invalidate()
    return removed


def list_keys() -> list[dict]:
    rows = db.session.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()

    def stamp(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return [
        {
            "kid": row.kid,
            "alg": row.alg,
            "state": row.state,
            "published": row.published,
            "created": stamp(row.created_at),
            "activated": stamp(row.activated_at),
            "retired": stamp(row.retired_at),
            "expires": stamp(row.expires_at),
        }
        for row in rows
    ]
