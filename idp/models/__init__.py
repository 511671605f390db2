"""Every table, imported in one place so Alembic and the app see the whole schema."""

from .account import ActionToken
from .employer import Employer, EmployerAdmin, Employment, MemberRole
from .identity import AuditEvent, Member
from .keys import SigningKey
from .logout import LogoutDelivery
from .mfa import RecoveryCode, SecondFactor
from .oauth import AuthorizationCode, Client, Consent, Token
from .outbox import OutboxMessage
from .passkeys import Passkey, SpentChallenge
from .pushed import PushedRequest, SpentProof
from .refresh import RefreshToken
from .registration import InitialAccessToken, SpentAssertion
from .sessions import SessionClient, SsoSession
from .throttle import LoginThrottle, RateBucket

__all__ = [
    "ActionToken",
    "AuditEvent",
    "AuthorizationCode",
    "Client",
    "Consent",
    "Employer",
    "EmployerAdmin",
    "Employment",
    "InitialAccessToken",
    "LoginThrottle",
    "LogoutDelivery",
    "Member",
    "MemberRole",
    "OutboxMessage",
    "Passkey",
    "PushedRequest",
    "RateBucket",
    "RecoveryCode",
    "RefreshToken",
    "SecondFactor",
    "SessionClient",
    "SigningKey",
    "SpentAssertion",
    "SpentChallenge",
    "SpentProof",
    "SsoSession",
    "Token",
]
