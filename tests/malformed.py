"""Malformed requests get the RFC's error or a clear 4xx page: never a 500, never a stored change.

Shared by the test modules that send bad input: the size caps, undecodable bytes, and checks
that a refusal has the right shape and wrote nothing.
"""

from __future__ import annotations

import base64
import json

import pytest
import sqlalchemy as sa

import idp.models  # noqa: F401  (every table registered before the database is read)
from idp.db import db

MAX_BODY = 65536  # [server] max_body_bytes default
MAX_QUERY = 8192
URLENCODED = "application/x-www-form-urlencoded"

BAD_BYTES = [
    pytest.param(b"%ff%fe", id="percent-encoded-invalid-utf8"),
    pytest.param(b"%c3%28", id="percent-encoded-bad-continuation"),
    pytest.param(b"%ed%a0%80", id="percent-encoded-surrogate"),
    pytest.param(b"\xff\xfe", id="raw-invalid-utf8"),
    pytest.param(b"%00", id="percent-encoded-nul"),
    pytest.param(b"\x00", id="raw-nul"),
]


def stored_rows(app) -> dict[str, list[tuple]]:
    """Every row of every table: equal before and after means nothing was written."""
    with app.app_context():
        return {
            table.name: sorted(map(tuple, db.session.execute(sa.select(table)).all()), key=repr)
            for table in db.metadata.sorted_tables
        }


def assert_oauth_error(response, status: int, error: str = "invalid_request") -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == error
    assert "no-store" in response.headers.get("Cache-Control", "")


def assert_page(response, status: int) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers


def b64url(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
