"""Accessors for the per-app objects the factory wires in (settings, keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from .config import Settings
    from .keys import KeyStore


def settings() -> Settings:
    return current_app.extensions["idp.settings"]


def keystore() -> KeyStore:
    """The signing keys in force (re-read from the database when stale)."""
    return current_app.extensions["idp.keys"].current()


def issuer() -> str:
    return settings().server.issuer
