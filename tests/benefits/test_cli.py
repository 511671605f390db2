"""The `benefits` command: init, seed-demo, and serve's refusals."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from clients.benefits.cli import main


@pytest.fixture
def run(tmp_path):
    database = tmp_path / "instance" / "benefits.sqlite3"
    config = tmp_path / "benefits.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{database}"\n')

    def invoke(*args: str, **env: str):
        return CliRunner().invoke(main, ["--config", str(config), *args], obj={}, env=env)

    invoke.database = database
    return invoke


def test_init_then_seed_demo(run):
    done = run("init")
    assert done.exit_code == 0, done.output
    assert run.database.exists()
    seeded = run("seed-demo", "--membership-number", "11122233344")
    assert seeded.exit_code == 0, seeded.output
    assert "11122233344: 60 months" in seeded.output
    with sqlite3.connect(run.database) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM contributions WHERE membership_number = '11122233344'"
        ).fetchone()
    assert count == 60 * 4
    assert "12345678901" in run("seed-demo").output  # the demo member by default


def test_serve_needs_a_client_secret_and_tables(run):
    no_secret = run("serve")
    assert no_secret.exit_code != 0 and "client_secret" in no_secret.output
    not_ready = run("serve", BENEFITS_OIDC_CLIENT_SECRET="s")
    assert not_ready.exit_code != 0 and "benefits init" in not_ready.output


def test_bad_settings_stop_the_command_naming_the_key(run):
    failed = run("init", BENEFITS_SERVER_WORKERS="none")
    assert failed.exit_code != 0 and "BENEFITS_SERVER_WORKERS" in failed.output
