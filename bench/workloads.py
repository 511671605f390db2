"""The workloads of `make bench`: the same requests, in each server's own paths."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    method: str
    ours_path: str
    peer_path: str | None  # None: measured on our side only
    body: str | None = None
    client_auth: bool = False  # HTTP Basic with the shared client's id and secret
    bearer: bool = False  # the member's access token
    single_use: str | None = None  # "codes" or "refresh": a fresh value per request
    signs: bool = False  # signs a token: also measured with ES256


CODE_BODY = (
    "grant_type=authorization_code&code={value}&redirect_uri={redirect_uri}"
    "&code_verifier={verifier}"
)

WORKLOADS = [
    Workload("discovery", "discovery", "GET", "/.well-known/openid-configuration",
             "/.well-known/openid-configuration"),
    Workload("jwks", "JWKS", "GET", "/jwks", "/jwks"),
    Workload("client_credentials", "client_credentials, JWT access token", "POST", "/token",
             "/token", body="grant_type=client_credentials", client_auth=True, signs=True),
    Workload("authorization_code", "authorization_code redemption (pre-minted codes)", "POST",
             "/token", "/token", body=CODE_BODY, client_auth=True, single_use="codes",
             signs=True),
    Workload("refresh", "refresh_token (rotating, pre-minted)", "POST", "/token", "/token",
             body="grant_type=refresh_token&refresh_token={value}", client_auth=True,
             single_use="refresh", signs=True),
    Workload("userinfo", "userinfo", "GET", "/userinfo", "/me", bearer=True),
    Workload("introspection", "introspection", "POST", "/introspect", "/token/introspection",
             body="token={token}", client_auth=True),
]  # fmt: skip

# Sign-in: the form post with identifier, password and CSRF token; argon2-bound, ours only
# (the peer keeps no passwords), reported as sign-ins/s and as the time beyond the hash.
SIGN_IN = Workload(
    "sign_in",
    "sign-in (form post, argon2id)",
    "POST",
    "/login",
    None,
    body="identifier={identifier}&password={password}&csrf_token={csrf}",
)

# At 1,000 and at 1,000,000 stored rows (the p99 target).
SCALE_WORKLOADS = ["client_credentials", "userinfo", "introspection"]


def by_name(name: str) -> Workload:
    return next(w for w in [*WORKLOADS, SIGN_IN] if w.name == name)
