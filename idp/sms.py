"""Outbound SMS: `outbox` (one JSON file per message) or `webhook` (POST to a gateway)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable

from .clock import utcnow
from .config import Settings
from .mail import DeliveryError, write_atomically


def deliver_to_outbox(conf: Settings, to: str, body: str) -> None:
    document = {"to": to, "body": body, "created_at": utcnow().isoformat()}
    write_atomically(conf.sms_outbox_dir, ".json", json.dumps(document).encode())


def deliver_by_webhook(conf: Settings, to: str, body: str) -> None:
    """POST {"to", "body"} with a bearer token; retry a failed attempt up to webhook_retries."""
    sms = conf.sms
    payload = json.dumps({"to": to, "body": body}).encode()
    headers = {"Content-Type": "application/json"}
    if sms.webhook_token:
        headers["Authorization"] = f"Bearer {sms.webhook_token}"
    last_error: Exception | None = None
    for _attempt in range(1 + sms.webhook_retries):
        request = urllib.request.Request(sms.webhook_url, data=payload, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=sms.webhook_timeout) as response:  # noqa: S310
                if 200 <= response.status < 300:
                    return
        except urllib.error.HTTPError as error:
            error.close()  # it holds the connection
            last_error = error
        except (urllib.error.URLError, OSError) as error:
            last_error = error
    raise DeliveryError(f"SMS gateway did not accept the message: {last_error}")


# Registry: [sms] backend -> delivery function.
BACKENDS: dict[str, Callable[[Settings, str, str], None]] = {
    "outbox": deliver_to_outbox,
    "webhook": deliver_by_webhook,
}


def send_sms(to: str, body: str) -> None:
    """Queue one SMS (E.164 number) for the configured backend (commits; see outbox.enqueue)."""
    from .outbox import enqueue

    enqueue("sms", json.dumps({"to": to, "body": body}).encode())
