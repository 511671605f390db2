"""OIDC Discovery 1.0, RFC 8414 and the JWKS document."""

from __future__ import annotations

import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oidc.discovery import OpenIDProviderMetadata

ISSUER = "http://127.0.0.1:5000"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}


@pytest.mark.parametrize(
    ("path", "validator"),
    [
        ("/.well-known/openid-configuration", OpenIDProviderMetadata),
        ("/.well-known/oauth-authorization-server", AuthorizationServerMetadata),
    ],
)
def test_metadata_is_complete_and_valid(client, path, validator):
    response = client.get(path)
    assert response.status_code == 200
    metadata = response.get_json()
    validator(metadata).validate()
    assert metadata["issuer"] == ISSUER
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["grant_types_supported"] == [
        "authorization_code",
        "refresh_token",
        "client_credentials",
    ]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    }
    assert "none" not in metadata["introspection_endpoint_auth_methods_supported"]
    for endpoint in ("end_session", "revocation", "introspection"):
        assert metadata[f"{endpoint}_endpoint"].startswith(ISSUER + "/")
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True
    assert set(metadata["id_token_signing_alg_values_supported"]) == {"RS256", "ES256"}
    assert "nik" not in metadata["claims_supported"]


def test_jwks_holds_public_keys_only(client):
    response = client.get("/jwks")
    assert response.status_code == 200
    keys = response.get_json()["keys"]
    assert {k["alg"] for k in keys} == {"RS256", "ES256"}
    for key in keys:
        assert not PRIVATE_MEMBERS & key.keys()
        assert key["use"] == "sig" and key["kid"]
    assert "max-age" in response.headers["Cache-Control"]


def test_jwks_supports_conditional_requests(client):
    first = client.get("/jwks")
    again = client.get("/jwks", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
