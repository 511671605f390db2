"""`idp worker`, `idp purge` and `idp deliveries`: the background work of a deployment."""

from __future__ import annotations

import click

from .cli_common import _app_context, _emit, _settings


@click.command()
@click.option("--once", is_flag=True, help="Deliver what is due, purge if due, and exit.")
@click.pass_context
def worker(ctx: click.Context, once: bool) -> None:
    """Deliver queued mail, SMS and back-channel logouts, and purge expired rows on schedule."""
    from .logging_setup import configure
    from .worker import run_worker

    configure(_settings(ctx))
    with _app_context(ctx):
        run_worker(once=once)


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def purge(ctx: click.Context, as_json: bool) -> None:
    """Delete expired codes, tokens, sessions, deliveries, throttles and old audit events."""
    from .purge import purge as run_purge

    with _app_context(ctx):
        counts = run_purge()
    _emit(counts, as_json, "\n".join(f"{name}: {count}" for name, count in counts.items()))


@click.group()
def deliveries() -> None:
    """Inspect the mail, SMS and back-channel logout queues."""


@deliveries.command("list")
@click.option("--failed", is_flag=True, help="Only deliveries that gave up.")
@click.option("--pending", is_flag=True, help="Only deliveries still to be tried.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def deliveries_list(ctx, failed: bool, pending: bool, limit: int, as_json: bool) -> None:
    """Recent deliveries, newest first (never a message's content)."""
    from .queues import list_deliveries

    if failed and pending:
        raise click.BadParameter("use --failed or --pending, not both", param_hint="--failed")
    state = "failed" if failed else "pending" if pending else None
    with _app_context(ctx):
        rows = list_deliveries(state, limit)
    _emit(rows, as_json, "\n".join(
        f"{r['channel']:11} {r['id']:>6} {r['state']:9} attempts {r['attempts']}  "
        f"created {r['created']}" + (f"  last error: {r['last_error']}" if r["last_error"] else "")
        for r in rows
    ) or "no deliveries")  # fmt: skip


def register(main: click.Group) -> None:
    for command in (worker, purge, deliveries):
        main.add_command(command)
