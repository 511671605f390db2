"""Telling a claim's filer, by email in the language they filed in, that their claim moved."""

from __future__ import annotations

import logging

from flask import current_app, render_template
from flask_babel import force_locale

from .mail import DeliveryError, send_mail
from .models import Claim, ClaimEvent

log = logging.getLogger("benefits.claims")


def notify_filer(claim: Claim, event: ClaimEvent) -> bool:
    """Send the status change to the filer's email; False when there is none or it failed
    (the change itself stands: the member also sees it on the claim's page)."""
    if not claim.contact_email:
        return False
    base_url = current_app.extensions["benefits.settings"].server.base_url
    with force_locale(claim.locale or "id"):
        context = {"claim": claim, "event": event, "base_url": base_url}
        subject = render_template("mail/claim_status.subject.txt", **context).strip()
        text = render_template("mail/claim_status.txt", **context)
    try:
        send_mail(claim.contact_email, subject, text)
    except DeliveryError as error:
        log.warning("claim %s: status mail not delivered: %s", claim.id, error)
        return False
    return True
