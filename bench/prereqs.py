"""Install what `make bench` needs beside the virtualenv: wrk (Debian) and the peer (npm)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PEER_DIR = Path(__file__).resolve().parent / "peer"


class MissingTool(RuntimeError):
    """A prerequisite that could not be installed; the message says which and why."""


def ensure_wrk() -> str:
    """wrk from Debian's packages (apt-get update first, as the working rules ask)."""
    found = shutil.which("wrk")
    if found:
        return found
    if not shutil.which("apt-get"):
        raise MissingTool("wrk is not installed and apt-get is not available")
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "wrk"]):
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise MissingTool(f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}")
    found = shutil.which("wrk")
    if not found:
        raise MissingTool("apt-get installed wrk but it is not on PATH")
    return found


def ensure_peer() -> str:
    """node-oidc-provider at the version pinned in bench/peer/package-lock.json (npm ci)."""
    node = shutil.which("node")
    if not node or not shutil.which("npm"):
        raise MissingTool("the peer needs node and npm (Debian: apt-get install nodejs npm)")
    installed = PEER_DIR / "node_modules" / "oidc-provider" / "package.json"
    lock = PEER_DIR / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        done = subprocess.run(  # noqa: S603
            ["npm", "ci", "--no-audit", "--no-fund"],  # noqa: S607
            cwd=PEER_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise MissingTool(f"npm ci in bench/peer failed: {done.stderr.strip()[-300:]}")
    return node


def tool_versions(node: str, wrk: str) -> dict[str, str]:
    """Versions for the results file: wrk, node, oidc-provider."""
    import json

    def first_line(command: list[str]) -> str:
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        return (done.stdout or done.stderr).strip().splitlines()[0] if done else ""

    peer = json.loads((PEER_DIR / "node_modules" / "oidc-provider" / "package.json").read_text())
    return {
        "wrk": first_line([wrk, "--version"]).split(" [")[0],
        "node": first_line([node, "--version"]),
        "oidc-provider": peer["version"],
    }
