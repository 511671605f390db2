"""Real `idp serve` processes for multi-node and deployment tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from .conftest import _write_config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Node:
    """One node: its own directory (config, instance, outbox) and an `idp serve` process."""

    def __init__(
        self, root: Path, name: str, issuer: str, port: int, database_url: str, **sections
    ) -> None:
        self.dir = root / name
        self.dir.mkdir()
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        values = {
            "server": {"issuer": issuer, "instance_dir": str(self.dir / "instance"),
                       "workers": 2, "threads": 2},
            "database": {"url": database_url},
            "keys": {"dir": str(self.dir / "keys"), "refresh_seconds": 0},
            "passwords": {"argon2_time_cost": 1, "argon2_memory_cost": 1024},
        }  # fmt: skip
        for section, entries in sections.items():
            values.setdefault(section, {}).update(entries)
        self.config = _write_config(self.dir / "config.toml", values)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        idp = os.path.join(os.path.dirname(sys.executable), "idp")
        command = [idp, "--config", str(self.config), "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            command, cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "PROMETHEUS"))},
        )  # fmt: skip
        deadline = time.monotonic() + 90  # a loaded machine boots gunicorn slowly
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)  # waiting for a real server process to listen
        raise RuntimeError(f"node {self.dir.name} did not become ready")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
