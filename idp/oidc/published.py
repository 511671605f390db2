"""Discovery and the JWKS answered from bytes, before Flask, sessions or the database.

Relying parties fetch these two documents more than anything else. The first GET of each
goes through Flask as usual (headers, ETag, security headers and all); its response is kept
and replayed for `[keys] refresh_seconds`, the period within which a node picks up a key
rotation anyway, and dropped at once when this process's key ring changes. A conditional
GET whose If-None-Match names the kept ETag gets 304 from the same bytes. With the setting
at 0 every request goes through Flask.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..logging_setup import REQUEST_ID

PATHS = frozenset(
    {"/jwks", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"}
)
# Headers a 304 repeats (RFC 9110 §15.4.5); the rest describe the body it does not carry.
NOT_MODIFIED_HEADERS = frozenset({"cache-control", "etag", "vary", "access-control-allow-origin"})
PER_RESPONSE = frozenset({"x-request-id", "date"})


@dataclass(frozen=True)
class Kept:
    taken: float
    headers: list[tuple[str, str]]
    body: bytes
    etag: str
    not_modified: list[tuple[str, str]]


class PublishedDocuments:
    """WSGI middleware replaying the last 200 answer for each published document."""

    def __init__(self, app: Callable, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self._kept: dict[str, Kept] = {}
        self._lock = threading.Lock()
        self.now: Callable[[], float] = time.monotonic  # a test may turn it

    def forget(self) -> None:
        with self._lock:
            self._kept.clear()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if (
            self.seconds <= 0
            or path not in PATHS
            or environ.get("REQUEST_METHOD") != "GET"
            or environ.get("QUERY_STRING")
        ):
            return self.app(environ, start_response)
        kept = self._kept.get(path)
        if kept is not None and self.now() - kept.taken < self.seconds:
            return self._replay(kept, environ, start_response)
        return self._take(path, environ, start_response)

    def _replay(self, kept: Kept, environ: dict, start_response: Callable) -> Iterable[bytes]:
        offered = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = offered if REQUEST_ID.fullmatch(offered) else secrets.token_hex(16)
        offered_tags = _tags(environ.get("HTTP_IF_NONE_MATCH", ""))
        if kept.etag and (kept.etag in offered_tags or "*" in offered_tags):
            start_response("304 Not Modified", [*kept.not_modified, ("X-Request-ID", request_id)])
            return [b""]
        start_response("200 OK", [*kept.headers, ("X-Request-ID", request_id)])
        return [kept.body]

    def _take(self, path: str, environ: dict, start_response: Callable) -> Iterable[bytes]:
        answer: dict = {}

        def capture(status: str, headers: list, exc_info=None):
            answer["status"], answer["headers"] = status, headers
            return start_response(status, headers, exc_info)

        started = self.now()
        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        headers = answer.get("headers", [])
        names = {name.lower() for name, _ in headers}
        if answer.get("status", "").startswith("200") and "set-cookie" not in names:
            stable = [(n, v) for n, v in headers if n.lower() not in PER_RESPONSE]
            etag = next((v for n, v in stable if n.lower() == "etag"), "")
            repeated = [(n, v) for n, v in stable if n.lower() in NOT_MODIFIED_HEADERS]
            with self._lock:
                self._kept[path] = Kept(started, stable, body, etag, repeated)
        return [body]


def _tags(header: str) -> set[str]:
    """The entity tags of an If-None-Match header (weak ones compare equal here)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
