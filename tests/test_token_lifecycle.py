"""Refresh tokens (rotation, reuse, narrowing), client credentials, revocation, introspection,
and RFC 9068 access tokens checked by an independent JOSE library."""

from __future__ import annotations

import threading

import jwt as pyjwt
import pytest
import requests
from sqlalchemy import func, select

from idp.db import db
from idp.models import AuditEvent, RefreshToken

from .helpers import Actions, csrf_from

OFFLINE_SCOPE = "openid profile offline_access"


@pytest.fixture
def member(actions):
    return actions.create_member()


@pytest.fixture
def rp(actions):
    """A confidential client allowed to refresh, and no consent screen in the way."""
    return actions.create_client(
        first_party=True,
        scope="openid profile email membership offline_access",
        grant_types=["authorization_code", "refresh_token"],
    )


def _offline_tokens(actions: Actions, rp, member, scope: str = OFFLINE_SCOPE) -> dict:
    actions.sign_in(member["email"])
    return actions.tokens(*rp, scope=scope)


def _refresh(client, rp, refresh_token: str, **extra):
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token} | extra
    return client.post("/token", data=form, auth=rp)


def _introspect(client, caller, token: str, **extra):
    return client.post("/introspect", data={"token": token} | extra, auth=caller).get_json()


def test_offline_access_issues_a_refresh_token_that_rotates(actions, client, rp, member):
    tokens = _offline_tokens(actions, rp, member)
    assert tokens["refresh_token"] and tokens["scope"] == OFFLINE_SCOPE
    response = _refresh(client, rp, tokens["refresh_token"])
    assert response.status_code == 200, response.text
    rotated = response.get_json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert rotated["access_token"] != tokens["access_token"]
    assert response.headers["Cache-Control"] == "no-store"
    # The new refresh token works; the old one is spent.
    assert _refresh(client, rp, rotated["refresh_token"]).status_code == 200


def test_replayed_code_revokes_its_refresh_tokens_too(actions, client, rp, member):
    """RFC 9700 §4.14: every token issued from a replayed code dies, refresh tokens included,
    and the access tokens already refreshed from them."""
    actions.sign_in(member["email"])
    code, verifier, _ = actions.get_code(rp[0], scope=OFFLINE_SCOPE)
    tokens = actions.redeem(*rp, code, verifier).get_json()
    refreshed = _refresh(client, rp, tokens["refresh_token"]).get_json()
    replay = actions.redeem(*rp, code, verifier)
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    assert _refresh(client, rp, refreshed["refresh_token"]).get_json()["error"] == "invalid_grant"
    for token in (tokens["access_token"], refreshed["access_token"]):
        assert _introspect(client, rp, token) == {"active": False}


def test_no_refresh_token_without_offline_access(actions, client, rp, member):
    actions.sign_in(member["email"])
    assert "refresh_token" not in actions.tokens(*rp, scope="openid profile")


def test_confidential_clients_get_session_bound_refresh_tokens_when_configured(make_app, clock):
    app = make_app(tokens={"refresh_for_confidential_clients": True})
    browser = app.test_client()
    actions = Actions(app, browser)
    member = actions.create_member()
    rp = actions.create_client(
        first_party=True, grant_types=["authorization_code", "refresh_token"]
    )
    public = actions.create_client(
        first_party=True, public=True, grant_types=["authorization_code", "refresh_token"]
    )
    actions.sign_in(member["email"])
    tokens = actions.tokens(*rp, scope="openid")
    assert "refresh_token" in tokens
    assert "refresh_token" not in actions.tokens(public[0], None, scope="openid")
    # Signing out ends the session, and its refresh token with it.
    page = browser.get("/account")
    browser.post("/logout", data={"csrf_token": csrf_from(page.text)})
    refused = _refresh(browser, rp, tokens["refresh_token"])
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_grant"


def test_reusing_a_rotated_refresh_token_revokes_the_family(app, actions, client, rp, member):
    tokens = _offline_tokens(actions, rp, member)
    rotated = _refresh(client, rp, tokens["refresh_token"]).get_json()
    replay = _refresh(client, rp, tokens["refresh_token"])
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    # RFC 9700 §4.14.2: the whole family is gone, including the legitimate newest link...
    assert _refresh(client, rp, rotated["refresh_token"]).status_code == 400
    # ...and the access tokens minted from it.
    assert not _introspect(client, rp, rotated["access_token"])["active"]
    userinfo = client.get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert userinfo.status_code == 401
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "refresh_token_reused")
        ).all()
        assert len(events) == 1 and events[0].client_id == rp[0]


def test_refresh_can_narrow_scope_but_never_widen_it(actions, client, rp, member):
    tokens = _offline_tokens(actions, rp, member, scope="openid profile offline_access")
    narrowed = _refresh(client, rp, tokens["refresh_token"], scope="openid")
    assert narrowed.status_code == 200
    body = narrowed.get_json()
    assert body["scope"] == "openid"
    # The new refresh token keeps the original grant (RFC 6749 §6).
    again = _refresh(client, rp, body["refresh_token"]).get_json()
    assert again["scope"] == "openid profile offline_access"
    widened = _refresh(client, rp, again["refresh_token"], scope="openid email")
    assert widened.status_code == 400 and widened.get_json()["error"] == "invalid_scope"


def test_refresh_token_of_another_client_or_expired_is_refused(actions, client, rp, member, clock):
    tokens = _offline_tokens(actions, rp, member)
    other = actions.create_client(
        first_party=True,
        scope="openid offline_access",
        grant_types=["authorization_code", "refresh_token"],
    )
    stolen = _refresh(client, other, tokens["refresh_token"])
    assert stolen.status_code == 400 and stolen.get_json()["error"] == "invalid_grant"
    assert _refresh(client, rp, "not-a-token").get_json()["error"] == "invalid_grant"
    missing = client.post("/token", data={"grant_type": "refresh_token"}, auth=rp)
    assert missing.get_json()["error"] == "invalid_request"
    clock.advance(seconds=604800 + 1)  # the idle lifetime
    assert _refresh(client, rp, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"


def test_refresh_family_ends_at_its_absolute_lifetime(make_app, clock):
    app = make_app(tokens={"refresh_token_lifetime": 3600, "refresh_token_idle_lifetime": 1800})
    browser = app.test_client()
    actions = Actions(app, browser)
    member = actions.create_member()
    rp = actions.create_client(
        first_party=True,
        scope="openid offline_access",
        grant_types=["authorization_code", "refresh_token"],
    )
    actions.sign_in(member["email"])
    token = actions.tokens(*rp, scope="openid offline_access")["refresh_token"]
    for _ in range(3):  # used every 20 minutes: never idle, yet the family is 1 hour at most
        clock.advance(seconds=1200)
        response = _refresh(browser, rp, token)
        if response.status_code != 200:
            break
        token = response.get_json()["refresh_token"]
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


@pytest.mark.slow
def test_two_racing_refreshes_exactly_one_wins(live_server):
    live = live_server
    member = live.create_member()
    rp = live.create_client(
        first_party=True,
        scope="openid offline_access",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=["https://rp.example.id/callback"],
    )
    with live.app.app_context():
        live.client = live.app.test_client()
        actions = Actions(live.app, live.client)
        actions.sign_in(member["email"])
        refresh_token = actions.tokens(*rp, scope="openid offline_access")["refresh_token"]

    results: list[int] = []
    barrier = threading.Barrier(2)

    def refresh() -> None:
        barrier.wait()
        response = requests.post(
            f"{live.url}/token",
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=rp,
            timeout=10,
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(results) == [200, 400]
    with live.app.app_context():
        # The loser presented a spent token: that is reuse, so the family is revoked.
        live_links = db.session.scalar(
            select(func.count()).select_from(RefreshToken).where(RefreshToken.revoked_at.is_(None))
        )
        assert live_links == 0


def test_client_credentials_grant_for_service_clients(actions, client):
    service = actions.create_client(
        scope="openid membership", grant_types=["client_credentials"], redirect_uris=[]
    )
    response = client.post(
        "/token", data={"grant_type": "client_credentials", "scope": "membership"}, auth=service
    )
    assert response.status_code == 200, response.text
    body = response.get_json()
    assert body["scope"] == "membership"
    assert "id_token" not in body and "refresh_token" not in body
    described = _introspect(client, service, body["access_token"])
    assert described["active"] and described["sub"] == service[0]
    # No member: userinfo has nobody to describe.
    userinfo = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert userinfo.status_code == 401
    wrong = client.post(
        "/token", data={"grant_type": "client_credentials", "scope": "address"}, auth=service
    )
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_scope"


def test_client_credentials_needs_the_grant_and_a_secret(actions, client):
    rp = actions.create_client()
    response = client.post("/token", data={"grant_type": "client_credentials"}, auth=rp)
    assert response.status_code == 400
    assert response.get_json()["error"] == "unauthorized_client"
    public_id, _ = actions.create_client(public=True)
    response = client.post(
        "/token", data={"grant_type": "client_credentials", "client_id": public_id}
    )
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_revoking_an_access_token_is_honoured_by_introspection_and_userinfo(
    actions, client, rp, member
):
    tokens = _offline_tokens(actions, rp, member)
    access = tokens["access_token"]
    described = _introspect(client, rp, access)
    assert described["active"] is True
    assert described["client_id"] == rp[0] and described["sub"] == member["sub"]
    assert described["token_type"] == "Bearer" and described["scope"] == OFFLINE_SCOPE
    response = client.post(
        "/revoke", data={"token": access, "token_type_hint": "access_token"}, auth=rp
    )
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert _introspect(client, rp, access) == {"active": False}
    assert client.get("/userinfo", headers={"Authorization": f"Bearer {access}"}).status_code == 401
    # The refresh token is a separate grant artefact: still good.
    assert _refresh(client, rp, tokens["refresh_token"]).status_code == 200


def test_revoking_a_refresh_token_revokes_its_family(actions, client, rp, member):
    tokens = _offline_tokens(actions, rp, member)
    refreshed = _refresh(client, rp, tokens["refresh_token"]).get_json()
    assert _introspect(client, rp, refreshed["refresh_token"])["token_type"] == "refresh_token"
    # A wrong hint is only a hint (RFC 7009 §2.1).
    response = client.post(
        "/revoke",
        data={"token": refreshed["refresh_token"], "token_type_hint": "access_token"},
        auth=rp,
    )
    assert response.status_code == 200
    assert _refresh(client, rp, refreshed["refresh_token"]).status_code == 400
    assert not _introspect(client, rp, refreshed["access_token"])["active"]


def test_revocation_and_introspection_refuse_bad_requests(actions, client, rp, member):
    tokens = _offline_tokens(actions, rp, member)
    # Unknown tokens: revocation still answers 200 (RFC 7009 §2.2), introspection inactive.
    assert client.post("/revoke", data={"token": "nonsense"}, auth=rp).status_code == 200
    assert _introspect(client, rp, "nonsense") == {"active": False}
    assert client.post("/revoke", data={}, auth=rp).get_json()["error"] == "invalid_request"
    bad_hint = client.post("/revoke", data={"token": "x", "token_type_hint": "id_token"}, auth=rp)
    assert bad_hint.get_json()["error"] == "unsupported_token_type"
    unauthenticated = client.post("/introspect", data={"token": tokens["access_token"]})
    assert unauthenticated.status_code == 401
    json_body = client.post("/revoke", json={"token": "x"}, auth=rp)
    assert json_body.status_code == 400 and json_body.get_json()["error"] == "invalid_request"
    # Another client cannot revoke this client's token...
    other = actions.create_client(first_party=True)
    refused = client.post("/revoke", data={"token": tokens["refresh_token"]}, auth=other)
    assert refused.status_code == 400
    assert _introspect(client, rp, tokens["access_token"])["active"]
    # ...nor learn anything of its tokens (RFC 7662 §4): both are inactive to another client.
    assert _introspect(client, other, tokens["refresh_token"]) == {"active": False}
    assert _introspect(client, other, tokens["access_token"]) == {"active": False}
    public_id, _ = actions.create_client(public=True)
    public = client.post(
        "/introspect", data={"token": tokens["access_token"], "client_id": public_id}
    )
    assert public.status_code == 401


def test_access_token_is_an_rfc_9068_jwt(app, actions, client, rp, member):
    tokens = _offline_tokens(actions, rp, member)
    jwks = pyjwt.PyJWKSet.from_dict(client.get("/jwks").get_json())
    header = pyjwt.get_unverified_header(tokens["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256"
    key = next(k for k in jwks.keys if k.key_id == header["kid"])
    issuer = app.extensions["idp.settings"].server.issuer
    claims = pyjwt.decode(
        tokens["access_token"],
        key=key.key,
        algorithms=["RS256"],
        audience=issuer,
        issuer=issuer,
        options={"require": ["exp", "iat", "jti", "sub", "client_id", "aud", "iss"]},
        leeway=10**9,  # the test clock is frozen in the past; expiry is tested elsewhere
    )
    assert claims["sub"] == member["sub"] and claims["client_id"] == rp[0]
    assert claims["scope"] == OFFLINE_SCOPE
    assert claims["exp"] - claims["iat"] == 300
    assert claims["acr"] == "pwd" and isinstance(claims["auth_time"], int)


def test_cli_registers_service_and_refreshing_clients(cli, make_config):
    import json

    config = make_config()
    service = cli(
        "clients", "create", "--name", "Batch", "--grant-type", "client_credentials",
        "--scope", "openid membership", "--json", config=config,
    )  # fmt: skip
    assert service.exit_code == 0, service.output
    assert json.loads(service.output)["grant_types"] == ["client_credentials"]
    default = cli(
        "clients", "create", "--name", "Web", "--redirect-uri", "https://web.example.id/cb",
        "--json", config=config,
    )  # fmt: skip
    assert json.loads(default.output)["grant_types"] == ["authorization_code", "refresh_token"]
    no_redirect = cli("clients", "create", "--name", "Broken", config=config)
    assert no_redirect.exit_code != 0 and "redirect_uri" in no_redirect.output
