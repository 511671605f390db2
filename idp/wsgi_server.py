"""`idp serve` without extra files: granian (the default) or gunicorn, both preforking.

The app is built once in the parent and inherited by each worker process at the fork, so a
worker starts serving at once; `idp serve` closes the parent's database connections first.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

# Request line and each header field at most 8 KiB with either engine (as before, gunicorn's).
MAX_HEADER_BYTES = 8190


class _Gunicorn(BaseApplication):
    def __init__(self, app: Flask, options: dict) -> None:
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._app


def _child_exit(server, worker) -> None:
    """Drop a finished worker's live gauges from the shared metrics directory."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def gunicorn_options(
    *, host: str, port: int, workers: int, threads: int, logconfig: dict | None = None
) -> dict:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        # The app logs one line per request itself (idp/logging_setup.py), with the route's
        # rule instead of the path; gunicorn's access log stays off unless asked for.
        "accesslog": None,
        "logconfig_dict": logconfig or {},
        "child_exit": _child_exit,
        # Security invariant 9: no query string or referrer (they carry codes and
        # id_token_hint), only the method, the path and the outcome.
        "access_log_format": '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"',
        "limit_request_line": MAX_HEADER_BYTES,
        "limit_request_field_size": MAX_HEADER_BYTES,
    }


def granian_options(
    *, host: str, port: int, workers: int, threads: int, logconfig: dict | None = None
) -> dict[str, Any]:
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    return {
        "address": host,
        "port": port,
        "interface": Interfaces.WSGI,
        "workers": workers,
        # Each worker runs the app on this many threads (the GIL allows one at a time; the
        # others wait on the database or SMTP meanwhile), as gunicorn's gthread workers do.
        "blocking_threads": threads,
        # Connections a worker takes on at once; beyond that they wait in the listen backlog.
        "backpressure": max(threads * 4, 16),
        "http1_settings": HTTP1Settings(max_buffer_size=MAX_HEADER_BYTES * 4),
        # The app logs one line per request itself (idp/logging_setup.py); no access log.
        "log_access": False,
        "log_dictconfig": logconfig or None,
        "respawn_failed_workers": True,
    }


def serve(
    app: Flask,
    *,
    engine: str = "granian",
    host: str,
    port: int,
    workers: int,
    threads: int,
    logconfig: dict | None = None,
) -> None:
    """Run until interrupted; logs go to stderr."""
    options = {"host": host, "port": port, "workers": workers, "threads": threads,
               "logconfig": logconfig}  # fmt: skip
    if engine == "gunicorn":
        _Gunicorn(app, gunicorn_options(**options)).run()
        return
    from granian.server import Server

    # Workers inherit the built app at the fork (granian would otherwise spawn and import).
    multiprocessing.set_start_method("fork", force=True)
    Server("idp.app:create_app", **granian_options(**options)).serve(
        target_loader=lambda _target: app
    )
