"""Every table, imported in one place so Alembic and the app see the whole schema."""

from .account import ActionToken
from .identity import AuditEvent, Member
from .keys import SigningKey
from .mfa import RecoveryCode, SecondFactor
from .oauth import AuthorizationCode, Client, Consent, Token
from .sessions import SsoSession
from .throttle import LoginThrottle, RateBucket

__all__ = [
    "ActionToken",
    "AuditEvent",
    "AuthorizationCode",
    "Client",
    "Consent",
    "LoginThrottle",
    "Member",
    "RateBucket",
    "RecoveryCode",
    "SecondFactor",
    "SigningKey",
    "SsoSession",
    "Token",
]
