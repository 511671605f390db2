"""Structured logs on stderr: one line per request and per audit event, with a request id.

`[log] format = "json"` (the production default) or `"text"`. Security invariant 9: a request
line names the route's rule (`/account/verify/<token>`), never the path a token sits in, and
no query string; an unmatched path has its token-like segments blanked.
"""

from __future__ import annotations

import logging
import logging.config
import re
import secrets
import time

from flask import Flask, Response, g, has_request_context, request

from .config import Settings

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# A path segment that may be a secret: long enough and drawn from token alphabets.
TOKEN_LIKE = re.compile(r"^[A-Za-z0-9_~.=+-]{16,}$")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
log = logging.getLogger("idp.request")


class RequestIdFilter(logging.Filter):
    """Stamp every record with the current request's id ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def logging_config(settings: Settings) -> dict:
    """A dictConfig for the process (also handed to the HTTP server, so its own lines match)."""
    formatter = (
        {"()": "pythonjsonlogger.json.JsonFormatter",
         "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
         "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}}
        if settings.log_format == "json"
        else {"format": TEXT_FORMAT}
    )  # fmt: skip
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"main": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "main",
                "filters": ["request_id"],
            }
        },
        "root": {"level": settings.log.level, "handlers": ["stderr"]},
        "loggers": {
            # Security invariant 9: Authlib logs issued tokens at DEBUG.
            "authlib": {"level": "INFO"},
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
            "_granian": {"level": "INFO", "handlers": [], "propagate": True},
            "granian.access": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }


def configure(settings: Settings) -> None:
    """Set up the process's logging (called by `idp serve`, `idp worker` and other commands)."""
    logging.config.dictConfig(logging_config(settings))


def redact_path(path: str) -> str:
    """Blank every path segment that could be a token or code."""
    return "/".join("…" if TOKEN_LIKE.match(part) else part for part in path.split("/"))


def _start() -> None:
    offered = request.headers.get("X-Request-ID", "")
    g.request_id = offered if REQUEST_ID.fullmatch(offered) else secrets.token_hex(16)
    g.log_started = time.perf_counter()


def _log_request(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    started = g.get("log_started")
    # The rule, not the path: /account/verify/<token> never shows the token.
    path = request.url_rule.rule if request.url_rule else redact_path(request.path)
    duration = round((time.perf_counter() - started) * 1000, 1) if started else None
    log.info(
        "%s %s %s %sms", request.method, path, response.status_code, duration,
        extra={"http": {"method": request.method, "path": path, "status": response.status_code,
                        "duration_ms": duration, "remote_addr": request.remote_addr}},
    )  # fmt: skip
    return response


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _start)  # first: ids every request
    app.after_request(_log_request)
