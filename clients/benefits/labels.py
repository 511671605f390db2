"""What members read for the ledger's codes, in their language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

PROGRAMS = {
    "JHT": _l("Old-age savings (JHT)"),
    "JP": _l("Pension (JP)"),
    "JKK": _l("Work accident (JKK)"),
    "JKM": _l("Death benefit (JKM)"),
}
CONTRIBUTION_STATUSES = {
    "paid": _l("Paid on time"),
    "late": _l("Paid late"),
    "unpaid": _l("Not yet paid"),
}
CLAIM_STATUSES = {
    "submitted": _l("Submitted"),
    "in_review": _l("In review"),
    "approved": _l("Approved"),
    "paid": _l("Paid out"),
    "rejected": _l("Rejected"),
}
JHT_REASONS = {
    "resigned": _l("I stopped working (resigned or dismissed)"),
    "retired": _l("I reached retirement age (56)"),
    "permanent_disability": _l("Total permanent disability"),
    "left_indonesia": _l("I am leaving Indonesia for good"),
}
