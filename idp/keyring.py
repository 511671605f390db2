"""Key lifecycle: next -> active -> retired -> removed, recorded in the database.

A `next` key is published in the JWKS before it may sign, so relying parties that cache the
JWKS already hold it when it becomes `active`; a `retired` key stays published until every
token it signed has expired. Every node reads the keys, sealed with a KEK (`kek.py`), from the
shared database, so a rotation on one node reaches all of them within `[keys] refresh_seconds`
and no private key is kept on a node's disk.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from joserfc.jwk import Key
from sqlalchemy import select
from sqlalchemy.orm import Session

from .clock import utcnow
from .db import db
from .extensions import settings
from .kek import Kek, seal, sealed_with, unseal
from .keys import (
    KeyEntry,
    KeyStore,
    KeyStoreError,
    generate_private_jwk,
    load_key_file,
    parse_private_jwk,
)
from .models import SigningKey


class KeyLifecycleError(Exception):
    """A key operation was refused; the message says why and what to do."""


class KeyRing:
    """Per-app view of the keys in force, re-read from the database when it gets stale."""

    def __init__(self, keks: list[Kek], *, refresh_seconds: int = 5) -> None:
        self.keks = keks
        self.refresh_seconds = refresh_seconds
        self._material: dict[str, Key] = {}
        self._store: KeyStore | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.on_invalidate: list[Callable[[], None]] = []  # e.g. the published JWKS bytes

    def current(self) -> KeyStore:
        """The snapshot in force; re-read after `refresh_seconds`."""
        if self._store is None or time.monotonic() - self._checked >= self.refresh_seconds:
            with self._lock:
                self._store = self._read()
                self._checked = time.monotonic()
        return self._store

    def invalidate(self) -> None:
        self._store = None
        for forget in self.on_invalidate:
            forget()

    def material(self, row: SigningKey) -> Key:
        """Private key of a row, unsealed once per node (key material loaded on change)."""
        if row.kid not in self._material:
            if row.private_jwk is None:
                raise KeyStoreError(
                    f"signing key {row.kid}: its private key is not in the database;"
                    " run `idp init` where the old keys/ directory is"
                )
            _, key = parse_private_jwk(unseal(row.private_jwk, self.keks, kid=row.kid), row.kid)
            self._material[row.kid] = key
        return self._material[row.kid]

    def _read(self) -> KeyStore:
        rows = db.session.scalars(select(SigningKey).where(SigningKey.state != "removed")).all()
        return KeyStore(
            KeyEntry(
                row.alg,
                self.material(row),
                signing=row.state == "active",
                published=row.published,
            )
            for row in rows
        )


def new_signing_key(alg: str, state: str, now: datetime, *, rsa_bits: int, kek: Kek) -> SigningKey:
    """A fresh key row whose private JWK is sealed with the KEK."""
    kid, document = generate_private_jwk(alg, rsa_bits=rsa_bits)
    return SigningKey(
        kid=kid,
        alg=alg,
        state=state,
        published=True,
        created_at=now,
        activated_at=now if state == "active" else None,
        private_jwk=seal(document, kek),
        kek_id=kek.id,
    )


def retention() -> timedelta:
    """How long a retired key stays published: the longest token lifetime plus one JWKS max-age."""
    conf = settings()
    lifetime = max(conf.tokens.access_token_lifetime, conf.tokens.id_token_lifetime)
    return timedelta(seconds=lifetime + conf.keys.jwks_max_age)


def _sealed(key: Key, alg: str, kek: Kek) -> str:
    document = key.as_dict(private=True) | {"kid": key.kid, "alg": alg, "use": "sig"}
    return seal(json.dumps(document), kek)


def move_key_files(
    session: Session, directory: Path, passphrase: str, kek: Kek, now: datetime
) -> list[Path]:
    """Seal the legacy keys/ files into the database; return the files now safe to delete.

    A file whose key has metadata already gets its private part added; a file without any
    becomes a key of its own, the newest per algorithm active when none is.
    """
    if not directory.is_dir():
        return []
    rows = {row.kid: row for row in session.scalars(select(SigningKey))}
    has_active = {row.alg for row in rows.values() if row.state == "active"}
    paths = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    moved = []
    for path in paths:
        row = rows.get(path.stem)
        if row is not None and row.private_jwk is not None:
            moved.append(path)
            continue
        alg, key = load_key_file(path, passphrase)
        if row is None:
            active = alg not in has_active
            has_active.add(alg)
            row = SigningKey(
                kid=key.kid,
                alg=alg,
                state="active" if active else "retired",
                published=True,
                created_at=now,
                activated_at=now if active else None,
                retired_at=None if active else now,
            )
            session.add(row)
        if row.state != "removed":
            row.private_jwk, row.kek_id = _sealed(key, alg, kek), kek.id
        moved.append(path)
    return moved


def _ring() -> KeyRing:
    from flask import current_app

    return current_app.extensions["idp.keys"]


def _create(alg: str, state: str, now: datetime) -> SigningKey:
    row = new_signing_key(alg, state, now, rsa_bits=settings().keys.rsa_bits, kek=_ring().keks[0])
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


def initialise_keys() -> dict:
    """`idp init`: move legacy key files into the database, then ensure an active and a next
    key per algorithm; the moved files are deleted once the database holds them."""
    now = utcnow()
    conf = settings()
    moved = move_key_files(db.session, conf.keys_path, conf.keys.passphrase, _ring().keks[0], now)
    db.session.flush()
    created = []
    for alg in conf.keys.algorithms:
        for state in ("active", "next"):
            if _one(alg, state) is None:
                created.append(_create(alg, state, now).kid)
    db.session.commit()
    for path in moved:
        path.unlink(missing_ok=True)
    _ring().invalidate()
    return {"created": created, "moved": [path.stem for path in moved]}


def rewrap_keys() -> dict:
    """Re-seal every stored private key with the first KEK, so older KEKs can be dropped."""
    keks = _ring().keks
    rows = db.session.scalars(
        select(SigningKey).where(SigningKey.private_jwk.is_not(None)).with_for_update()
    ).all()
    rewrapped = []
    for row in rows:
        if sealed_with(row.private_jwk) == keks[0].id:
            continue
        try:
            document = unseal(row.private_jwk, keks, kid=row.kid)
        except KeyStoreError as error:
            db.session.rollback()
            raise KeyLifecycleError(f"{error}; nothing was re-encrypted") from error
        row.private_jwk, row.kek_id = seal(document, keks[0]), keks[0].id
        rewrapped.append(row.kid)
    db.session.commit()
    return {"kek": keks[0].id, "rewrapped": rewrapped, "keys": len(rows)}


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
    """Remove retired keys past their retention (or unpublished): metadata kept, key destroyed."""
    now = utcnow()
    rows = db.session.scalars(
        select(SigningKey).where(SigningKey.state == "retired").with_for_update()
    ).all()
    removed = []
    for row in rows:
        if not row.published or (row.expires_at is not None and row.expires_at <= now):
            row.state = "removed"
            row.private_jwk = row.kek_id = None  # the private key is destroyed
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
            "kek": row.kek_id,
        }
        for row in rows
    ]
