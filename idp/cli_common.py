"""Helpers every `idp` command module shares: settings, the app context, output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click

from .config import ConfigError, Settings, load_settings


def _emit(obj, as_json: bool, text: str) -> None:
    click.echo(json.dumps(obj, indent=2, default=str) if as_json else text)


def _settings(ctx: click.Context) -> Settings:
    try:
        return load_settings(ctx.obj.get("config"))
    except ConfigError as error:
        raise click.ClickException(str(error)) from error


def _app(ctx: click.Context):
    from .app import create_app
    from .keys import KeyStoreError

    try:
        return create_app(_settings(ctx))
    except KeyStoreError as error:
        raise click.ClickException(str(error)) from error


@contextmanager
def _app_context(ctx: click.Context) -> Iterator:
    """Run a command inside the app, closing its database connections afterwards."""
    from .db import db

    app = _app(ctx)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()
