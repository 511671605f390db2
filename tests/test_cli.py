"""The operator CLI, as the interface contract in DESIGN.md defines it."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from idp.cli import main
from idp.db import db
from idp.keys import generate_key
from idp.models import Client, Member


def _run(config, *args):
    return CliRunner().invoke(main, ["--config", str(config), *args], obj={})


@pytest.fixture
def fresh_config(tmp_path):
    """A config pointing at an empty instance and key folder, as on a new machine."""
    path = tmp_path / "fresh.toml"
    path.write_text(
        f'[server]\ninstance_dir = "{tmp_path / "instance"}"\n'
        f'[keys]\ndir = "{tmp_path / "keys"}"\n'
        "[passwords]\nargon2_time_cost = 1\nargon2_memory_cost = 1024\n"
    )
    return path


def test_init_creates_schema_and_keys_once(fresh_config, tmp_path):
    result = _run(fresh_config, "init")
    assert result.exit_code == 0, result.output
    assert "4 created in the database" in result.output
    assert not (tmp_path / "keys").exists()  # private keys live sealed in the database only
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'instance' / 'idp.sqlite3'}")
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert {"members", "clients", "authorization_codes", "alembic_version"} <= tables

    again = _run(fresh_config, "init")
    assert again.exit_code == 0 and "0 created" in again.output
    states = json.loads(_run(fresh_config, "keys", "list", "--json").output)
    assert sorted((k["alg"], k["state"]) for k in states) == [
        ("ES256", "active"),
        ("ES256", "next"),
        ("RS256", "active"),
        ("RS256", "next"),
    ]


def test_members_create_and_sign_in(cli, app, actions):
    result = cli(
        "members", "create", "--membership-number", "22233344455", "--nik", "3201014506920003",
        "--name", "Dewi Lestari", "--birthdate", "1992-06-05", "--email", "Dewi@Example.id",
        "--password", "sebuah kata sandi panjang", "--phone", "+62 812-1111-2222", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["membership_number"] == "22233344455" and out["online_access"] is True
    with app.app_context():
        member = db.session.scalar(
            sa.select(Member).where(Member.membership_number == "22233344455")
        )
        assert member.email == "dewi@example.id"
        assert member.phone == "+6281211112222"
        assert member.nik_last4 == "0003"
        assert "3201014506920003" not in (member.nik_hash, member.password_hash)
    assert actions.sign_in("dewi@example.id", "sebuah kata sandi panjang").status_code == 302


def test_members_create_without_password_creates_record_only(cli, actions):
    result = cli(
        "members", "create", "--membership-number", "22233344455", "--nik", "3201014506920003",
        "--name", "Dewi Lestari", "--birthdate", "1992-06-05", "--email", "dewi@example.id",
        "--json",
    )  # fmt: skip
    assert json.loads(result.output)["online_access"] is False
    assert actions.sign_in("dewi@example.id", "anything at all here").status_code == 400


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--nik": "123"}, "16 digits"),
        ({"--nik": "0000001506920003"}, "region"),
        ({"--nik": "3201011506920003"}, "date of birth"),
        ({"--birthdate": "05-06-1992"}, "YYYY-MM-DD"),
        ({"--email": "not-an-email"}, "email"),
        ({"--phone": "12345"}, "phone"),
        ({"--membership-number": "x"}, "membership number"),
    ],
)
def test_members_create_refuses_bad_input_and_stores_nothing(cli, app, change, message):
    args = {
        "--membership-number": "22233344455",
        "--nik": "3201014506920003",
        "--name": "Dewi Lestari",
        "--birthdate": "1992-06-05",
        "--email": "dewi@example.id",
    } | change
    result = cli("members", "create", *[x for pair in args.items() for x in pair])
    assert result.exit_code != 0
    assert message.lower() in result.output.lower()
    with app.app_context():
        assert db.session.query(Member).count() == 0


def test_members_create_refuses_duplicates(cli, actions):
    actions.create_member()
    result = cli(
        "members", "create", "--membership-number", "12345678901", "--nik", "3201014506920003",
        "--name", "Dewi", "--birthdate", "1992-06-05", "--email", "other@example.id",
    )  # fmt: skip
    assert result.exit_code != 0 and "exists" in result.output


def test_members_import_is_all_or_nothing(cli, app, tmp_path):
    header = "membership_number,nik,name,birthdate,email,phone,employer\n"
    good = "22233344455,3201014506920003,Dewi Lestari,1992-06-05,dewi@example.id,,PT Maju\n"
    bad = "33344455566,123,Budi,1990-01-01,,,\n"
    (tmp_path / "bad.csv").write_text(header + good + bad)
    result = cli("members", "import", str(tmp_path / "bad.csv"))
    assert result.exit_code != 0 and "line 3" in result.output
    with app.app_context():
        assert db.session.query(Member).count() == 0
    (tmp_path / "good.csv").write_text(header + good)
    assert cli("members", "import", str(tmp_path / "good.csv"), "--json").exit_code == 0
    with app.app_context():
        assert db.session.query(Member).one().employer_name == "PT Maju"


def test_clients_create_prints_secret_once_and_stores_it_hashed(cli, app):
    result = cli(
        "clients", "create", "--name", "Portal Mitra", "--redirect-uri", "https://mitra.example.id/cb",
        "--redirect-uri", "http://127.0.0.1:8080/cb", "--scope", "openid profile",
        "--post-logout-redirect-uri", "https://mitra.example.id/", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["client_id"] and len(out["client_secret"]) >= 32
    with app.app_context():
        stored = db.session.scalar(sa.select(Client).where(Client.client_id == out["client_id"]))
        assert stored.client_secret_hash != out["client_secret"]
        assert stored.check_client_secret(out["client_secret"])
        assert stored.redirect_uris == ["https://mitra.example.id/cb", "http://127.0.0.1:8080/cb"]
    listed = json.loads(cli("clients", "list", "--json").output)
    assert [c["client_id"] for c in listed] == [out["client_id"]]
    assert out["client_secret"] not in cli("clients", "list", "--json").output


def test_public_first_party_client(cli):
    result = cli(
        "clients", "create", "--name", "App", "--redirect-uri", "https://app.example.id/cb",
        "--public", "--first-party", "--json",
    )  # fmt: skip
    out = json.loads(result.output)
    assert out["client_secret"] is None
    listed = json.loads(cli("clients", "list", "--json").output)[0]
    assert listed["public"] is True and listed["first_party"] is True


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://mitra.example.id/cb", "https"),
        ("https://mitra.example.id/cb#frag", "fragment"),
        ("/relative", "absolute"),
    ],
)
def test_clients_create_refuses_bad_redirect_uris(cli, app, uri, message):
    result = cli("clients", "create", "--name", "X", "--redirect-uri", uri)
    assert result.exit_code != 0
    assert "invalid_redirect_uri" in result.output and message in result.output
    with app.app_context():
        assert db.session.query(Client).count() == 0


def test_clients_create_refuses_unknown_scope(cli):
    result = cli(
        "clients", "create", "--name", "X", "--redirect-uri", "https://x.example.id/cb",
        "--scope", "openid nik",
    )  # fmt: skip
    assert result.exit_code != 0 and "invalid_client_metadata" in result.output


def test_demo_seeds_member_and_client_and_is_repeatable(cli, actions):
    first = json.loads(cli("demo", "--json").output)
    second = json.loads(cli("demo", "--json").output)
    assert first["client"]["client_id"] == second["client"]["client_id"] == "benefits-demo"
    member = second["member"]
    assert actions.sign_in(member["email"], member["password"]).status_code == 302


def test_demo_with_the_benefits_keys_registers_a_fapi2_client(cli, app, tmp_path):
    from joserfc.jwk import ECKey

    public = ECKey.generate_key("P-256", parameters={"kid": "b1"}).as_dict(private=False)
    out = json.loads(
        cli("demo", "--json", "--jwks", _jwks_file(tmp_path, {"keys": [public]})).output
    )
    assert out["client"] == {"client_id": "benefits-demo", "client_secret": None}
    with app.app_context():
        stored = db.session.scalar(sa.select(Client).where(Client.client_id == "benefits-demo"))
        assert stored.profile == "fapi2" and stored.token_endpoint_auth_method == "private_key_jwt"
        assert stored.id_token_signed_response_alg == "ES256"


def test_keys_list_shows_public_information(cli):
    result = cli("keys", "list", "--json")
    rows = json.loads(result.output)
    assert {r["alg"] for r in rows} == {"RS256", "ES256"}
    expected = {"kid", "alg", "state", "published", "created", "activated", "retired", "expires"}
    expected.add("kek")  # which KEK seals it: an id, not the key
    assert all(set(r) == expected for r in rows)


def test_unknown_config_key_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[server]\nisuer = "https://sso.example.id"\n')
    result = _run(path, "keys", "list")
    assert result.exit_code != 0
    assert "[server] isuer" in result.output


def test_serve_refuses_without_keys(tmp_path):
    path = tmp_path / "nokeys.toml"
    path.write_text(
        f'[keys]\ndir = "{tmp_path / "empty"}"\n[server]\ninstance_dir = "{tmp_path}"\n'
    )
    result = _run(path, "serve", "--port", "0")
    assert result.exit_code != 0 and "idp init" in result.output


def test_world_readable_legacy_key_file_is_not_moved(cli, make_config, tmp_path):
    kid = generate_key(tmp_path / "keys", "RS256")
    key = tmp_path / "keys" / f"{kid}.json"
    key.chmod(0o644)
    result = cli("init")
    assert result.exit_code != 0 and "chmod 600" in result.output
    assert key.exists()


# -- client keys and security profiles (private_key_jwt, PAR, DPoP, FAPI 2.0) ---------------


def _jwks_file(tmp_path, document) -> str:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return str(path)


def test_clients_create_with_jwks_uses_private_key_jwt(cli, app, tmp_path):
    from joserfc.jwk import ECKey

    public = ECKey.generate_key("P-256", parameters={"kid": "k1"}).as_dict(private=False)
    result = cli(
        "clients", "create", "--name", "Bank", "--redirect-uri", "https://bank.example.id/cb",
        "--jwks", _jwks_file(tmp_path, {"keys": [public]}), "--require-par", "--dpop", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["client_secret"] is None
    assert out["token_endpoint_auth_method"] == "private_key_jwt"
    assert out["require_pushed_authorization_requests"] and out["dpop_bound_access_tokens"]
    with app.app_context():
        stored = db.session.scalar(sa.select(Client).where(Client.client_id == out["client_id"]))
        assert stored.jwks == {"keys": [public]} and stored.client_secret_hash is None


def test_clients_create_with_jwks_uri(cli):
    result = cli(
        "clients", "create", "--name", "Bank", "--redirect-uri", "https://bank.example.id/cb",
        "--jwks-uri", "https://bank.example.id/jwks.json", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["token_endpoint_auth_method"] == "private_key_jwt"


def test_clients_create_fapi2_profile(cli, tmp_path):
    from joserfc.jwk import ECKey

    public = ECKey.generate_key("P-256", parameters={"kid": "k1"}).as_dict(private=False)
    result = cli(
        "clients", "create", "--name", "Bank", "--redirect-uri", "https://bank.example.id/cb",
        "--jwks", _jwks_file(tmp_path, {"keys": [public]}), "--profile", "fapi2", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["profile"] == "fapi2"
    assert out["require_pushed_authorization_requests"] and out["dpop_bound_access_tokens"]
    # FAPI 2.0 §5.4.1: every signature ES256 or PS256, access tokens included.
    assert out["id_token_alg"] == out["access_token_alg"] == "ES256"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "fapi2"], "private_key_jwt"),
        (["--jwks", "NOT-JSON"], "is not JSON"),
        (["--jwks", {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}], "invalid_client_metadata"),
        (["--jwks-uri", "http://bank.example.id/jwks"], "https"),
        (["--jwks", {"keys": []}, "--jwks-uri", "https://bank.example.id/j"], "both"),
        (["--jwks", {"keys": []}, "--profile", "fapi2", "--id-token-alg", "RS256"], "ES256"),
        (
            ["--jwks", {"keys": []}, "--profile", "fapi2", "--access-token-alg", "RS256"],
            "access tokens with ES256",
        ),
    ],
    ids=[
        "fapi2-without-keys",
        "not-json",
        "secret-key",
        "http-uri",
        "both",
        "fapi2-rs256",
        "fapi2-rs256-access-tokens",
    ],  # fmt: skip
)
def test_clients_create_refuses_bad_keys(cli, app, tmp_path, args, message):
    from joserfc.jwk import ECKey

    public = ECKey.generate_key("P-256").as_dict(private=False)
    argv = []
    for arg in args:
        if isinstance(arg, dict):
            arg = _jwks_file(tmp_path, arg if arg["keys"] else {"keys": [public]})
        elif arg == "NOT-JSON":
            arg = _jwks_file(tmp_path, "{not json")
        argv.append(arg)
    result = cli("clients", "create", "--name", "X", "--redirect-uri", "https://x.example.id/cb",
                 *argv)  # fmt: skip
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert db.session.query(Client).count() == 0
