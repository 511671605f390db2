"""Private signing keys live sealed in the shared database, never on a node's disk."""

from __future__ import annotations

import base64
import json
import os

import jwt as pyjwt
import pytest
from sqlalchemy import delete

from idp.db import db
from idp.kek import parse_keks, sealed_with
from idp.keyring import initialise_keys
from idp.keys import generate_key
from idp.models import SigningKey

from .helpers import Actions

KEK_A = base64.urlsafe_b64encode(b"a" * 32).decode()
KEK_B = base64.urlsafe_b64encode(b"b" * 32).decode()
KEK_C = base64.urlsafe_b64encode(b"c" * 32).decode()
PRIVATE = {"d", "p", "q", "dp", "dq", "qi"}


def _rows(app) -> list[SigningKey]:
    with app.app_context():
        rows = db.session.scalars(db.select(SigningKey)).all()
        db.session.expunge_all()
        return rows


def _empty_key_table(app) -> None:
    with app.app_context():
        db.session.execute(delete(SigningKey))
        db.session.commit()


def _signed_kid(actions) -> str:
    member = actions.create_member()
    client_id, secret = actions.create_client(first_party=True)
    actions.sign_in(member["email"])
    return pyjwt.get_unverified_header(actions.tokens(client_id, secret)["id_token"])["kid"]


def test_init_keeps_keys_sealed_in_the_database_only(make_app, make_config, cli, tmp_path):
    app = make_app(keys={"encryption_keys": [KEK_A]})
    _empty_key_table(app)
    config = make_config(keys={"encryption_keys": [KEK_A]})
    result = cli("init", config=config)
    assert result.exit_code == 0, result.output
    rows = _rows(app)
    assert {(r.alg, r.state) for r in rows} == {
        (alg, state) for alg in ("RS256", "ES256") for state in ("active", "next")
    }
    kek = parse_keks([KEK_A])[0]
    for row in rows:
        assert row.kek_id == kek.id == sealed_with(row.private_jwk)
        assert row.private_jwk.count(".") == 4 and '"d"' not in row.private_jwk
    # Nothing private on this node's disk: no key directory, no key file anywhere in its tree.
    assert not (tmp_path / "keys").exists()
    on_disk = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix in (".json", ".pem")]
    assert on_disk == []
    jwks = app.test_client().get("/jwks").get_json()["keys"]
    assert {k["kid"] for k in jwks} == {r.kid for r in rows}
    assert all(not PRIVATE & k.keys() for k in jwks)


def test_init_moves_legacy_key_files_into_the_database(make_app, make_config, cli, clock):
    app = make_app()
    _empty_key_table(app)
    directory = app.extensions["idp.settings"].keys_path
    passphrase = "a legacy passphrase of some length"
    older = generate_key(directory, "RS256", passphrase=passphrase)
    newer = generate_key(directory, "RS256", passphrase=passphrase)
    ec = generate_key(directory, "ES256", passphrase=passphrase)
    os.utime(directory / f"{older}.json", ns=(1_000_000_000 * 10**9,) * 2)
    config = make_config(keys={"passphrase": passphrase})

    result = cli("init", config=config)
    assert result.exit_code == 0, result.output
    assert "3 moved" in result.output
    assert list(directory.glob("*.json")) == []  # the files are gone once the database has them
    states = {r.kid: r.state for r in _rows(app)}
    assert states[newer] == "active" and states[older] == "retired" and states[ec] == "active"
    assert all(r.private_jwk for r in _rows(app))
    # The moved active key signs; the retired one is still published.
    actions = Actions(app, app.test_client())
    assert _signed_kid(actions) == newer
    assert older in {k["kid"] for k in actions.client.get("/jwks").get_json()["keys"]}


def test_init_adds_the_private_part_to_metadata_from_before(make_app, make_config, cli, clock):
    """A database from before keys moved in holds metadata only; the file supplies the key."""
    app = make_app()
    _empty_key_table(app)
    directory = app.extensions["idp.settings"].keys_path
    kid = generate_key(directory, "RS256")
    with app.app_context():
        db.session.add(
            SigningKey(kid=kid, alg="RS256", state="active", published=True,
                       created_at=clock.now(), activated_at=clock.now())
        )  # fmt: skip
        db.session.commit()
    assert cli("init", config=make_config()).exit_code == 0
    row = next(r for r in _rows(app) if r.kid == kid)
    assert row.state == "active" and row.private_jwk
    assert not (directory / f"{kid}.json").exists()


def test_init_refuses_an_unreadable_legacy_file_and_changes_nothing(make_app, make_config, cli):
    app = make_app()
    _empty_key_table(app)
    directory = app.extensions["idp.settings"].keys_path
    kid = generate_key(directory, "RS256", passphrase="the right passphrase here")
    result = cli("init", config=make_config(keys={"passphrase": "a wrong passphrase here"}))
    assert result.exit_code != 0 and "wrong passphrase" in result.output
    assert _rows(app) == [] and (directory / f"{kid}.json").exists()


def test_rewrap_moves_every_key_to_the_first_kek(make_app, make_config, cli):
    app = make_app(keys={"encryption_keys": [KEK_A]})
    _empty_key_table(app)
    with app.app_context():
        initialise_keys()
    active = next(r.kid for r in _rows(app) if (r.alg, r.state) == ("RS256", "active"))
    a, b = (k.id for k in parse_keks([KEK_A, KEK_B]))

    both = make_config(keys={"encryption_keys": [KEK_B, KEK_A]})
    rewrapped = cli("keys", "rewrap", "--json", config=both)
    assert rewrapped.exit_code == 0, rewrapped.output
    outcome = json.loads(rewrapped.output)
    assert outcome["kek"] == b and len(outcome["rewrapped"]) == outcome["keys"] == 4
    assert {r.kek_id for r in _rows(app)} == {b}
    only_b = make_config(keys={"encryption_keys": [KEK_B]})
    listed = json.loads(cli("keys", "list", "--json", config=only_b).output)
    assert {r["kek"] for r in listed} == {b}

    # The old KEK can go: a node with only the new one reads and signs with the same keys.
    node = make_app(keys={"encryption_keys": [KEK_B]})
    assert _signed_kid(Actions(node, node.test_client())) == active
    assert a != b


def test_a_node_without_the_sealing_kek_refuses_to_start(make_app, make_config, cli):
    app = make_app(keys={"encryption_keys": [KEK_A]})
    _empty_key_table(app)
    with app.app_context():
        initialise_keys()
    before = {r.kid: r.private_jwk for r in _rows(app)}
    config = make_config(keys={"encryption_keys": [KEK_C]})
    refused = cli("keys", "rewrap", config=config)
    assert refused.exit_code != 0
    assert parse_keks([KEK_A])[0].id in refused.output
    assert "nothing was re-encrypted" in refused.output
    served = cli("serve", "--port", "1", config=config)
    assert served.exit_code != 0 and "not in [keys] encryption_keys" in served.output
    assert {r.kid: r.private_jwk for r in _rows(app)} == before


def test_new_kek_prints_a_usable_key(cli, make_config):
    made = cli("keys", "new-kek")
    assert made.exit_code == 0
    kek = made.output.strip()
    assert len(base64.urlsafe_b64decode(kek)) == 32
    assert cli("keys", "list", config=make_config(keys={"encryption_keys": [kek]})).exit_code == 0


@pytest.mark.parametrize("value", ["short", "!" * 44])
def test_a_malformed_kek_is_refused_naming_the_key(cli, make_config, value):
    result = cli("keys", "list", config=make_config(keys={"encryption_keys": [value]}))
    assert result.exit_code != 0 and "[keys] encryption_keys" in result.output
