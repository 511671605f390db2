"""Roles as claims (issue 20): `idp users grant-role/revoke-role`, the `roles` scope."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from idp.db import db
from idp.employer.employers import create_employer
from idp.employer.invitations import invite_admin
from idp.models import AuditEvent, Client, Employment

from .helpers import csrf_from


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def member(actions):
    return actions.create_member()


def _userinfo(actions, client_id: str, secret: str, scope: str) -> dict:
    tokens = actions.tokens(client_id, secret, scope=scope)
    response = actions.client.get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 200
    return response.get_json()


def test_grant_and_revoke_a_role(app, cli, member):
    granted = cli("users", "grant-role", "siti@example.id", "claims_officer", "--json")
    assert granted.exit_code == 0, granted.output
    assert json.loads(granted.output)["roles"] == ["claims_officer"]
    twice = cli("users", "grant-role", "12345678901", "claims_officer", "--json")
    assert json.loads(twice.output) | {"sub": ""} == {
        "sub": "", "granted": False, "roles": ["claims_officer"]
    }  # fmt: skip
    revoked = cli("users", "revoke-role", "SITI@example.id", "claims_officer", "--json")
    assert json.loads(revoked.output)["roles"] == []
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent.event).where(AuditEvent.event.like("role_%"))
        ).all()
    assert events == ["role_granted", "role_revoked"]


@pytest.mark.parametrize(
    ("identifier", "role", "message"),
    [
        ("nobody@example.id", "claims_officer", "no identity"),
        ("siti@example.id", "Claims Officer", "lower-case"),
        ("siti@example.id", "employer_admin", "idp employers create"),
    ],
)
def test_bad_role_commands_change_nothing(app, cli, member, identifier, role, message):
    result = cli("users", "grant-role", identifier, role)
    assert result.exit_code != 0 and message in result.output
    with app.app_context():
        assert (
            db.session.scalar(select(AuditEvent.id).where(AuditEvent.event == "role_granted"))
            is None
        )


def test_roles_claim_only_with_its_scope_and_only_for_allowed_clients(actions, cli, member):
    assert cli("users", "grant-role", "siti@example.id", "claims_officer").exit_code == 0
    allowed_id, allowed_secret = actions.create_client(
        first_party=True, scope="openid profile membership roles"
    )
    other_id, other_secret = actions.create_client(first_party=True, scope="openid profile")
    actions.sign_in("siti@example.id")

    with_scope = _userinfo(actions, allowed_id, allowed_secret, "openid roles")
    assert with_scope["roles"] == ["claims_officer"]
    without_scope = _userinfo(actions, allowed_id, allowed_secret, "openid profile")
    assert "roles" not in without_scope
    not_allowed = _userinfo(actions, other_id, other_secret, "openid profile roles")
    assert "roles" not in not_allowed and not_allowed["name"] == "Siti Rahayu"


def test_employer_admin_role_and_current_employer_name(app, actions, member):
    with app.app_context():
        employer = create_employer("PT Baru", "EMP-7777")
        invite_admin(employer, "siti@example.id")
        db.session.commit()
    client_id, secret = actions.create_client(
        first_party=True, scope="openid profile membership roles"
    )
    actions.sign_in("siti@example.id")
    claims = _userinfo(actions, client_id, secret, "openid membership roles")
    assert claims["roles"] == ["employer_admin"]
    assert claims["employer_name"] == "PT Sinar Jaya"  # no employment yet: the registry's
    assert "Employer administrator" in actions.client.get("/account").text


def test_an_identity_without_roles_gets_an_empty_array(actions, member):
    client_id, secret = actions.create_client(first_party=True, scope="openid roles")
    actions.sign_in("siti@example.id")
    assert _userinfo(actions, client_id, secret, "openid roles")["roles"] == []


def test_discovery_and_consent_cover_roles(actions, client, member):
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert "roles" in metadata["scopes_supported"]
    assert "roles" in metadata["claims_supported"]
    client_id, _secret = actions.create_client(scope="openid roles")
    actions.sign_in("siti@example.id")
    params, _verifier = actions.authorize_params(client_id, scope="openid roles")
    consent = client.get(actions.authorize(params).headers["Location"])
    assert "Your roles at the agency or your employer" in consent.text
    csrf_from(consent.text)


def test_roles_show_on_the_account_page(actions, cli, client, member):
    page = lambda: client.get("/account").text  # noqa: E731
    actions.sign_in("siti@example.id")
    assert '<dd id="roles">—' in page()
    cli("users", "grant-role", "siti@example.id", "claims_officer")
    cli("users", "grant-role", "siti@example.id", "auditor")
    assert "auditor, Claims officer" in page()


def test_employer_name_follows_the_current_employment(app, actions, member):
    from datetime import date

    from idp.employer.employees import NewEmployee, end_employment, register_employee

    worker = NewEmployee(
        "Siti Rahayu", "3174051507900001", date(1990, 7, 15), "siti@example.id", None,
        date(2026, 1, 1), 6_000_000, ("JKK", "JKM", "JHT", "JP"),
    )  # fmt: skip
    client_id, secret = actions.create_client(first_party=True, scope="openid membership")
    actions.sign_in("siti@example.id")
    with app.app_context():
        employment, invite = register_employee(create_employer("PT Baru", "EMP-7777"), worker, None)
        db.session.commit()
        assert invite is None  # she already has online access
        employment_id = employment.id
    claims = _userinfo(actions, client_id, secret, "openid membership")
    assert claims == claims | {"membership_number": "12345678901", "employer_name": "PT Baru"}
    with app.app_context():
        admin = invite_admin(db.session.get(Employment, employment_id).employer, "a@baru.id")[0]
        end_employment(db.session.get(Employment, employment_id), date(2026, 2, 1), admin)
        db.session.commit()
    assert "employer_name" not in _userinfo(actions, client_id, secret, "openid membership")


def test_a_self_registered_client_cannot_allow_itself_the_roles_scope(app, client, cli):
    token = json.loads(cli("clients", "token", "--json").output)["initial_access_token"]
    metadata = {"redirect_uris": ["https://rp.example.id/callback"], "scope": "openid roles"}
    response = client.post("/register", json=metadata, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_client_metadata"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Client)) == 0
