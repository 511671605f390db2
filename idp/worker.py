"""`idp worker`: the process that sends queued messages and prunes expired rows.

With `[delivery] mode = "worker"` serving nodes only queue; one or more workers (any node may
run one: rows are claimed with a lease) deliver mail, SMS and back-channel logouts, and run
`idp purge` every `[retention] purge_interval` seconds.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timedelta

from .clock import utcnow
from .db import db
from .extensions import settings

log = logging.getLogger("idp.worker")


def work_once(last_purge: datetime | None) -> tuple[int, datetime | None]:
    """Deliver everything due, purge when due; return how many were attempted and the purge."""
    from .oidc.backchannel import deliver_due as deliver_logouts
    from .outbox import flush
    from .purge import purge

    attempted = flush()
    while sent := deliver_logouts():
        attempted += sent
    now = utcnow()
    interval = timedelta(seconds=settings().retention.purge_interval)
    if last_purge is None or now - last_purge >= interval:
        counts = purge()
        log.info("purged %d rows", sum(counts.values()), extra={"purged": counts})
        last_purge = now
    return attempted, last_purge


def run_worker(*, once: bool = False) -> None:
    """Loop until SIGTERM or SIGINT (or one round with `once`)."""
    from .oidc.backchannel import seconds_until_next as logout_wait
    from .outbox import seconds_until_next as outbox_wait

    stop = threading.Event()
    if not once:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    last_purge = None
    while True:
        try:
            _, last_purge = work_once(last_purge)
            # Nodes cannot wake a worker in another process: poll often, the query is indexed.
            wait = min(outbox_wait(), logout_wait(), settings().delivery.poll_seconds)
        except Exception:  # the worker must outlive a database hiccup
            log.exception("worker round failed; retrying")
            db.session.rollback()
            wait = 5.0
        finally:
            db.session.remove()
        if once or stop.wait(timeout=max(wait, 0.1)):
            return
