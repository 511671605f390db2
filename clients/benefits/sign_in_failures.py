"""Why a sign-in failed: the exact cause for the log, a plain reason for the member."""

from __future__ import annotations

from authlib.integrations.base_client import OAuthError
from flask_babel import lazy_gettext as _l

# RFC 6749 §5.2 and §4.1.2.1 error codes, and Authlib's own for a lost or altered state.
_OUR_SIDE = _l(
    "The Benefits Service could not identify itself to the Social Security Portal. This is a"
    " problem on our side, not yours: please try again later, or contact the helpdesk if it"
    " goes on."
)
_TRY_AGAIN = _l(
    "This sign-in was old, used twice or took too long. Please sign in again."
)  # fmt: skip
REASONS = {
    "invalid_client": _OUR_SIDE,
    "unauthorized_client": _OUR_SIDE,
    "invalid_grant": _TRY_AGAIN,
    "mismatching_state": _TRY_AGAIN,
    "access_denied": _l("The sign-in was cancelled at the Social Security Portal."),
}
_UNCONFIRMED = _l(
    "We could not confirm this sign-in with the Social Security Portal, so you are not signed"
    " in. Please sign in again."
)


def failure_code(error: Exception) -> str:
    """The exact cause, for the log: the OAuth error code, else the exception's own words."""
    if isinstance(error, OAuthError) and error.error:
        return str(error.error)
    return f"{type(error).__name__}: {error}"


def plain_reason(error: Exception) -> str:
    """What to tell the member (in their language); never a secret or a token."""
    return str(REASONS.get(failure_code(error), _UNCONFIRMED))
