"""Pushed authorization requests (RFC 9126) and spent DPoP proofs (RFC 9449 §11.1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, db, spend_once


class PushedRequest(db.Model):
    """An authorization request pushed by an authenticated client, named by its request_uri."""

    __tablename__ = "pushed_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("clients.client_id", ondelete="CASCADE"), index=True
    )
    parameters: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Until claimed: the request_uri's expires_in; after: the end of the member's interaction.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The browser that first used the request_uri; only it may come back with it.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def find_pushed_request(handle_hash: str) -> PushedRequest | None:
    return db.session.scalar(select(PushedRequest).where(PushedRequest.handle_hash == handle_hash))


def claim_pushed_request(item: PushedRequest, browser: str, until: datetime, now: datetime) -> bool:
    """First use at /authorize, atomically: exactly one browser wins an unclaimed request."""
    result = db.session.execute(
        update(PushedRequest)
        .where(
            PushedRequest.id == item.id,
            PushedRequest.claimed_by.is_(None),
            PushedRequest.expires_at > now,
        )
        .values(claimed_by=browser, expires_at=until)
    )
    return result.rowcount == 1


def consume_pushed_request(item: PushedRequest, now: datetime) -> bool:
    """The authorization response was sent: the request_uri never works again."""
    result = db.session.execute(
        update(PushedRequest)
        .where(PushedRequest.id == item.id, PushedRequest.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    return result.rowcount == 1


def purge_pushed_requests(now: datetime) -> None:
    db.session.execute(delete(PushedRequest).where(PushedRequest.expires_at <= now))


class SpentProof(db.Model):
    """A DPoP proof's jti, kept while its iat is inside the accepted window: used once."""

    __tablename__ = "spent_dpop_proofs"

    id: Mapped[int] = mapped_column(primary_key=True)
    jti_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def spend_proof(jti_hash: str, expires_at: datetime, now: datetime) -> bool:
    """Record a proof's jti; False if it was seen before (a replay), on any node."""
    values = {"jti_hash": jti_hash, "expires_at": expires_at}
    return spend_once(SpentProof, values, ["jti_hash"], now)
