"""The `idp` operator command: init, serve, demo, clients, members, keys, users, employers."""

from __future__ import annotations

import csv
import json
from datetime import date

import click

from .cli_common import _app, _app_context, _emit, _settings  # noqa: F401 (shared helpers)

DEMO_MEMBER = {
    "membership_number": "12345678901",
    "nik": "3174051507900001",
    "name": "Siti Rahayu",
    "birthdate": date(1990, 7, 15),
    "email": "siti@example.id",
    "phone": "081234567890",
    "employer_name": "PT Sinar Jaya",
    "password": "kopi-susu-pagi-hari",
}
DEMO_CLIENT_ID = "benefits-demo"
DEMO_RP = "http://127.0.0.1:5001"


@click.group()
@click.option("--config", "config", type=click.Path(dir_okay=False), help="TOML settings file.")
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """Operate the identity provider."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the database schema; ensure an active and a next key per algorithm."""
    from .db import upgrade
    from .keyring import initialise_keys

    conf = _settings(ctx)
    conf.instance_path.mkdir(parents=True, exist_ok=True)
    upgrade(conf.database_url)
    click.echo(f"database ready: {conf.database_url.split('@')[-1]}")
    from .keys import KeyStoreError

    with _app_context(ctx):
        try:
            outcome = initialise_keys()
        except KeyStoreError as error:
            raise click.ClickException(f"{error}; no key was moved") from error
    click.echo(f"signing keys: {len(outcome['created'])} created in the database")
    if outcome["moved"]:
        click.echo(f"signing keys: {len(outcome['moved'])} moved from {conf.keys_path} into the"
                   " database (sealed with the KEK) and their files deleted")  # fmt: skip


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the identity provider ([server] engine: granian or gunicorn)."""
    import os
    import sys
    import tempfile

    from sqlalchemy import text as sa_text
    from sqlalchemy.exc import DBAPIError

    from .db import db
    from .logging_setup import configure, logging_config

    conf = _settings(ctx)
    # prometheus-client multiprocess mode: decided when it is first imported, so set it first.
    if "prometheus_client" not in sys.modules:
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="idp-metrics-"))
    configure(conf)

    from .extensions import keystore
    from .keys import KeyStoreError
    from .wsgi_server import serve as run

    with _app_context(ctx) as app:
        try:
            ready = "RS256" in keystore().algorithms
        except DBAPIError as error:
            db.session.rollback()
            try:
                db.session.execute(sa_text("SELECT 1"))
            except DBAPIError as unreachable:
                reason = str(unreachable.orig or unreachable).strip().splitlines()[0]
                raise click.ClickException(f"the database cannot be reached: {reason}") from error
            raise click.ClickException("the database is not initialised: run `idp init`") from error
        except KeyStoreError as error:
            raise click.ClickException(str(error)) from error
        if not ready:
            raise click.ClickException("no active RS256 signing key: run `idp init` first")
    app.config["IDP_BACKGROUND_SENDER"] = True  # started in each worker, after the fork
    run(app, engine=conf.server.engine, host=host, port=port, workers=conf.server.workers,
        threads=conf.server.threads,
        logconfig=logging_config(conf))  # fmt: skip


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--benefits-url", default=DEMO_RP, show_default=True,
              help="Where the demo benefits app is served (its redirect URIs).")  # fmt: skip
@click.option("--jwks", "jwks_file", type=click.File("r"),
              help="The benefits app's public keys: register it under the FAPI 2.0 profile "
              "(private_key_jwt, PAR, DPoP) instead of with a secret.")  # fmt: skip
@click.pass_context
def demo(ctx: click.Context, as_json: bool, benefits_url: str, jwks_file) -> None:
    """Seed a demo member and the benefits demo client; print their credentials."""
    from .auth.passwords import hash_password
    from .db import db
    from .members import NewMember, create_member
    from .models import Client
    from .models.identity import find_by_identifier
    from .oidc.clients import ClientMetadataError, NewClient, register_client

    rp = benefits_url.rstrip("/")
    with _app_context(ctx) as app:
        info = dict(DEMO_MEMBER)
        password = info.pop("password")
        member = find_by_identifier(info["membership_number"])
        if member is None:
            member = create_member(NewMember(**info), password_hash=hash_password(password))
        client = db.session.scalar(db.select(Client).where(Client.client_id == DEMO_CLIENT_ID))
        if client is not None:
            db.session.delete(client)
            db.session.flush()
        keyed = {}
        if jwks_file is not None:
            keyed = {
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": _read_jwks(jwks_file),
                "profile": "fapi2",
                "id_token_signed_response_alg": "ES256",
            }
        try:
            client, secret = register_client(
                NewClient(
                    name="Layanan Manfaat (demo)",
                    redirect_uris=[f"{rp}/auth/callback"],
                    scope="openid profile email phone address membership roles",
                    first_party=True,
                    post_logout_redirect_uris=[f"{rp}/"],
                    backchannel_logout_uri=f"{rp}/auth/backchannel-logout",
                    **keyed,
                )
            )
        except ClientMetadataError as error:
            raise click.ClickException(f"{error.error}: {error}") from error
        client.client_id = DEMO_CLIENT_ID
        db.session.commit()
        out = {
            "member": {
                "membership_number": member.membership_number,
                "email": member.email,
                "password": password,
            },
            "client": {"client_id": client.client_id, "client_secret": secret},
            "issuer": app.extensions["idp.settings"].server.issuer,
        }
    _emit(
        out,
        as_json,
        f"Demo member: {out['member']['email']} or {out['member']['membership_number']}"
        f" / password: {password}\n"
        f"Demo client: {client.client_id} / secret: {secret}",
    )


@main.group()
def clients() -> None:
    """Manage relying-party clients."""


@clients.command("create")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--scope", default="openid", show_default=True)
@click.option(
    "--grant-type",
    "grant_types",
    multiple=True,
    type=click.Choice(["authorization_code", "refresh_token", "client_credentials"]),
    help="Repeatable. Default: authorization_code and refresh_token.",
)
@click.option("--public", is_flag=True, help="No secret; PKCE required (SPAs, mobile apps).")
@click.option("--first-party", is_flag=True, help="Our own service: no consent screen.")
@click.option("--require-mfa", is_flag=True, help="Members need a second factor for it.")
@click.option("--post-logout-redirect-uri", "logout_uris", multiple=True)
@click.option("--backchannel-logout-uri")
@click.option("--id-token-alg", default=None, help="Default: RS256, or ES256 with --profile fapi2.")
@click.option(
    "--access-token-alg",
    help="Default: [tokens] access_token_alg (RS256), or ES256 with --profile fapi2.",
)
@click.option(
    "--jwks",
    "jwks_file",
    type=click.File("r"),
    help="A JSON file with the client's public keys (JWK Set): private_key_jwt.",
)
@click.option("--jwks-uri", help="Where the client publishes its public keys: private_key_jwt.")
@click.option("--require-par", is_flag=True, help="Authorization requests only through /par.")
@click.option("--dpop", is_flag=True, help="Access tokens only bound to a DPoP key.")
@click.option(
    "--profile",
    type=click.Choice(["fapi2"]),
    help="Hold the client to the FAPI 2.0 Security Profile (needs --jwks/--jwks-uri).",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def clients_create(ctx, name, redirect_uris, scope, grant_types, public, first_party, require_mfa,
                   logout_uris, backchannel_logout_uri, id_token_alg, access_token_alg, jwks_file,
                   jwks_uri, require_par, dpop, profile, as_json) -> None:  # fmt: skip
    """Register a client; its secret is printed once and stored only hashed.

    With --jwks or --jwks-uri the client authenticates with private_key_jwt (no secret).
    """
    from .db import db
    from .oidc.clients import ClientMetadataError, NewClient, register_client

    jwks = _read_jwks(jwks_file) if jwks_file else None
    keyed = jwks is not None or jwks_uri is not None
    with _app_context(ctx):
        try:
            client, secret = register_client(
                NewClient(
                    name=name,
                    redirect_uris=list(redirect_uris),
                    scope=scope,
                    grant_types=list(grant_types) or ["authorization_code", "refresh_token"],
                    public=public,
                    first_party=first_party,
                    require_mfa=require_mfa,
                    post_logout_redirect_uris=list(logout_uris),
                    backchannel_logout_uri=backchannel_logout_uri,
                    id_token_signed_response_alg=id_token_alg
                    or ("ES256" if profile == "fapi2" else "RS256"),
                    access_token_alg=access_token_alg,
                    token_endpoint_auth_method="private_key_jwt" if keyed else None,
                    jwks=jwks,
                    jwks_uri=jwks_uri,
                    require_pushed_authorization_requests=require_par,
                    dpop_bound_access_tokens=dpop,
                    profile=profile,
                )
            )
        except ClientMetadataError as error:
            raise click.ClickException(f"{error.error}: {error}") from error
        db.session.commit()
        out = _client_summary(client) | {"client_secret": secret}
    _emit(out, as_json, f"client_id: {out['client_id']}\nclient_secret: {secret or '(public)'}")
    if secret and not as_json:
        click.echo("The secret is shown only now; store it safely.", err=True)


def _read_jwks(file) -> dict:
    try:
        document = json.load(file)
    except ValueError as error:
        raise click.ClickException(f"--jwks: {file.name} is not JSON") from error
    if not isinstance(document, dict):
        raise click.ClickException(f"--jwks: {file.name} is not a JWK Set object")
    return document


def _client_summary(client) -> dict:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "redirect_uris": client.redirect_uris,
        "scope": client.scope,
        "grant_types": client.grant_types,
        "public": client.is_public,
        "first_party": client.first_party,
        "require_mfa": client.require_mfa,
        "id_token_alg": client.id_token_signed_response_alg,
        "access_token_alg": client.access_token_alg,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "require_pushed_authorization_requests": client.require_pushed_authorization_requests,
        "dpop_bound_access_tokens": client.dpop_bound_access_tokens,
        "profile": client.profile,
        "created_at": client.created_at.isoformat(),
    }


@clients.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def clients_list(ctx: click.Context, as_json: bool) -> None:
    """List registered clients (never their secrets)."""
    from .db import db
    from .models import Client

    with _app_context(ctx):
        rows = [_client_summary(c) for c in db.session.scalars(db.select(Client).order_by("id"))]
    _emit(rows, as_json, "\n".join(f"{r['client_id']}\t{r['name']}" for r in rows))


@clients.command("token")
@click.option("--uses", default=1, show_default=True, type=click.IntRange(min=1),
              help="How many clients it may register.")  # fmt: skip
@click.option("--expires-in", "expires_in", type=click.IntRange(min=1),
              help="Seconds it stays valid (default: [registration] setting).")  # fmt: skip
@click.option("--note", default="", help="Who it is for (kept with it, up to 200 characters).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def clients_token(ctx, uses: int, expires_in: int | None, note: str, as_json: bool) -> None:
    """Mint an initial access token for dynamic registration (RFC 7591 §3); shown once."""
    from .db import db
    from .oidc.registration import mint_initial_access_token

    if len(note) > 200:
        raise click.BadParameter("at most 200 characters", param_hint="--note")
    with _app_context(ctx) as app:
        conf = app.extensions["idp.settings"].registration
        lifetime = expires_in or conf.initial_access_token_lifetime
        token = mint_initial_access_token(uses, lifetime, note)
        db.session.commit()
    out = {"initial_access_token": token, "uses": uses, "expires_in": lifetime, "note": note}
    _emit(out, as_json, f"initial_access_token: {token}")
    if not as_json:
        click.echo(
            f"Good for {uses} registration(s) within {lifetime} s; shown only now.", err=True
        )


@main.group()
def members() -> None:
    """Manage the membership registry."""


def _parse_birthdate(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--birthdate") from error


@members.command("create")
@click.option("--membership-number", help="From the existing registry; without it one is issued.")
@click.option("--nik", required=True)
@click.option("--name", required=True)
@click.option("--birthdate", required=True, help="YYYY-MM-DD")
@click.option("--email", required=True)
@click.option("--password", help="Without it only the membership record is created.")
@click.option("--phone")
@click.option("--employer")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def members_create(ctx, membership_number, nik, name, birthdate, email, password, phone,
                   employer, as_json) -> None:  # fmt: skip
    """Register a member; with --password the online account is active at once."""
    from .auth.passwords import hash_password
    from .db import db
    from .members import MemberError, NewMember, create_member

    born = _parse_birthdate(birthdate)
    with _app_context(ctx):
        data = NewMember(membership_number, nik, name, born, email, phone, employer)
        try:
            member = create_member(
                data, password_hash=hash_password(password) if password else None
            )
        except MemberError as error:
            raise click.ClickException(f"{error.field}: {error.message}") from error
        db.session.commit()
        out = {
            "membership_number": member.membership_number,
            "sub": member.subject,
            "online_access": member.has_online_access,
        }
    _emit(out, as_json, f"member {out['membership_number']} created (sub {out['sub']})")


@members.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def members_import(ctx: click.Context, csv_file, as_json: bool) -> None:
    """Import membership records from CSV; all rows or none. An empty membership_number
    gets an issued one."""
    from .db import db
    from .members import MemberError, NewMember, create_member

    expected = ["membership_number", "nik", "name", "birthdate", "email", "phone", "employer"]
    reader = csv.DictReader(csv_file)
    if reader.fieldnames != expected:
        raise click.ClickException(f"the header must be: {','.join(expected)}")
    with _app_context(ctx):
        count = 0
        for line, row in enumerate(reader, start=2):
            try:
                born = date.fromisoformat(row["birthdate"])
                create_member(
                    NewMember(row["membership_number"] or None, row["nik"], row["name"], born,
                              row["email"] or None, row["phone"] or None, row["employer"] or None)
                )  # fmt: skip
                db.session.flush()
            except (MemberError, ValueError) as error:
                db.session.rollback()
                message = error.message if isinstance(error, MemberError) else str(error)
                raise click.ClickException(f"line {line}: {message}; nothing imported") from error
            count += 1
        db.session.commit()
    _emit({"imported": count}, as_json, f"{count} members imported")


@main.group()
def keys() -> None:
    """Manage signing keys: list, rotate, retire, prune, rewrap."""


def _key_operation(ctx: click.Context, operation, as_json: bool, describe) -> None:
    from .keyring import KeyLifecycleError

    with _app_context(ctx):
        try:
            result = operation()
        except KeyLifecycleError as error:
            raise click.ClickException(str(error)) from error
    _emit(result, as_json, describe(result))


@keys.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def keys_list(ctx: click.Context, as_json: bool) -> None:
    """List signing keys and their states (public information only)."""
    from .keyring import list_keys

    def describe(rows):
        return "\n".join(
            f"{r['kid']}  {r['alg']:6} {r['state']:8} created {r['created']}"
            + (f"  expires {r['expires']}" if r["expires"] else "")
            for r in rows
        )

    _key_operation(ctx, list_keys, as_json, describe)


@keys.command("rotate")
@click.option("--alg", help="Only this algorithm (default: every configured one).")
@click.option("--force", is_flag=True, help="Activate a next key younger than the JWKS max-age.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def keys_rotate(ctx: click.Context, alg: str | None, force: bool, as_json: bool) -> None:
    """Promote next to active, retire the old active key, publish a new next key."""
    from .keyring import rotate_keys

    def describe(results):
        return "\n".join(
            f"{r['alg']}: active {r['active']}, retired {r['retired']}, next {r['next']}"
            for r in results
        )

    _key_operation(ctx, lambda: rotate_keys(alg, force=force), as_json, describe)


@keys.command("retire")
@click.argument("kid")
@click.option("--keep-publishing", is_flag=True, help="Keep it in the JWKS until it expires.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def keys_retire(ctx: click.Context, kid: str, keep_publishing: bool, as_json: bool) -> None:
    """Emergency: stop signing with KID at once (unpublished unless --keep-publishing)."""
    from .keyring import retire_key

    def describe(result):
        return f"retired {result['retired']}; now signing with {result['active'] or 'unchanged'}"

    _key_operation(ctx, lambda: retire_key(kid, keep_publishing=keep_publishing), as_json, describe)


@keys.command("rewrap")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def keys_rewrap(ctx: click.Context, as_json: bool) -> None:
    """Re-encrypt every private key with the first [keys] encryption_keys entry."""
    from .keyring import rewrap_keys

    def describe(result):
        count = len(result["rewrapped"])
        return f"{count} of {result['keys']} keys re-encrypted with KEK {result['kek']}"

    _key_operation(ctx, rewrap_keys, as_json, describe)


@keys.command("new-kek")
def keys_new_kek() -> None:
    """Print a fresh key-encryption key for [keys] encryption_keys (nothing is stored)."""
    from .kek import new_kek

    click.echo(new_kek())


@keys.command("prune")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def keys_prune(ctx: click.Context, as_json: bool) -> None:
    """Delete retired keys whose tokens have all expired."""
    from .keyring import prune_keys

    _key_operation(ctx, prune_keys, as_json, lambda kids: f"removed {len(kids)} keys")


@main.group()
def users() -> None:
    """Help members with their online accounts."""


@users.command("unlock")
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def users_unlock(ctx: click.Context, identifier: str, as_json: bool) -> None:
    """Lift a sign-in lock on IDENTIFIER (email or membership number) and its member."""
    from .auth.lockout import unlock_identifier
    from .auth.signin import normalize_identifier
    from .db import db

    normalized = normalize_identifier(identifier)
    if not normalized:
        raise click.BadParameter("give an email or membership number", param_hint="IDENTIFIER")
    with _app_context(ctx):
        was_locked = unlock_identifier(normalized, reason="operator")
        db.session.commit()
    result = {"identifier": normalized, "was_locked": was_locked}
    _emit(result, as_json, f"{normalized}: " + ("unlocked" if was_locked else "was not locked"))


@users.command("signout")
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def users_signout(ctx: click.Context, identifier: str, as_json: bool) -> None:
    """End every session and grant of a member (offline ones too) and tell their clients."""
    from .db import db
    from .models.identity import find_by_identifier
    from .oidc.backchannel import deliver_due
    from .sso import end_member_sessions

    with _app_context(ctx):
        member = find_by_identifier(identifier)
        if member is None:
            raise click.ClickException(f"no member with email or membership number {identifier!r}")
        ended = end_member_sessions(member.id, "operator", all_grants=True)
        db.session.commit()
        # One attempt now; failures stay queued for the servers' background sender.
        notified = deliver_due()
        result = {"membership_number": member.membership_number, "sessions_ended": ended,
                  "logout_deliveries_attempted": notified}  # fmt: skip
    _emit(result, as_json, f"{result['membership_number']}: {ended} session(s) ended")


def _change_role(ctx: click.Context, identifier: str, role: str, as_json: bool, change) -> None:
    from .roles import RoleError

    with _app_context(ctx):
        try:
            result = change(identifier, role)
        except RoleError as error:
            raise click.ClickException(str(error)) from error
    _emit(result, as_json, f"{identifier}: roles {', '.join(result['roles']) or '(none)'}")


@users.command("grant-role")
@click.argument("identifier")
@click.argument("role")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def users_grant_role(ctx: click.Context, identifier: str, role: str, as_json: bool) -> None:
    """Grant ROLE (e.g. claims_officer) to IDENTIFIER; released by the `roles` scope."""
    from .roles import grant_role

    _change_role(ctx, identifier, role, as_json, grant_role)


@users.command("revoke-role")
@click.argument("identifier")
@click.argument("role")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def users_revoke_role(ctx: click.Context, identifier: str, role: str, as_json: bool) -> None:
    """Take ROLE away from IDENTIFIER."""
    from .roles import revoke_role

    _change_role(ctx, identifier, role, as_json, revoke_role)


@main.group()
def employers() -> None:
    """Manage employers and invite their administrators."""


def _employer_summary(employer) -> dict:
    from .employer.employers import administrators

    return {
        "id": employer.id,
        "name": employer.name,
        "registration_number": employer.registration_number,
        "address": employer.address,
        "status": employer.status,
        "admins": [row.member.email for row in administrators(employer.id)],
        "created_at": employer.created_at.isoformat(),
    }


@employers.command("create")
@click.option("--name", required=True)
@click.option("--registration-number", required=True)
@click.option("--address")
@click.option("--admin-email", required=True, help="Invited by email to choose a password.")
@click.option("--admin-name", default="", help="The administrator's name (default: the email).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def employers_create(ctx, name, registration_number, address, admin_email, admin_name,
                     as_json) -> None:  # fmt: skip
    """Register an employer and email its first administrator an invitation."""
    from .db import db
    from .employer.employers import EmployerError, create_employer
    from .employer.invitations import invite_admin, send_invitation

    with _app_context(ctx):
        try:
            employer = create_employer(name, registration_number, address)
            admin, link = invite_admin(employer, admin_email, admin_name)
        except EmployerError as error:
            db.session.rollback()
            raise click.ClickException(f"{error.field}: {error.message}") from error
        db.session.commit()
        sent = send_invitation(employer, admin, link)
        out = _employer_summary(employer) | {"invitation_sent": sent}
    _emit(out, as_json, f"employer {out['id']} {out['name']} created; invited {admin_email}")
    if not sent:
        click.echo("The invitation could not be sent; check [mail] and invite again.", err=True)


@employers.command("invite")
@click.argument("employer_id", type=int)
@click.option("--admin-email", required=True)
@click.option("--admin-name", default="")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def employers_invite(ctx, employer_id: int, admin_email: str, admin_name: str, as_json: bool):
    """Invite another administrator (or send a pending one a new link)."""
    from .db import db
    from .employer.employers import EmployerError
    from .employer.invitations import invite_admin, send_invitation
    from .models import Employer

    with _app_context(ctx):
        employer = db.session.get(Employer, employer_id)
        if employer is None:
            raise click.ClickException(f"no employer with id {employer_id}")
        try:
            admin, link = invite_admin(employer, admin_email, admin_name)
        except EmployerError as error:
            db.session.rollback()
            raise click.ClickException(f"{error.field}: {error.message}") from error
        db.session.commit()
        sent = send_invitation(employer, admin, link)
        out = _employer_summary(employer) | {"invitation_sent": sent}
    _emit(out, as_json, f"invited {admin.email} to administer {out['name']}")


@employers.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def employers_list(ctx: click.Context, as_json: bool) -> None:
    """List employers and their administrators."""
    from .employer.employers import all_employers

    with _app_context(ctx):
        rows = [_employer_summary(e) for e in all_employers()]
    _emit(
        rows,
        as_json,
        "\n".join(f"{r['id']}\t{r['registration_number']}\t{r['name']}" for r in rows),
    )


# Commands kept in their own modules, registered on the groups above.
from . import cli_helpdesk, cli_operations  # noqa: E402

cli_operations.register(main)
cli_helpdesk.register(users)
