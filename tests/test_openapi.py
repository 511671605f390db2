"""docs/openapi.yaml describes the JSON endpoints as they are: kept in step, and checked by
schemathesis in process (its generated requests sent to the Flask app through WSGI).

- Every route of the JSON endpoints is described, and nothing else is (`test_every_json_route_
  is_described`).
- Every documented status code of every operation is produced by a real request
  (`test_every_documented_status_happens`), and every documented error code is one the server
  can send (`test_documented_error_codes_exist`).
- schemathesis: no 5xx; status, content type, headers and body conform to the description.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import schemathesis
import yaml
from authlib.oauth2 import OAuth2Error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from idp.db import db
from idp.oidc.registration import mint_initial_access_token

from .helpers import REDIRECT_URI
from .malformed import MAX_BODY

DOC = Path(__file__).parent.parent / "docs" / "openapi.yaml"
DESCRIPTION = yaml.safe_load(DOC.read_text())
SCHEMA = schemathesis.openapi.from_path(DOC)
# Blueprints whose routes answer JSON; /authorize and /end-session answer pages and redirects.
JSON_ENDPOINTS = {
    "oidc.token",
    "oidc.par",
    "oidc.revoke",
    "oidc.introspect",
    "oidc.userinfo",
    "oidc.jwks",
    "oidc.discovery",
    "registration.register",
    "registration.manage_registration",
}
METHODS = {"get", "post", "put", "delete", "patch"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def documented_operations() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in DESCRIPTION["paths"].items()
        for method in item
        if method in METHODS
    }


def test_every_json_route_is_described(app):
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in JSON_ENDPOINTS:
            path = rule.rule.replace("<", "{").replace(">", "}")
            served |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == documented_operations()


def _error_codes_the_server_sends() -> set[str]:
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    return {getattr(cls, "error", None) for cls in subclasses(OAuth2Error)} - {None}


def test_documented_error_codes_exist():
    """Each is an Authlib error class's code, or a code our own code sends by name."""
    documented = DESCRIPTION["components"]["schemas"]["OAuthError"]["properties"]["error"]["enum"]
    source = "".join(p.read_text() for p in (Path(__file__).parent.parent / "idp").rglob("*.py"))
    classes = _error_codes_the_server_sends()
    assert [c for c in documented if c not in classes and f'"{c}"' not in source] == []


# -- a world with a member, clients, tokens and registrations ---------------------------------


@pytest.fixture
def api(make_app, actions, tmp_path):
    """The app, with credentials of every kind the endpoints take."""
    app = actions.app
    member = actions.create_member()
    scope = "openid profile email membership offline_access"
    client_id, secret = actions.create_client(first_party=True, scope=scope,
                                              grant_types=["authorization_code", "refresh_token",
                                                           "client_credentials"])  # fmt: skip
    actions.sign_in(member["email"])
    tokens = actions.tokens(client_id, secret, scope="openid profile offline_access")
    with app.app_context():
        initial = mint_initial_access_token(100000, 86400)
        db.session.commit()
    registered = (
        app.test_client()
        .post(
            "/register",
            json={"client_name": "Documented", "redirect_uris": [REDIRECT_URI]},
            headers={"Authorization": f"Bearer {initial}"},
        )
        .get_json()
    )
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {
        "app": app,
        "actions": actions,
        "client": (client_id, secret),
        "tokens": tokens,
        "basic": f"Basic {basic}",
        "initial": initial,
        "registered": registered,
        "make_app": make_app,
        "tmp_path": tmp_path,
    }


def _token_without_openid(api) -> str:
    """A member's access token narrowed to a scope without openid (RFC 6749 §6)."""
    form = {"grant_type": "refresh_token", "refresh_token": api["tokens"]["refresh_token"],
            "scope": "profile offline_access"}  # fmt: skip
    headers = {"Authorization": api["basic"]}
    response = api["app"].test_client().post("/token", data=form, headers=headers)
    assert response.status_code == 200, response.text
    return response.get_json()["access_token"]


def _send(api, method: str, path: str, **kwargs):
    return api["app"].test_client().open(path, method=method, **kwargs)


def _etag(api, path: str) -> dict:
    etag = _send(api, "GET", path).headers["ETag"]
    return {"headers": {"If-None-Match": etag}}


class Outage:
    """A request sent while the database cannot be reached (as in tests/test_database_outage.py:
    the app's SQLite database sits in a folder that does not exist)."""

    def __init__(self, request) -> None:
        self.request = request

    @staticmethod
    def app(api):
        missing = api["tmp_path"] / "no-such-volume" / "idp.sqlite3"
        return api["make_app"](database={"url": f"sqlite:///{missing}"})


def _basic(api) -> dict:
    return {"headers": {"Authorization": api["basic"]}}


def _bearer(token: str) -> dict:
    return {"headers": {"Authorization": f"Bearer {token}"}}


# (method, path, status) -> a request that gets that status
EXAMPLES = {
    ("GET", "/.well-known/openid-configuration", "200"): lambda api: {},
    ("GET", "/.well-known/openid-configuration", "304"): lambda api: _etag(
        api, "/.well-known/openid-configuration"
    ),
    ("GET", "/.well-known/oauth-authorization-server", "200"): lambda api: {},
    ("GET", "/.well-known/oauth-authorization-server", "304"): lambda api: _etag(
        api, "/.well-known/oauth-authorization-server"
    ),
    ("GET", "/jwks", "200"): lambda api: {},
    ("GET", "/jwks", "304"): lambda api: _etag(api, "/jwks"),
    ("POST", "/token", "200"): lambda api: {
        "data": {"grant_type": "refresh_token", "refresh_token": api["tokens"]["refresh_token"]},
        "headers": {"Authorization": api["basic"]},
    },
    ("POST", "/token", "400"): lambda api: {
        "data": {"grant_type": "authorization_code", "code": "nope"},
        "headers": {"Authorization": api["basic"]},
    },
    ("POST", "/token", "401"): lambda api: {
        "data": {"grant_type": "client_credentials"},
        "headers": {"Authorization": "Basic " + base64.b64encode(b"who:what").decode()},
    },
    ("POST", "/token", "413"): lambda api: {"data": {"grant_type": "x" * MAX_BODY}},
    ("POST", "/par", "201"): lambda api: {
        "data": {
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile",
            "state": "s",
        },
        "headers": {"Authorization": api["basic"]},
    },
    ("POST", "/par", "400"): lambda api: {
        "data": {"response_type": "code", "redirect_uri": "https://evil.example/cb"},
        "headers": {"Authorization": api["basic"]},
    },
    ("POST", "/par", "401"): lambda api: {"data": {"response_type": "code"}},
    ("POST", "/par", "413"): lambda api: {"data": {"scope": "x" * MAX_BODY}},
    ("POST", "/revoke", "200"): lambda api: {
        "data": {"token": "unknown"},
        "headers": {"Authorization": api["basic"]},
    },
    ("POST", "/revoke", "400"): lambda api: {
        "data": {"token": "a", "token_type_hint": "b"},
        "headers": {"Authorization": api["basic"]},
        "content_type": "text/plain",
    },
    ("POST", "/revoke", "401"): lambda api: {"data": {"token": "a"}},
    ("POST", "/introspect", "200"): lambda api: {
        "data": {"token": api["tokens"]["access_token"]},
        "headers": {"Authorization": api["basic"]},
    },
    ("POST", "/introspect", "400"): lambda api: {
        "data": {"token": "a"},
        "headers": {"Authorization": api["basic"]},
        "content_type": "text/plain",
    },
    ("POST", "/introspect", "401"): lambda api: {"data": {"token": "a"}},
    ("GET", "/userinfo", "200"): lambda api: {
        "headers": {"Authorization": f"Bearer {api['tokens']['access_token']}"}
    },
    ("GET", "/userinfo", "400"): lambda api: {"headers": {"Authorization": "Bearer  "}},
    ("GET", "/userinfo", "401"): lambda api: {},
    ("GET", "/userinfo", "403"): lambda api: {
        "headers": {"Authorization": f"Bearer {_token_without_openid(api)}"}
    },
    ("POST", "/userinfo", "200"): lambda api: {
        "data": {"access_token": api["tokens"]["access_token"]}
    },
    ("POST", "/userinfo", "400"): lambda api: {
        "data": {"access_token": api["tokens"]["access_token"]},
        "headers": {"Authorization": f"Bearer {api['tokens']['access_token']}"},
    },
    ("POST", "/userinfo", "401"): lambda api: {"data": {"access_token": "nope"}},
    ("POST", "/userinfo", "403"): lambda api: {
        "data": {"access_token": _token_without_openid(api)}
    },
    ("POST", "/userinfo", "413"): lambda api: {"data": {"access_token": "x" * MAX_BODY}},
    ("POST", "/register", "201"): lambda api: {
        "json": {"redirect_uris": [REDIRECT_URI], "client_name": "Mitra"},
        "headers": {"Authorization": f"Bearer {api['initial']}"},
    },
    ("POST", "/register", "400"): lambda api: {
        "json": {"redirect_uris": "not a list"},
        "headers": {"Authorization": f"Bearer {api['initial']}"},
    },
    ("POST", "/register", "401"): lambda api: {"json": {}},
    ("POST", "/register", "404"): "disabled",
    ("POST", "/register", "413"): lambda api: {
        "json": {"client_name": "x" * MAX_BODY},
        "headers": {"Authorization": f"Bearer {api['initial']}"},
    },
    ("GET", "/register/{client_id}", "200"): lambda api: _management(api),
    ("GET", "/register/{client_id}", "401"): lambda api: {},
    ("GET", "/register/{client_id}", "404"): "disabled",
    ("PUT", "/register/{client_id}", "200"): lambda api: _management(
        api, json={"redirect_uris": [REDIRECT_URI], "client_name": "Renamed"}
    ),
    ("PUT", "/register/{client_id}", "400"): lambda api: _management(
        api, json={"redirect_uris": [REDIRECT_URI], "client_id": "another"}
    ),
    ("PUT", "/register/{client_id}", "401"): lambda api: {"json": {}},
    ("PUT", "/register/{client_id}", "404"): "disabled",
    ("PUT", "/register/{client_id}", "413"): lambda api: _management(
        api, json={"client_name": "x" * MAX_BODY}
    ),
    ("DELETE", "/register/{client_id}", "204"): lambda api: _management(api),
    ("DELETE", "/register/{client_id}", "401"): lambda api: {},
    ("DELETE", "/register/{client_id}", "404"): "disabled",
    # A database outage: 503 temporarily_unavailable with Retry-After on every operation.
    ("GET", "/.well-known/openid-configuration", "503"): Outage(lambda api: {}),
    ("GET", "/.well-known/oauth-authorization-server", "503"): Outage(lambda api: {}),
    ("GET", "/jwks", "503"): Outage(lambda api: {}),
    ("POST", "/token", "503"): Outage(
        lambda api: _basic(api) | {"data": {"grant_type": "client_credentials"}}
    ),
    ("POST", "/par", "503"): Outage(lambda api: _basic(api) | {"data": {"response_type": "code"}}),
    ("POST", "/revoke", "503"): Outage(lambda api: _basic(api) | {"data": {"token": "a"}}),
    ("POST", "/introspect", "503"): Outage(lambda api: _basic(api) | {"data": {"token": "a"}}),
    ("GET", "/userinfo", "503"): Outage(lambda api: _bearer(api["tokens"]["access_token"])),
    ("POST", "/userinfo", "503"): Outage(
        lambda api: {"data": {"access_token": api["tokens"]["access_token"]}}
    ),
    ("POST", "/register", "503"): Outage(
        lambda api: _bearer(api["initial"]) | {"json": {"redirect_uris": [REDIRECT_URI]}}
    ),
    ("GET", "/register/{client_id}", "503"): Outage(lambda api: _management(api)),
    ("PUT", "/register/{client_id}", "503"): Outage(
        lambda api: _management(api, json={"redirect_uris": [REDIRECT_URI]})
    ),
    ("DELETE", "/register/{client_id}", "503"): Outage(lambda api: _management(api)),
}


def _management(api, **kwargs) -> dict:
    token = api["registered"]["registration_access_token"]
    return {"headers": {"Authorization": f"Bearer {token}"}, **kwargs}


def documented_statuses() -> set[tuple[str, str, str]]:
    return {
        (method.upper(), path, status)
        for path, item in DESCRIPTION["paths"].items()
        for method, operation in item.items()
        if method in METHODS
        for status in operation["responses"]
    }


def test_every_documented_status_has_an_example():
    assert set(EXAMPLES) == documented_statuses()


@pytest.mark.parametrize(
    "method, path, status", sorted(EXAMPLES), ids=[" ".join(k) for k in sorted(EXAMPLES)]
)
def test_every_documented_status_happens(api, method, path, status):
    """Each documented answer is real, and conforms to its description."""
    example = EXAMPLES[method, path, status]
    app = api["app"]
    if example == "disabled":
        app = api["make_app"](registration={"enabled": False})
        kwargs = {"json": {}}
    elif isinstance(example, Outage):
        app = Outage.app(api)
        kwargs = example.request(api)
    else:
        kwargs = example(api)
    url = path.replace("{client_id}", api["registered"]["client_id"])
    response = app.test_client().open(url, method=method, **kwargs)
    assert str(response.status_code) == status, response.get_data(as_text=True)[:300]
    operation = SCHEMA.find_operation_by_path(method, path)
    operation.validate_response(response)
    if status == "503":
        assert response.get_json()["error"] == "temporarily_unavailable"
        assert int(response.headers["Retry-After"]) > 0


# -- schemathesis: generated requests, in process ---------------------------------------------

SCHEMATHESIS = settings(
    derandomize=True,
    database=None,
    max_examples=20,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize(
    "method, path",
    sorted(documented_operations()),
    ids=[" ".join(k) for k in sorted(documented_operations())],
)
def test_schemathesis_conformance(api, method, path):
    """Generated requests (valid and invalid credentials alike): no 5xx, answers as described."""
    operation = SCHEMA.find_operation_by_path(method, path)
    credentials = {
        "/token": api["basic"],
        "/par": api["basic"],
        "/revoke": api["basic"],
        "/introspect": api["basic"],
        "/userinfo": f"Bearer {api['tokens']['access_token']}",
        "/register": f"Bearer {api['initial']}",
        "/register/{client_id}": f"Bearer {api['registered']['registration_access_token']}",
    }
    # Mostly the operation's own credential, to get past authentication; else another or none
    # (schemathesis then sends what the security scheme allows, random values included).
    right = credentials.get(path)
    choices = [right, right, right, None, *credentials.values()] if right else [None]

    @SCHEMATHESIS
    @given(case=operation.as_strategy(), authorization=st.sampled_from(choices),
           path_client=st.sampled_from([api["registered"]["client_id"], None]))  # fmt: skip
    def check(case, authorization, path_client):
        if path_client and case.path_parameters:
            case.path_parameters = {"client_id": path_client}
        headers = {"Authorization": authorization} if authorization else None
        case.call_and_validate(app=api["app"], headers=headers, checks=CHECKS)

    check()
