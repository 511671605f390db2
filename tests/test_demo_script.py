"""`make demo` run again while a demo runs, or onto busy ports, refuses before changing
anything and says what to do."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

DEMO = Path(__file__).parent.parent / "scripts" / "demo"


def _run_demo(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {
        "PATH": os.environ["PATH"],
        "IDP_CONFIG": "",
        "IDP_SERVER_INSTANCE_DIR": str(tmp_path / "instance"),
        "DEMO_PIDFILE": str(tmp_path / "demo.pid"),
    } | env
    return subprocess.run(
        ["bash", str(DEMO)], env=environ, capture_output=True, text=True, timeout=60
    )


def test_a_second_demo_refuses_while_the_first_runs(tmp_path):
    (tmp_path / "demo.pid").write_text(str(os.getpid()))  # a live process holds the demo
    result = _run_demo(tmp_path)
    assert result.returncode == 1
    assert "already running" in result.stderr and f"kill {os.getpid()}" in result.stderr
    assert not (tmp_path / "instance").exists()  # nothing was changed


def test_busy_ports_are_refused_and_other_ports_suggested(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        result = _run_demo(tmp_path, DEMO_IDP_PORT=port, DEMO_BENEFITS_PORT="1")
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "DEMO_IDP_PORT=" in result.stderr
    assert not (tmp_path / "instance").exists()
    assert not (tmp_path / "demo.pid").exists()


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"DEMO_IDP_PORT": "http"}, "ports must be numbers"),
        ({"DEMO_IDP_PORT": "5400", "DEMO_BENEFITS_PORT": "5400"}, "must differ"),
    ],
)
def test_bad_ports_are_refused(tmp_path, env, words):
    result = _run_demo(tmp_path, **env)
    assert result.returncode == 2 and words in result.stderr
