"""Dynamic client registration (RFC 7591) and management (RFC 7592), and `idp clients token`."""

from __future__ import annotations

import json

import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import select

from idp.db import db
from idp.models import Client

from .helpers import REDIRECT_URI, csrf_from, query_of

ISSUER = "http://127.0.0.1:5000"
METADATA = {
    "client_name": "Aplikasi Mitra",
    "redirect_uris": [REDIRECT_URI],
    "scope": "openid profile email membership",
}


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "k1"})


def mint(cli, *options: str) -> str:
    result = cli("clients", "token", "--json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["initial_access_token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def register(client, token: str | None, metadata: dict | None = None, **kwargs):
    headers = bearer(token) if token else {}
    return client.post("/register", json=METADATA if metadata is None else metadata,
                       headers=headers, **kwargs)  # fmt: skip


def client_count(app) -> int:
    with app.app_context():
        return db.session.query(Client).count()


def assert_error(response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.get_json()["error"] == error
    assert response.headers["Cache-Control"] == "no-store"


@pytest.fixture
def registered(client, cli) -> dict:
    response = register(client, mint(cli))
    assert response.status_code == 201, response.text
    return response.get_json()


# -- RFC 7591 §3: registration ------------------------------------------------------------------


def test_registration_then_code_flow(actions, client, registered):
    body = registered
    assert body["client_name"] == "Aplikasi Mitra"
    assert body["redirect_uris"] == [REDIRECT_URI]
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert body["grant_types"] == ["authorization_code"]
    assert body["response_types"] == ["code"]
    assert body["client_secret_expires_at"] == 0
    assert isinstance(body["client_id_issued_at"], int)
    assert body["registration_client_uri"] == f"{ISSUER}/register/{body['client_id']}"
    assert len(body["client_secret"]) >= 32 and len(body["registration_access_token"]) >= 32

    # The new client runs a real code flow; a dynamic client is never first-party: consent.
    member = actions.create_member()
    actions.sign_in(member["email"])
    params, verifier = actions.authorize_params(body["client_id"])
    consent_url = actions.authorize(params).headers["Location"]
    assert consent_url.startswith("/consent?")
    page = client.get(consent_url)
    allowed = client.post(
        consent_url, data={"decision": "allow", "csrf_token": csrf_from(page.text)}
    )
    code = query_of(allowed.headers["Location"])["code"]
    tokens = actions.redeem(body["client_id"], body["client_secret"], code, verifier)
    assert tokens.status_code == 200 and "id_token" in tokens.get_json()


def test_secrets_are_stored_hashed(app, registered):
    with app.app_context():
        stored = db.session.scalar(db.select(Client).filter_by(client_id=registered["client_id"]))
        assert stored.client_secret_hash != registered["client_secret"]
        assert stored.registration_token_hash != registered["registration_access_token"]
        assert stored.check_client_secret(registered["client_secret"])
        assert not stored.first_party and not stored.require_mfa


def test_register_public_client(client, cli):
    metadata = METADATA | {"token_endpoint_auth_method": "none"}
    body = register(client, mint(cli), metadata).get_json()
    assert body["token_endpoint_auth_method"] == "none"
    assert "client_secret" not in body and "client_secret_expires_at" not in body


def test_register_private_key_jwt_client(client, cli, rsa_key):
    jwks = {"keys": [rsa_key.as_dict(private=False)]}
    metadata = METADATA | {"token_endpoint_auth_method": "private_key_jwt", "jwks": jwks}
    response = register(client, mint(cli), metadata)
    assert response.status_code == 201, response.text
    body = response.get_json()
    assert body["jwks"] == jwks and "client_secret" not in body


def test_register_par_and_dpop_requirements(app, client, cli):
    metadata = METADATA | {
        "require_pushed_authorization_requests": True,
        "dpop_bound_access_tokens": True,
        "profile": "fapi2",  # not client metadata: ignored, only operators set a profile
    }
    body = register(client, mint(cli), metadata).get_json()
    assert body["require_pushed_authorization_requests"] is True
    assert body["dpop_bound_access_tokens"] is True
    with app.app_context():
        stored = db.session.scalar(select(Client).where(Client.client_id == body["client_id"]))
        assert stored.require_pushed_authorization_requests and stored.dpop_bound_access_tokens
        assert stored.profile is None
    refused = register(client, mint(cli), METADATA | {"dpop_bound_access_tokens": "yes"})
    assert refused.status_code == 400
    assert (
        "dpop_bound_access_tokens must be true or false" in refused.get_json()["error_description"]
    )


def test_register_service_client(client, cli):
    metadata = {
        "client_name": "Batch",
        "grant_types": ["client_credentials"],
        "scope": "membership",
    }
    response = register(client, mint(cli), metadata)
    assert response.status_code == 201, response.text
    body = response.get_json()
    assert body["response_types"] == [] and body["redirect_uris"] == []
    assert body["grant_types"] == ["client_credentials"]


def test_unknown_metadata_is_ignored(client, cli):
    extra = {"contacts": ["dev@mitra.example"], "logo_uri": "https://mitra.example/logo.png"}
    response = register(client, mint(cli), METADATA | extra | {"software_version": "1.2"})
    assert response.status_code == 201
    assert "software_version" not in response.get_json()


PRIVATE_JWK = {"kty": "RSA", "n": "x" * 400, "e": "AQAB", "d": "secret"}
SMALL_RSA_JWK = {"kty": "RSA", "n": "x" * 170, "e": "AQAB"}  # about 1 kbit
REDIRECT = "invalid_redirect_uri"
METADATA_ERROR = "invalid_client_metadata"
PKJWT = {"token_endpoint_auth_method": "private_key_jwt"}
# id: (metadata changed, error code, words of the description); None removes a field.
BAD_METADATA = {
    "http-not-loopback": ({"redirect_uris": ["http://mitra.example/cb"]}, REDIRECT, "https"),
    "fragment": ({"redirect_uris": [f"{REDIRECT_URI}#top"]}, REDIRECT, "fragment"),
    "relative": ({"redirect_uris": ["/callback"]}, REDIRECT, "absolute"),
    "missing-redirect-uris": ({"redirect_uris": None}, REDIRECT, "required"),
    "redirect-uris-not-a-list": ({"redirect_uris": REDIRECT_URI}, REDIRECT, "array"),
    "bad-logout-uri": ({"post_logout_redirect_uris": ["http://x.example/"]}, REDIRECT, "https"),
    "bad-backchannel-uri": (
        {"backchannel_logout_uri": "https://rp.example.id/logout#frag"},
        METADATA_ERROR,
        "backchannel_logout_uri must not have a fragment",
    ),
    "unknown-auth-method": (
        {"token_endpoint_auth_method": "client_secret_jwt"},
        METADATA_ERROR,
        "token_endpoint_auth_method",
    ),
    "code-without-response-type": ({"response_types": []}, METADATA_ERROR, "'code'"),
    "response-type-without-code-grant": (
        {"grant_types": ["client_credentials"], "response_types": ["code"]},
        METADATA_ERROR,
        "'code'",
    ),
    "implicit": ({"response_types": ["code", "token"]}, METADATA_ERROR, "response_types"),
    "unknown-grant": ({"grant_types": ["password"]}, METADATA_ERROR, "grant_types"),
    "refresh-without-code": (
        {"grant_types": ["refresh_token", "client_credentials"], "response_types": []},
        METADATA_ERROR,
        "refresh_token",
    ),
    "public-client-credentials": (
        {"token_endpoint_auth_method": "none", "grant_types": ["client_credentials"]},
        METADATA_ERROR,
        "client_credentials",
    ),
    "scope-without-openid": ({"scope": "profile"}, METADATA_ERROR, "openid"),
    "unknown-scope": ({"scope": "openid nik"}, METADATA_ERROR, "known scopes"),
    "jwks-with-private-key": (
        PKJWT | {"jwks": {"keys": [PRIVATE_JWK]}},
        METADATA_ERROR,
        "public keys only",
    ),
    "jwks-small-rsa-key": (PKJWT | {"jwks": {"keys": [SMALL_RSA_JWK]}}, METADATA_ERROR, "2048"),
    "jwks-not-a-key-set": (PKJWT | {"jwks": {"kty": "RSA"}}, METADATA_ERROR, "JWK Set"),
    "jwks-and-jwks-uri": (
        PKJWT | {"jwks": {"keys": []}, "jwks_uri": "https://mitra.example/jwks"},
        METADATA_ERROR,
        "both",
    ),
    "private-key-jwt-without-keys": (PKJWT, METADATA_ERROR, "jwks or jwks_uri"),
    "jwks-for-a-secret-client": (
        {"jwks_uri": "https://mitra.example/jwks"},
        METADATA_ERROR,
        "only used with private_key_jwt",
    ),
    "jwks-uri-over-http": (
        PKJWT | {"jwks_uri": "http://mitra.example/jwks"},
        METADATA_ERROR,
        "jwks_uri must use https",
    ),
    "hmac-id-token": ({"id_token_signed_response_alg": "HS256"}, METADATA_ERROR, "alg"),
    "no-client-name": ({"client_name": None}, METADATA_ERROR, "client_name"),
    "name-not-a-string": ({"client_name": 42}, METADATA_ERROR, "client_name must be a string"),
    "nul-in-name": ({"client_name": "Mitra\u0000"}, METADATA_ERROR, "NUL"),
    "session-required-not-bool": (
        {"backchannel_logout_session_required": "yes"},
        METADATA_ERROR,
        "true or false",
    ),
}


@pytest.mark.parametrize(("change", "error", "words"), BAD_METADATA.values(), ids=BAD_METADATA)
def test_bad_metadata_is_refused_and_nothing_saved(app, client, cli, change, error, words):
    token = mint(cli)
    metadata = {k: v for k, v in (METADATA | change).items() if v is not None}
    before = client_count(app)
    response = register(client, token, metadata)
    assert_error(response, 400, error)
    assert words in response.get_json()["error_description"]
    assert client_count(app) == before
    # The single-use token was not spent on the failed attempt.
    assert register(client, token).status_code == 201


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "not json", "content_type": "application/json"},
        {"data": "client_name=x", "content_type": "application/x-www-form-urlencoded"},
        {"json": ["not", "an", "object"]},
        {"data": b'{"client_name": "\xff"}', "content_type": "application/json"},
    ],
    ids=["not-json", "form", "array", "not-utf8"],
)
def test_body_must_be_a_json_object(app, client, cli, kwargs):
    response = client.post("/register", headers=bearer(mint(cli)), **kwargs)
    assert_error(response, 400, "invalid_client_metadata")
    assert client_count(app) == 0


def test_oversized_body_is_a_json_error(client, cli):
    metadata = METADATA | {"client_name": "x" * 70_000}
    assert_error(register(client, mint(cli), metadata), 413, "invalid_request")


# -- the initial access token ------------------------------------------------------------------


def test_initial_access_token_is_required(app, client):
    response = register(client, None)
    assert_error(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(register(client, "made-up"), 401, "invalid_token")
    assert client_count(app) == 0


def test_initial_access_token_expires(app, client, cli, clock):
    token = mint(cli, "--expires-in", "60")
    clock.advance(seconds=120)
    assert_error(register(client, token), 401, "invalid_token")
    assert client_count(app) == 0


def test_initial_access_token_is_used_up(client, cli):
    token = mint(cli, "--uses", "2", "--note", "Mitra sandbox")
    assert register(client, token).status_code == 201
    assert register(client, token).status_code == 201
    assert_error(register(client, token), 401, "invalid_token")


def test_clients_token_command(cli):
    result = cli("clients", "token", "--json", "--uses", "3", "--expires-in", "600")
    out = json.loads(result.output)
    assert out["uses"] == 3 and out["expires_in"] == 600 and len(out["initial_access_token"]) > 32
    default = json.loads(cli("clients", "token", "--json").output)
    assert default["uses"] == 1 and default["expires_in"] == 86400
    assert cli("clients", "token", "--uses", "0").exit_code != 0
    text = cli("clients", "token")
    assert text.exit_code == 0 and text.output.startswith("initial_access_token: ")


def test_registration_can_be_switched_off(make_app, cli):
    app = make_app(registration={"enabled": False})
    client = app.test_client()
    assert_error(register(client, mint(cli)), 404, "invalid_request")
    assert "registration_endpoint" not in client.get("/.well-known/openid-configuration").json


def test_discovery_names_the_registration_endpoint(client):
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert metadata["registration_endpoint"] == f"{ISSUER}/register"


# -- RFC 7592: reading, updating and deleting a registration -----------------------------------


def test_read_with_the_registration_access_token(client, registered):
    uri = f"/register/{registered['client_id']}"
    response = client.get(uri, headers=bearer(registered["registration_access_token"]))
    assert response.status_code == 200
    body = response.get_json()
    assert body["client_id"] == registered["client_id"]
    assert body["redirect_uris"] == [REDIRECT_URI]
    # Shown once at registration, stored hashed: never read back, never rotated on read.
    assert "client_secret" not in body and "registration_access_token" not in body
    assert response.headers["Cache-Control"] == "no-store"


def test_wrong_registration_tokens_are_refused(actions, client, cli, registered):
    uri = f"/register/{registered['client_id']}"
    other = register(client, mint(cli)).get_json()
    for headers in ({}, bearer("made-up"), bearer(other["registration_access_token"])):
        for method in (client.get, client.put, client.delete):
            response = method(uri, headers=headers, json=METADATA)
            assert_error(response, 401, "invalid_token")
            assert "WWW-Authenticate" in response.headers
    # A client the operator registered with the CLI has no registration token at all.
    cli_client_id, _ = actions.create_client()
    response = client.get(f"/register/{cli_client_id}", headers=bearer("anything"))
    assert_error(response, 401, "invalid_token")


def test_update_replaces_metadata(client, registered):
    uri = f"/register/{registered['client_id']}"
    headers = bearer(registered["registration_access_token"])
    new = {
        "client_id": registered["client_id"],
        "client_secret": registered["client_secret"],
        "client_name": "Aplikasi Mitra 2",
        "redirect_uris": ["https://rp.example.id/new-callback"],
        "token_endpoint_auth_method": "client_secret_post",
    }
    response = client.put(uri, headers=headers, json=new)
    assert response.status_code == 200, response.text
    body = response.get_json()
    assert body["client_name"] == "Aplikasi Mitra 2"
    assert body["redirect_uris"] == ["https://rp.example.id/new-callback"]
    assert body["token_endpoint_auth_method"] == "client_secret_post"
    assert body["scope"] == "openid"  # omitted fields are reset to their defaults (§2.2)
    assert client.get(uri, headers=headers).get_json() == body


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "someone-else"},
        {"client_secret": "not-the-secret"},
        {"token_endpoint_auth_method": "none"},  # would silently drop the secret
        {"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://rp.example.id/j"},
        {"redirect_uris": ["http://rp.example.id/cb"]},
    ],
    ids=["client-id", "client-secret", "to-public", "to-private-key-jwt", "bad-redirect"],
)
def test_bad_update_changes_nothing(client, registered, change):
    uri = f"/register/{registered['client_id']}"
    headers = bearer(registered["registration_access_token"])
    before = client.get(uri, headers=headers).get_json()
    response = client.put(uri, headers=headers, json=METADATA | {"client_name": "New"} | change)
    assert response.status_code == 400
    assert response.get_json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri")
    assert client.get(uri, headers=headers).get_json() == before


def test_delete_removes_the_client_and_its_tokens(actions, client, cli):
    metadata = METADATA | {"token_endpoint_auth_method": "none"}
    registered = register(client, mint(cli), metadata).get_json()
    member = actions.create_member()
    actions.sign_in(member["email"])
    params, verifier = actions.authorize_params(registered["client_id"])
    consent_url = actions.authorize(params).headers["Location"]
    page = client.get(consent_url)
    allowed = client.post(
        consent_url, data={"decision": "allow", "csrf_token": csrf_from(page.text)}
    )
    code = query_of(allowed.headers["Location"])["code"]
    access = actions.redeem(registered["client_id"], None, code, verifier).get_json()
    userinfo = {"Authorization": f"Bearer {access['access_token']}"}
    assert client.get("/userinfo", headers=userinfo).status_code == 200

    uri = f"/register/{registered['client_id']}"
    headers = bearer(registered["registration_access_token"])
    response = client.delete(uri, headers=headers)
    assert response.status_code == 204 and response.data == b""
    assert_error(client.get(uri, headers=headers), 401, "invalid_token")
    assert client.get("/userinfo", headers=userinfo).status_code == 401
