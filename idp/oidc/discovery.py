"""Provider metadata: OIDC Discovery 1.0 §3 and RFC 8414 §2, advertising only what works."""

from __future__ import annotations

from ..extensions import issuer, keystore, settings
from .claims import SCOPE_CLAIMS, supported_claims
from .grants import AuthorizationCodeGrant


def provider_metadata() -> dict:
    base = issuer()
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "userinfo_endpoint": f"{base}/userinfo",
        "jwks_uri": f"{base}/jwks",
        "scopes_supported": list(SCOPE_CLAIMS),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": keystore().algorithms,
        "token_endpoint_auth_methods_supported": AuthorizationCodeGrant.TOKEN_ENDPOINT_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": ["pwd", "mfa"] if settings().mfa.policy != "off" else ["pwd"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_supported": supported_claims(),
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": False,
        "authorization_response_iss_parameter_supported": True,
        "ui_locales_supported": settings().i18n.locales,
        "claims_locales_supported": settings().i18n.locales,
    }
