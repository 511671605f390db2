"""The `benefits` command: init, serve, jwks, seed-demo, ledger import."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from .config import ConfigError, load_settings
from .seed import DEMO_MEMBERSHIP_NUMBER


@contextmanager
def _app_context(ctx: click.Context) -> Iterator:
    """Run a command inside the app, closing its database connections afterwards."""
    from .app import create_app
    from .db import db

    try:
        app = create_app(load_settings(ctx.obj.get("config")))
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


@click.group()
@click.option("--config", type=click.Path(dir_okay=False), help="TOML settings file.")
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """Operate the benefits app."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the database tables, or bring an earlier version's up to date."""
    from .db import db
    from .schema import upgrade

    with _app_context(ctx) as app:
        url = make_url(str(db.engine.url))
        if url.get_backend_name() == "sqlite" and url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        for change in upgrade():
            click.echo(f"upgraded: {change}")
        click.echo(f"database ready: {url.render_as_string(hide_password=True)}")
        conf = app.extensions["benefits.settings"]
        if conf.oidc.key_file and not conf.oidc_key_path.exists():
            from .pop import generate_key_file

            generate_key_file(conf.oidc_key_path)
            click.echo(f"client key created: {conf.oidc_key_path} (register it: benefits jwks)")


@main.command()
@click.pass_context
def jwks(ctx: click.Context) -> None:
    """Print the public JWK Set of [oidc] key_file, to register with `idp clients create --jwks`."""
    from .pop import KeyFileError, load_key_file, public_jwks

    with _app_context(ctx) as app:
        conf = app.extensions["benefits.settings"]
        if not conf.oidc.key_file:
            raise click.ClickException("[oidc] key_file is not set: this app uses a secret")
        try:
            key = load_key_file(conf.oidc_key_path)
        except KeyFileError as error:
            raise click.ClickException(str(error)) from error
    click.echo(json.dumps(public_jwks(key), indent=2))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, type=int, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the benefits app with gunicorn."""
    from .db import db
    from .wsgi_server import serve as run

    with _app_context(ctx) as app:
        conf = app.extensions["benefits.settings"]
        if not (conf.oidc.client_secret or conf.oidc.key_file):
            raise click.ClickException(
                "[oidc] client_secret and key_file are empty: members could not sign in"
            )
        try:
            ready = inspect(db.engine).has_table("browser_sessions")
        except DBAPIError:
            ready = False
        if not ready:
            raise click.ClickException("the database is not initialised: run `benefits init`")
    run(app, host=host, port=port, workers=conf.server.workers, threads=conf.server.threads)


@main.command("seed-demo")
@click.option("--membership-number", default=DEMO_MEMBERSHIP_NUMBER, show_default=True)
@click.pass_context
def seed_demo(ctx: click.Context, membership_number: str) -> None:
    """Give a member a deterministic demo ledger (replacing theirs)."""
    from .clock import utcnow
    from .db import db
    from .seed import seed_demo_ledger

    with _app_context(ctx):
        months = seed_demo_ledger(membership_number, utcnow())
        db.session.commit()
    click.echo(f"demo ledger for {membership_number}: {months} months of contributions")


@main.group()
def ledger() -> None:
    """Feed the contribution ledger."""


@ledger.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def ledger_import(ctx: click.Context, file: str) -> None:
    """Import contribution records from a payment system's CSV export: all rows or none."""
    from .db import db
    from .ledger_import import LedgerImportError, import_csv

    with _app_context(ctx):
        try:
            with open(file, encoding="utf-8-sig", newline="") as handle:
                result = import_csv(handle)
        except LedgerImportError as error:
            db.session.rollback()
            for line in error.errors:
                click.echo(f"{file}: {line}", err=True)
            raise click.ClickException(
                f"{file}: nothing imported ({len(error.errors)} errors)"
            ) from None
        db.session.commit()
    click.echo(f"{file}: {result.added} added, {result.updated} updated, "
               f"{result.unchanged} unchanged")  # fmt: skip
