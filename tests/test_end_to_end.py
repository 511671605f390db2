"""The whole code flow over real HTTP: Authlib's OAuth client against a live identity provider,
tokens verified with an independent JOSE library (PyJWT) against the published JWKS."""

from __future__ import annotations

import secrets

import jwt as pyjwt
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.discovery import OpenIDProviderMetadata

from .helpers import REDIRECT_URI, csrf_from, query_of

pytestmark = pytest.mark.slow


def _browser_signs_in(browser: requests.Session, url: str, identifier: str, password: str) -> str:
    """Follow the member's browser from the authorization URL to the redirect back to the RP."""
    response = browser.get(url, allow_redirects=False)
    assert response.status_code == 302
    login_url = requests.compat.urljoin(url, response.headers["Location"])
    page = browser.get(login_url)
    assert page.status_code == 200
    posted = browser.post(
        login_url.split("?")[0],
        data={
            "identifier": identifier,
            "password": password,
            "csrf_token": csrf_from(page.text),
            "next": query_of(login_url)["next"],
        },
        allow_redirects=False,
    )
    assert posted.status_code == 302, posted.text
    back = browser.get(
        requests.compat.urljoin(url, posted.headers["Location"]), allow_redirects=False
    )
    if back.headers["Location"].startswith("/consent"):
        consent_url = requests.compat.urljoin(url, back.headers["Location"])
        page = browser.get(consent_url)
        back = browser.post(
            consent_url,
            data={"decision": "allow", "csrf_token": csrf_from(page.text)},
            allow_redirects=False,
        )
    assert back.status_code == 302
    return back.headers["Location"]


@pytest.mark.parametrize("first_party", [True, False], ids=["first-party", "with-consent"])
def test_code_flow_with_authlib_client(live_server, first_party):
    member = live_server.create_member()
    client_id, secret = live_server.create_client(first_party=first_party)

    metadata = requests.get(
        f"{live_server.url}/.well-known/openid-configuration", timeout=10
    ).json()
    OpenIDProviderMetadata(metadata).validate()
    assert metadata["issuer"] == live_server.url

    rp = OAuth2Session(
        client_id,
        secret,
        scope="openid profile email membership",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
    )
    nonce = secrets.token_urlsafe(16)
    verifier = generate_token(48)
    url, state = rp.create_authorization_url(
        metadata["authorization_endpoint"], nonce=nonce, code_verifier=verifier
    )
    callback = _browser_signs_in(requests.Session(), url, member["email"], member["password"])
    assert callback.startswith(REDIRECT_URI)
    returned = query_of(callback)
    assert returned["state"] == state
    assert returned["iss"] == live_server.url  # RFC 9207

    token = rp.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )

    signing_key = pyjwt.PyJWKClient(metadata["jwks_uri"]).get_signing_key_from_jwt(
        token["id_token"]
    )
    claims = pyjwt.decode(
        token["id_token"],
        signing_key.key,
        algorithms=metadata["id_token_signing_alg_values_supported"],
        audience=client_id,
        issuer=live_server.url,
        options={"require": ["exp", "iat", "sub", "aud", "iss", "auth_time"]},
    )
    assert claims["nonce"] == nonce
    assert claims["sub"] == member["sub"]
    assert claims["acr"] == "pwd"

    userinfo = rp.get(metadata["userinfo_endpoint"]).json()
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["membership_number"] == member["membership_number"]
    assert userinfo["email"] == member["email"]

    jwks = requests.get(metadata["jwks_uri"], timeout=10).json()
    for key in jwks["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi"} & key.keys()
