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


# The tables as the previous version created them (before documents, heirs and staff steps).
EARLIER_SCHEMA = """
CREATE TABLE contributions (
    id INTEGER NOT NULL PRIMARY KEY, membership_number VARCHAR(32) NOT NULL,
    month DATE NOT NULL, program VARCHAR(8) NOT NULL, employer_name VARCHAR(200) NOT NULL,
    wage INTEGER NOT NULL, employer_share INTEGER NOT NULL, employee_share INTEGER NOT NULL,
    due_date DATE NOT NULL, paid_date DATE, UNIQUE (membership_number, month, program));
CREATE INDEX ix_contributions_membership_number ON contributions (membership_number);
CREATE TABLE claims (
    id INTEGER NOT NULL PRIMARY KEY, membership_number VARCHAR(32) NOT NULL,
    program VARCHAR(8) NOT NULL, status VARCHAR(16) NOT NULL, filed_at DATETIME NOT NULL,
    reason VARCHAR(32), bank_account VARCHAR(16), incident_date DATE, description TEXT);
CREATE TABLE claim_events (
    id INTEGER NOT NULL PRIMARY KEY, claim_id INTEGER NOT NULL REFERENCES claims (id),
    status VARCHAR(16) NOT NULL, at DATETIME NOT NULL);
INSERT INTO contributions VALUES
    (1, '11122233344', '2024-01-01', 'JHT', 'PT A', 5000000, 185000, 100000, '2024-02-15',
     '2024-02-10');
INSERT INTO claims VALUES
    (1, '11122233344', 'JKK', 'paid', '2024-03-01 00:00:00', NULL, NULL, '2024-02-27',
     'Terpeleset di gudang, pergelangan tangan terkilir.');
INSERT INTO claim_events VALUES (1, 1, 'submitted', '2024-03-01 00:00:00'),
    (2, 1, 'paid', '2024-03-09 00:00:00');
"""


def test_init_brings_an_earlier_database_up_to_date(run):
    run.database.parent.mkdir(parents=True)
    with sqlite3.connect(run.database) as conn:
        conn.executescript(EARLIER_SCHEMA)
    done = run("init")
    assert done.exit_code == 0, done.output
    assert "upgraded: added column claims.filed_by" in done.output
    assert "contributions.wage may be empty" in done.output
    assert "claims: 1 'paid' now 'paid_out'" in done.output
    with sqlite3.connect(run.database) as conn:
        assert conn.execute("SELECT status FROM claims").fetchall() == [("paid_out",)]
        assert conn.execute("SELECT wage, employer_share FROM contributions").fetchall() == [
            (5000000, 185000)
        ]
    # Imported rows (no wage) now fit, and a second init changes nothing.
    assert run("seed-demo", "--membership-number", "11122233344").exit_code == 0
    again = run("init")
    assert again.exit_code == 0 and "upgraded" not in again.output
