"""Back-channel logout: logout tokens POSTed to clients in the background, with retries.

OIDC Back-Channel Logout 1.0: §2.4 (the logout token), §2.5 (the request), §2.7 (the OP
never waits on a relying party). Deliveries are rows, so any node may send or retry them.
"""

from __future__ import annotations

import logging
import secrets
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlencode
from urllib.request import OpenerDirector

from flask import Flask, Response, g
from sqlalchemy import func, select, update

from .. import metrics, sso
from ..background import BackgroundSender, seconds_until
from ..clock import utcnow
from ..db import db
from ..extensions import issuer, keystore, settings
from ..models import Client, LogoutDelivery, SessionClient, SsoSession
from ..models.oauth import find_client
from . import outbound

log = logging.getLogger("idp.logout")

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYP = "logout+jwt"
LOGOUT_TOKEN_LIFETIME = 120


def queue_logouts(sso: SsoSession) -> int:
    """End-of-session hook: a delivery for every client this session signed into that wants one."""
    now = utcnow()
    clients = db.session.scalars(
        select(Client)
        .join(SessionClient, SessionClient.client_id == Client.client_id)
        .where(SessionClient.session_id == sso.id, Client.backchannel_logout_uri.is_not(None))
    ).all()
    g.logout_queued = g.get("logout_queued", False) or bool(clients)
    for client in clients:
        db.session.add(
            LogoutDelivery(
                client_id=client.client_id,
                uri=client.backchannel_logout_uri,
                sid=sso.sid,
                subject=sso.member.subject,
                created_at=now,
                next_attempt_at=now,
            )
        )
    return len(clients)


def logout_token(delivery: LogoutDelivery, client: Client) -> str:
    """§2.4: iss, aud, iat, exp, jti, sub and sid, the event, and never a nonce."""
    now = int(utcnow().timestamp())
    claims = {
        "iss": issuer(),
        "aud": client.client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_LIFETIME,
        "jti": secrets.token_urlsafe(16),
        "sub": delivery.subject,
        "sid": delivery.sid,
        "events": {LOGOUT_EVENT: {}},
    }
    alg = client.id_token_signed_response_alg
    return keystore().sign(claims, alg=alg, typ=LOGOUT_TOKEN_TYP)


def post_logout_token(
    uri: str, token: str, timeout: float, opener: OpenerDirector | None = None
) -> str | None:
    """POST the token; None on a 2xx answer, else what went wrong (for the log).

    Build `opener` with outbound.opener() inside the app when calling from another thread.
    """
    request = urllib.request.Request(  # noqa: S310 - uri is a registered http(s) URL
        uri,
        data=urlencode({"logout_token": token}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with (opener or outbound.opener()).open(request, timeout=timeout) as response:
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (OSError, ValueError) as error:
        return type(error).__name__


def _claim_due(limit: int = 20) -> list[tuple[LogoutDelivery, str, str]]:
    """Take due deliveries, moving their next attempt out so no other node sends them too."""
    now = utcnow()
    lease = now + timedelta(seconds=settings().logout.backchannel_timeout * 2 + 5)
    due = db.session.scalars(
        select(LogoutDelivery)
        .where(LogoutDelivery.delivered_at.is_(None), LogoutDelivery.next_attempt_at <= now)
        .order_by(LogoutDelivery.next_attempt_at)
        .limit(limit)
    ).all()
    claimed = []
    for delivery in due:
        taken = db.session.execute(
            update(LogoutDelivery)
            .where(
                LogoutDelivery.id == delivery.id,
                LogoutDelivery.next_attempt_at == delivery.next_attempt_at,
            )
            .values(next_attempt_at=lease)
        )
        client = find_client(delivery.client_id) if taken.rowcount else None
        if client is not None:
            claimed.append((delivery, delivery.uri, logout_token(delivery, client)))
    db.session.commit()
    return claimed


def _record(delivery: LogoutDelivery, error: str | None) -> None:
    now = utcnow()
    delivery.attempts += 1
    if error is None:
        delivery.delivered_at, delivery.next_attempt_at = now, None
        log.info("backchannel logout delivered to %s", delivery.client_id)
        return
    delays = settings().logout.retry_delays
    delivery.last_error = error[:200]
    if delivery.attempts > len(delays):
        delivery.next_attempt_at = None
        log.warning(
            "backchannel logout to %s gave up after %d attempts: %s",
            delivery.client_id,
            delivery.attempts,
            error,
        )
    else:
        delivery.next_attempt_at = now + timedelta(seconds=delays[delivery.attempts - 1])
        log.info("backchannel logout to %s failed (%s); will retry", delivery.client_id, error)


def _send_in_parallel(claimed: list[tuple[LogoutDelivery, str, str]]) -> list[str | None]:
    """One daemon thread per delivery, so a hung relying party never holds up shutdown."""
    timeout = settings().logout.backchannel_timeout
    guarded = outbound.opener()  # the outbound policy, read here: the threads have no app
    outcomes: list[str | None] = ["no answer"] * len(claimed)

    def send(index: int, uri: str, token: str) -> None:
        outcomes[index] = post_logout_token(uri, token, timeout, guarded)

    threads = [
        threading.Thread(target=send, args=(index, uri, token), daemon=True)
        for index, (_, uri, token) in enumerate(claimed)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 5)
    return outcomes


def deliver_due() -> int:
    """Send every due delivery once, in parallel; return how many were attempted."""
    claimed = _claim_due()
    outcomes = _send_in_parallel(claimed)
    for (delivery, *_), error in zip(claimed, outcomes, strict=True):
        _record(delivery, error)
        metrics.delivery(
            "backchannel",
            "sent" if error is None else "retry" if delivery.next_attempt_at else "failed",
        )
    db.session.commit()
    return len(claimed)


def seconds_until_next() -> float:
    return seconds_until(
        db.session.scalar(
            select(func.min(LogoutDelivery.next_attempt_at)).where(
                LogoutDelivery.delivered_at.is_(None)
            )
        )
    )


def deliver_all_due() -> None:
    while deliver_due():
        pass


def notify_after_commit(response: Response) -> Response:
    """After-request hook: wake the sender once the view committed its deliveries."""
    if g.pop("logout_queued", False):
        dispatcher().notify()
    return response


def init_app(app: Flask) -> None:
    sender = BackgroundSender(app, "backchannel-logout", deliver_all_due, seconds_until_next)
    app.extensions["idp.logout"] = sender
    sso.on_session_end(app, queue_logouts)
    app.after_request(notify_after_commit)

    @app.before_request
    def start_sender() -> None:
        # Serving processes (`idp serve`) also pick up retries queued by others or the CLI.
        if app.config.get("IDP_BACKGROUND_SENDER"):
            sender.ensure_started()


def dispatcher() -> BackgroundSender:
    from flask import current_app

    return current_app.extensions["idp.logout"]
