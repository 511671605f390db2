"""Claims released per scope (DESIGN.md table); NIK is never among them."""

from __future__ import annotations

from ..models import Member
from ..models.employer import current_employer_name, member_roles
from ..models.oauth import scope_list

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    "profile": ("name", "birthdate", "locale", "updated_at"),
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
    "address": ("address",),
    "membership": ("membership_number", "employer_name"),
    # Issue 20: the member's roles (`employer_admin`, `claims_officer`, ...), for clients
    # registered with this scope only (Client.get_allowed_scope drops it for the others).
    "roles": ("roles",),
    # OIDC Core §11: a refresh token that outlives the sign-in; no claims of its own.
    "offline_access": (),
}

ADDRESS_FIELDS = ("formatted", "street_address", "locality", "region", "postal_code", "country")


def _claim_values(member: Member, scopes: list[str]) -> dict:
    address = member.address or {}
    return {
        "sub": member.subject,
        "name": member.name,
        "birthdate": member.birthdate.isoformat() if member.birthdate else None,
        "locale": member.locale,
        "updated_at": int(member.updated_at.timestamp()),
        "email": member.email,
        "email_verified": bool(member.email_verified),
        "phone_number": member.phone,
        "phone_number_verified": bool(member.phone_verified),
        "address": {k: address[k] for k in ADDRESS_FIELDS if address.get(k)} or None,
        "membership_number": member.membership_number,
        "employer_name": current_employer_name(member) if "membership" in scopes else None,
        # An array, released even when empty: "no roles" is an answer the client can act on.
        "roles": member_roles(member.id) if "roles" in scopes else None,
    }


def claims_for_scope(member: Member, scope: str) -> dict:
    """The member's claims that the granted scope releases; absent values are omitted."""
    scopes = scope_list(scope)
    values = _claim_values(member, scopes)
    released: dict = {}
    for name in scopes:
        for claim in SCOPE_CLAIMS.get(name, ()):
            if values[claim] is not None:
                released[claim] = values[claim]
    return released


def supported_claims() -> list[str]:
    names = ["iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "at_hash"]
    for claims in SCOPE_CLAIMS.values():
        names.extend(c for c in claims if c not in names)
    return names
