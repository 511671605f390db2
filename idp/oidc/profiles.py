"""Security profiles a client is held to: the FAPI 2.0 Security Profile (Final, 2025).

FAPI 2.0 §5.3.2.2: pushed authorization requests only, PKCE with S256, authorization codes
of at most 60 seconds; §5.3.2.1 / §5.3.3: sender-constrained access tokens (DPoP here), the
`iss` authorization response parameter (RFC 9207, sent to every client), and
`private_key_jwt` client authentication; §5.4.1: PS256 or ES256 for every signature.
"""

from __future__ import annotations

from ..models import Client

FAPI2 = "fapi2"
PROFILES = (FAPI2,)
FAPI2_SIGNING_ALGS = ["ES256", "PS256"]
FAPI2_AUTH_METHOD = "private_key_jwt"
FAPI2_MAX_CODE_LIFETIME = 60


def is_fapi2(client: Client) -> bool:
    return client.profile == FAPI2


def requires_pushed_requests(client: Client) -> bool:
    return client.require_pushed_authorization_requests or is_fapi2(client)


def requires_dpop(client: Client) -> bool:
    return client.dpop_bound_access_tokens or is_fapi2(client)


def requires_pkce(client: Client) -> bool:
    return client.is_public or is_fapi2(client)


def assertion_signing_algs(client: Client, default: list[str]) -> list[str]:
    return FAPI2_SIGNING_ALGS if is_fapi2(client) else default


def code_lifetime(client: Client, configured: int) -> int:
    return min(configured, FAPI2_MAX_CODE_LIFETIME) if is_fapi2(client) else configured


def profile_problem(
    profile: str | None, auth_method: str, id_token_alg: str, access_token_alg: str | None = None
) -> str | None:
    """Why metadata does not fit the profile (for the registration error), or None."""
    if profile is None:
        return None
    if profile not in PROFILES:
        return f"profile must be one of {list(PROFILES)}"
    if auth_method != FAPI2_AUTH_METHOD:
        return "the fapi2 profile needs token_endpoint_auth_method private_key_jwt"
    if id_token_alg not in FAPI2_SIGNING_ALGS:
        return f"the fapi2 profile signs ID tokens with {' or '.join(FAPI2_SIGNING_ALGS)} only"
    if access_token_alg is not None and access_token_alg not in FAPI2_SIGNING_ALGS:
        return f"the fapi2 profile signs access tokens with {' or '.join(FAPI2_SIGNING_ALGS)} only"
    return None
