"""Tables of the benefits database: the ledger, claims and browser sessions."""

from .claims import Claim, ClaimDocument, ClaimEvent
from .ledger import PROGRAMS, Contribution, Development
from .sessions import BrowserSession, SpentLogoutToken

__all__ = [
    "PROGRAMS",
    "BrowserSession",
    "Claim",
    "ClaimDocument",
    "ClaimEvent",
    "Contribution",
    "Development",
    "SpentLogoutToken",
]
