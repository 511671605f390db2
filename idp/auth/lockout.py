"""Brute-force protection: temporary identifier locks and a per-IP sliding-window throttle.

Security invariant 7. Counters are keyed by the normalised identifier whether or not an
account has it, so a lock looks the same for everyone and reveals nothing. Every change is one
atomic SQL statement (upsert or conditional update): parallel failures on any node all count,
and exactly one of them places a lock (and sends its one email).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import make_response, render_template, request
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import case, delete, select, update
from sqlalchemy.exc import OperationalError

from .. import audit, notifications
from ..audit import client_ip
from ..clock import utcnow
from ..db import db, upsert
from ..extensions import settings
from ..hashing import keyed_digest
from ..models import LoginThrottle, Member, RateBucket
from ..models.identity import find_by_identifier
from ..ratelimits import count_in_bucket
from ..timezones import time_zone_label


@dataclass(frozen=True)
class Lock:
    until: datetime

    @property
    def minutes(self) -> int:
        return max(1, math.ceil((self.until - utcnow()).total_seconds() / 60))


def throttle_key(normalized_identifier: str) -> str:
    return keyed_digest(settings().server.secret_key, f"lockout:{normalized_identifier}")


# -- Per identifier ---------------------------------------------------------------------------


def current_lock(normalized_identifier: str) -> Lock | None:
    until = db.session.scalar(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.key == throttle_key(normalized_identifier)
        )
    )
    return Lock(until) if until is not None and until > utcnow() else None


def _lock_period(lock_count: int) -> timedelta:
    conf = settings().lockout
    seconds = conf.lock_seconds * 2 ** min(lock_count, 32)
    return timedelta(seconds=min(seconds, conf.max_lock_seconds))


class IpThrottled(Exception):
    """This client IP is over its limit of failed attempts; answered 429 by `ip_throttled`."""

    def __init__(self, wait: int) -> None:
        super().__init__(wait)
        self.wait = wait


@dataclass
class Attempt:
    """One try reserved against an identifier's limit (and the client IP's) before checking.

    Reserving first, in one atomic statement, means parallel tries never check more secrets
    than the limit allows: the tries beyond it are refused unchecked.
    """

    key: str
    member: Member | None
    identity: dict
    count: int = 0  # failures in the window, this try included
    lock: Lock | None = None  # the refusal, when the try may not be checked
    ip_bucket: int | None = None


def _reserve_try(key: str, now: datetime, window: int):
    """Count one try on the identifier's row (made if missing); its counters, or None if a
    parallel transaction deleted the row in between."""
    db.session.execute(
        upsert(
            LoginThrottle,
            {"key": key, "failures": 0, "window_started_at": now, "total_failures": 0,
             "lock_count": 0, "updated_at": now},
            ["key"],
        )
    )  # fmt: skip
    locked = LoginThrottle.locked_until > now
    window_over = LoginThrottle.window_started_at <= now - timedelta(seconds=window)
    return db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key)
        .values(
            failures=case(
                (locked, LoginThrottle.failures),
                (window_over, 1),
                else_=LoginThrottle.failures + 1,
            ),
            window_started_at=case(
                (locked, LoginThrottle.window_started_at),
                (window_over, now),
                else_=LoginThrottle.window_started_at,
            ),
            updated_at=now,
        )
        .returning(LoginThrottle.failures, LoginThrottle.locked_until, LoginThrottle.lock_count)
    ).first()


def begin_attempt(
    normalized_identifier: str,
    member: Member | None,
    *,
    refused_event: str = "signin_refused_locked",
) -> Attempt:
    """Reserve a try; `attempt.lock` is set when it is refused. Raises IpThrottled. Commits."""
    conf = settings().lockout
    now = utcnow()
    key = throttle_key(normalized_identifier)
    row = None
    # A parallel sign-in that succeeds deletes the row (`clear`) between our two statements;
    # then the row is simply made again (three tries: each needs a success in between).
    for _try in range(3):
        row = _reserve_try(key, now, conf.window)
        if row is not None:
            break
    if row is None:
        raise OperationalError("login_throttles", {}, RuntimeError("throttle row kept vanishing"))
    attempt = Attempt(key, member, _identity(member, normalized_identifier), row.failures)
    attempt.ip_bucket = _reserve_ip(now)
    if row.locked_until is not None and row.locked_until > now:
        attempt.lock = Lock(row.locked_until)
    elif row.failures > conf.max_failures:
        # A parallel try holds the last slot and locks the identifier if it fails: this one
        # is refused unchecked and gives its reservation back.
        attempt.lock = Lock(now + _lock_period(row.lock_count))
        db.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key, LoginThrottle.failures > 0)
            .values(failures=LoginThrottle.failures - 1)
        )
    if attempt.lock is not None:
        _count_refusal(attempt, refused_event)
    db.session.commit()
    return attempt


def _count_refusal(attempt: Attempt, event: str) -> None:
    db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == attempt.key)
        .values(total_failures=LoginThrottle.total_failures + 1)
    )
    audit.record(event, **attempt.identity)


def attempt_failed(attempt: Attempt, *, event: str = "signin_failed") -> Lock | None:
    """The secret was wrong: the reserved try stays counted. The lock it placed, if any.

    Commits: a failure must be counted even if the rest of the request fails.
    """
    _count_refusal(attempt, event)
    lock = None
    if attempt.count >= settings().lockout.max_failures:
        lock = _place_lock(attempt.key, utcnow(), attempt.identity)
    db.session.commit()
    member = attempt.member
    if lock is not None and member is not None and member.email:
        _send_lock_notice(member, lock)
    return lock


def attempt_succeeded(attempt: Attempt) -> None:
    """The secret was right: give the reserved try back (a whole sign-in `clear`s). Commits.

    Committed here, so the IP bucket is not held while the sign-in goes on: the sign-in's
    `clear` later deletes the identifier's row, and holding the bucket until then would
    take the two locks in the opposite order to a parallel `begin_attempt` (a deadlock).
    """
    db.session.execute(
        update(LoginThrottle)
        .where(
            LoginThrottle.key == attempt.key,
            LoginThrottle.failures > 0,
            LoginThrottle.locked_until.is_(None) | (LoginThrottle.locked_until <= utcnow()),
        )
        .values(failures=LoginThrottle.failures - 1)
    )
    _release_ip(attempt.ip_bucket)
    db.session.commit()


def _place_lock(key: str, now: datetime, identity: dict) -> Lock | None:
    """Lock, unless a parallel request just did: the conditional update lets one win."""
    lock_count = db.session.scalar(select(LoginThrottle.lock_count).where(LoginThrottle.key == key))
    until = now + _lock_period(lock_count or 0)
    placed = db.session.execute(
        update(LoginThrottle)
        .where(
            LoginThrottle.key == key,
            LoginThrottle.failures >= settings().lockout.max_failures,
            (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until <= now),
        )
        .values(locked_until=until, lock_count=LoginThrottle.lock_count + 1, failures=0)
    ).rowcount
    if placed != 1:
        return None
    audit.record(
        "account_locked",
        member_id=identity.get("member_id"),
        detail=(identity.get("detail") or {}) | {"until": until.isoformat()},
    )
    return Lock(until)


def _identity(member: Member | None, normalized_identifier: str) -> dict:
    """Audit fields: the member, or only a hash of an identifier that names no account."""
    if member is not None:
        return {"member_id": member.id}
    return {"detail": {"identifier_hash": throttle_key(normalized_identifier)[:16]}}


def _send_lock_notice(member: Member, lock: Lock) -> None:
    notifications.notify(
        member,
        lambda: _(
            "Someone entered a wrong password for your account too many times, so sign-in is "
            "locked until %(until)s. If it was you, wait or reset your password to unlock it now.",
            until=format_datetime(lock.until, "short") + " " + time_zone_label(),
        ),
    )


def clear(normalized_identifier: str) -> None:
    """A successful sign-in resets the count and the lock history; the caller commits."""
    db.session.execute(
        delete(LoginThrottle).where(LoginThrottle.key == throttle_key(normalized_identifier))
    )


def unlock_member(member: Member, *, reason: str) -> bool:
    """Clear the counters of every identifier of this member; True if one was locked."""
    identifiers = [v for v in (member.membership_number, member.email) if v]
    keys = [throttle_key(value) for value in identifiers]
    was_locked = bool(
        db.session.scalar(
            select(LoginThrottle.key).where(
                LoginThrottle.key.in_(keys), LoginThrottle.locked_until > utcnow()
            )
        )
    )
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))
    if was_locked:
        audit.record("account_unlocked", member_id=member.id, detail={"by": reason})
    return was_locked


def unlock_identifier(normalized_identifier: str, *, reason: str) -> bool:
    """Operator unlock: the identifier, and every identifier of its member if it has one."""
    member = find_by_identifier(normalized_identifier)
    if member is not None:
        return unlock_member(member, reason=reason)
    key = throttle_key(normalized_identifier)
    was_locked = current_lock(normalized_identifier) is not None
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
    if was_locked:
        audit.record("account_unlocked", detail={"identifier_hash": key[:16], "by": reason})
    return was_locked


# -- Per client IP: a sliding window made of two fixed buckets ------------------------------


def _reserve_ip(now: datetime) -> int | None:
    """Count this try against the client IP before it is checked; raise IpThrottled if the
    sliding window is already full (parallel tries included)."""
    ip = client_ip()
    if not ip:
        return None
    conf = settings().lockout
    bucket = int(now.timestamp()) // conf.ip_window
    current = count_in_bucket(ip, bucket, keep=1)  # the sliding window reads two buckets
    previous = db.session.scalar(
        select(RateBucket.count).where(RateBucket.source == ip, RateBucket.bucket == bucket - 1)
    )
    elapsed = now.timestamp() - bucket * conf.ip_window
    wait = retry_after(previous or 0, current - 1, elapsed, conf.ip_window, conf.ip_max_failures)
    if wait is not None:
        _release_ip(bucket)
        db.session.commit()
        raise IpThrottled(wait)
    return bucket


def _release_ip(bucket: int | None) -> None:
    ip = client_ip()
    if bucket is None or not ip:
        return
    db.session.execute(
        update(RateBucket)
        .where(RateBucket.source == ip, RateBucket.bucket == bucket, RateBucket.count > 0)
        .values(count=RateBucket.count - 1)
    )


def ip_retry_after() -> int | None:
    """Seconds until this client IP may try again, or None when it is under the limit."""
    ip = client_ip()
    if not ip:
        return None
    conf = settings().lockout
    now = utcnow().timestamp()
    bucket = int(now) // conf.ip_window
    counts = dict(
        db.session.execute(
            select(RateBucket.bucket, RateBucket.count).where(
                RateBucket.source == ip, RateBucket.bucket >= bucket - 1
            )
        ).all()
    )
    elapsed = now - bucket * conf.ip_window
    return retry_after(
        counts.get(bucket - 1, 0), counts.get(bucket, 0), elapsed, conf.ip_window,
        conf.ip_max_failures,
    )  # fmt: skip


def ip_throttled(view):
    """Answer a POST with 429 and Retry-After while this client IP is over its limit."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        try:
            if request.method == "POST" and (wait := ip_retry_after()) is not None:
                raise IpThrottled(wait)
            return view(*args, **kwargs)
        except IpThrottled as throttled:
            response = make_response(
                render_template(
                    "auth/throttled.html", minutes=max(1, math.ceil(throttled.wait / 60))
                ),
                429,
            )
            response.headers["Retry-After"] = str(throttled.wait)
            return response

    return wrapped


def retry_after(previous: int, current: int, elapsed: float, window: int, limit: int) -> int | None:
    """Sliding-window estimate `previous·(1 − elapsed/window) + current` against the limit.

    Returns None when under the limit, else the whole seconds until the estimate drops below
    it (the previous bucket's weight fades, then the current bucket becomes the previous one).
    """
    if previous * (1 - elapsed / window) + current < limit:
        return None
    if current < limit:  # the previous bucket's share fades within this bucket
        wait = window * (1 - (limit - current) / previous) - elapsed
    else:  # wait for this bucket to become the previous one and fade enough
        wait = (window - elapsed) + window * (1 - limit / current)
    return max(1, math.ceil(wait + 1e-9))
