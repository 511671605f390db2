"""Embedded gunicorn, so `idp serve` runs a production-grade server without extra files."""

from __future__ import annotations

from flask import Flask
from gunicorn.app.base import BaseApplication


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
        "limit_request_line": 8190,
        "limit_request_field_size": 8190,
    }


def serve(
    app: Flask, *, host: str, port: int, workers: int, threads: int, logconfig: dict | None = None
) -> None:
    """Run until interrupted; logs go to stderr."""
    options = gunicorn_options(
        host=host, port=port, workers=workers, threads=threads, logconfig=logconfig
    )
    _Gunicorn(app, options).run()
