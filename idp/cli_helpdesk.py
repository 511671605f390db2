"""`idp users show | reset-factors | set-email | set-phone | disable | enable` (helpdesk)."""

from __future__ import annotations

import click

from .cli_common import _app_context, _emit


def _helpdesk(ctx: click.Context, identifier: str, operation, as_json: bool, describe) -> None:
    """Run one helpdesk change on a member, then send what it queued (mail, logout tokens)."""
    from .member_support import HelpdeskError, find_member
    from .oidc.backchannel import deliver_due
    from .outbox import flush

    with _app_context(ctx) as app:
        try:
            member = find_member(identifier)
            result = {"membership_number": member.membership_number} | operation(member)
        except HelpdeskError as error:
            raise click.ClickException(str(error)) from error
        if app.extensions["idp.settings"].delivery.mode == "serve":
            flush()  # no serving process may be up to send it soon; workers send their own
        deliver_due()  # one attempt at logout tokens now; failures stay queued
    _emit(result, as_json, describe(result))


_reason = click.option("--reason", default="", help="Why (kept in the audit log, 200 characters).")


def _checked_reason(reason: str) -> str:
    if len(reason) > 200:
        raise click.BadParameter("at most 200 characters", param_hint="--reason")
    return reason


@click.command("show")
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def users_show(ctx: click.Context, identifier: str, as_json: bool) -> None:
    """Show a member's account for the helpdesk (no secrets; the NIK masked)."""
    from .member_support import HelpdeskError, describe, find_member

    with _app_context(ctx):
        try:
            info = describe(find_member(identifier))
        except HelpdeskError as error:
            raise click.ClickException(str(error)) from error
    _emit(info, as_json, "\n".join(f"{key:20} {value}" for key, value in info.items()))


@click.command("reset-factors")
@click.argument("identifier")
@_reason
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def users_reset_factors(ctx: click.Context, identifier: str, reason: str, as_json: bool) -> None:
    """Lost phone: remove every second factor and recovery code; end every session."""
    from .member_support import reset_factors

    reason = _checked_reason(reason)
    _helpdesk(ctx, identifier, lambda m: reset_factors(m, reason), as_json,
              lambda r: f"{r['membership_number']}: {r['second_factors_removed']} second "
                        f"factor(s) removed, {r['sessions_ended']} session(s) ended")  # fmt: skip


@click.command("set-email")
@click.argument("identifier")
@click.argument("email")
@_reason
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def users_set_email(ctx, identifier: str, email: str, reason: str, as_json: bool) -> None:
    """Change a member's email; a confirmation link goes to it, a notice to the old one."""
    from .member_support import set_email

    reason = _checked_reason(reason)
    _helpdesk(ctx, identifier, lambda m: set_email(m, email, reason), as_json,
              lambda r: f"{r['membership_number']}: email {r['email']} (unconfirmed)")  # fmt: skip


@click.command("set-phone")
@click.argument("identifier")
@click.argument("phone")
@_reason
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def users_set_phone(ctx, identifier: str, phone: str, reason: str, as_json: bool) -> None:
    """Change a member's mobile number; the member confirms it by SMS code."""
    from .member_support import set_phone

    reason = _checked_reason(reason)
    _helpdesk(ctx, identifier, lambda m: set_phone(m, phone, reason), as_json,
              lambda r: f"{r['membership_number']}: phone {r['phone']} (unconfirmed)")  # fmt: skip


@click.command("disable")
@click.argument("identifier")
@_reason
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def users_disable(ctx: click.Context, identifier: str, reason: str, as_json: bool) -> None:
    """Suspend online access at once: sessions, tokens and grants end."""
    from .member_support import set_status

    reason = _checked_reason(reason)
    _helpdesk(ctx, identifier, lambda m: set_status(m, "disabled", reason), as_json,
              lambda r: f"{r['membership_number']}: disabled, "
                        f"{r['sessions_ended']} session(s) ended")  # fmt: skip


@click.command("enable")
@click.argument("identifier")
@_reason
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def users_enable(ctx: click.Context, identifier: str, reason: str, as_json: bool) -> None:
    """Restore online access suspended with `idp users disable`."""
    from .member_support import set_status

    reason = _checked_reason(reason)
    _helpdesk(ctx, identifier, lambda m: set_status(m, "active", reason), as_json,
              lambda r: f"{r['membership_number']}: enabled")  # fmt: skip


def register(users: click.Group) -> None:
    for command in (
        users_show,
        users_reset_factors,
        users_set_email,
        users_set_phone,
        users_disable,
        users_enable,
    ):
        users.add_command(command)
