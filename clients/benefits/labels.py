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
    "paid_out": _l("Paid out"),
    "rejected": _l("Rejected"),
}
JHT_REASONS = {
    "resigned": _l("I stopped working (resigned or dismissed)"),
    "retired": _l("I reached retirement age (56)"),
    "permanent_disability": _l("Total permanent disability"),
    "left_indonesia": _l("I am leaving Indonesia for good"),
}
JP_KINDS = {
    "retirement": _l("Old-age pension: I reached pension age"),
    "disability": _l("Disability pension: I can no longer work because of a total disability"),
    "survivors": _l(
        "Survivors' pension: the member has died and I am their spouse, child or parent"
    ),
}
RELATIONSHIPS = {
    "spouse": _l("Husband or wife"),
    "child": _l("Child"),
    "parent": _l("Parent"),
    "grandchild": _l("Grandchild"),
    "sibling": _l("Brother or sister"),
    "designated": _l("Someone the member named in writing"),
}
# Heirs who may receive a JP survivors' pension (PP 45/2015: spouse, children, parents).
JP_SURVIVORS = ("spouse", "child", "parent")
