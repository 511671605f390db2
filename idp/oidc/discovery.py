"""Provider metadata: OIDC Discovery 1.0 §3 and RFC 8414 §2, advertising only what works."""

from __future__ import annotations

from ..extensions import issuer, keystore, settings
from .claims import SCOPE_CLAIMS, supported_claims
from .client_auth import ASSERTION_SIGNING_ALGS, TOKEN_ENDPOINT_AUTH_METHODS
from .dpop import DPOP_SIGNING_ALGS
from .introspection import CONFIDENTIAL_METHODS
from .request_objects import REQUEST_OBJECT_SIGNING_ALGS


def provider_metadata() -> dict:
    base = issuer()
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "userinfo_endpoint": f"{base}/userinfo",
        "jwks_uri": f"{base}/jwks",
        "end_session_endpoint": f"{base}/end-session",
        "revocation_endpoint": f"{base}/revoke",
        "introspection_endpoint": f"{base}/introspect",
        "pushed_authorization_request_endpoint": f"{base}/par",
        **(
            {"registration_endpoint": f"{base}/register"} if settings().registration.enabled else {}
        ),
        "scopes_supported": list(SCOPE_CLAIMS),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": keystore().algorithms,
        "token_endpoint_auth_methods_supported": TOKEN_ENDPOINT_AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_SIGNING_ALGS,
        "revocation_endpoint_auth_methods_supported": TOKEN_ENDPOINT_AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_SIGNING_ALGS,
        "introspection_endpoint_auth_methods_supported": CONFIDENTIAL_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_SIGNING_ALGS,
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": ["pwd", "mfa"] if settings().mfa.policy != "off" else ["pwd"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_supported": supported_claims(),
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": False,
        "request_parameter_supported": True,
        "request_object_signing_alg_values_supported": REQUEST_OBJECT_SIGNING_ALGS,
        # RFC 9101 §5.2: only the request_uri of a pushed request (RFC 9126), never fetched.
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": False,
        "require_pushed_authorization_requests": False,
        "dpop_signing_alg_values_supported": DPOP_SIGNING_ALGS,
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "ui_locales_supported": settings().i18n.locales,
        "claims_locales_supported": settings().i18n.locales,
    }
