"""The one time zone members see, always named: stored times stay UTC (invariant 10)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import format_datetime

from .extensions import settings

# Indonesia's own abbreviations; elsewhere the offset ("GMT+07:00").
ZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
               "Asia/Jayapura": "WIT"}  # fmt: skip


def time_zone_label() -> str:
    """The label shown beside every time on a page or in a message."""
    zone = settings().i18n.timezone
    return ZONE_LABELS.get(zone) or format_datetime(datetime.now(UTC), "ZZZZ")
