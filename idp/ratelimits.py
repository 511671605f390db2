"""Per-client-IP allowances for the messages we send (reset links, verification links, codes).

Counted in the shared database (one row per IP, kind and hour), so every node sees them.
"""

from __future__ import annotations

from sqlalchemy import delete

from .audit import client_ip
from .clock import utcnow
from .db import db, upsert
from .models import RateBucket

# Messages a client IP may make us send per hour, per kind (resets, links, codes): enough
# for a shared office connection, far too few for a flood at one member's inbox or phone.
IP_MESSAGE_LIMITS = {"reset": 20, "verify_email": 20, "code": 30}
MESSAGE_WINDOW = 3600


def count_in_bucket(source: str, bucket: int, *, keep: int = 0) -> int:
    """Add one to a source's bucket, atomically, and drop buckets more than `keep` older;
    the bucket's count after it."""
    count = db.session.execute(
        upsert(
            RateBucket,
            {"source": source, "bucket": bucket, "count": 1},
            ["source", "bucket"],
            {"count": RateBucket.count + 1},
        ).returning(RateBucket.count)
    ).scalar_one()
    db.session.execute(
        delete(RateBucket).where(RateBucket.source == source, RateBucket.bucket < bucket - keep)
    )
    return count


def ip_allows_message(kind: str) -> bool:
    """Count one message of `kind` requested by this client IP; False once over its limit."""
    ip = client_ip()
    if not ip:
        return True
    now = utcnow()
    source = f"{kind}:{ip}"[:64]
    bucket = int(now.timestamp()) // MESSAGE_WINDOW
    return count_in_bucket(source, bucket) <= IP_MESSAGE_LIMITS[kind]
