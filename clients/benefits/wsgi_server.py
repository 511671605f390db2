"""Embedded gunicorn, so `benefits serve` runs a production-grade server without extra files."""

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


# The request path without its query: a callback's query holds an authorization code.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'


def serve(app: Flask, *, host: str, port: int, workers: int, threads: int) -> None:
    """Run until interrupted; logs go to stderr."""
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        # One control socket per user by default: leave it to the identity provider beside us.
        "control_socket_disable": True,
    }
    _Gunicorn(app, options).run()
