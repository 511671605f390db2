"""The peer: node-oidc-provider from bench/peer, one Node process, the same client as ours."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path

from . import processes
from .prereqs import PEER_DIR


class Peer:
    def __init__(self, work: Path, node: str, alg: str, client: tuple[str, str],
                 redirect_uri: str, challenge: str, cpus: str | None) -> None:  # fmt: skip
        self.work = work
        self.node = node
        self.alg = alg
        self.client = client
        self.redirect_uri = redirect_uri
        self.challenge = challenge
        self.cpus = cpus
        self.port = processes.free_port()
        self.admin_port = processes.free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.log = work / f"peer-{alg}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = dict(os.environ) | {
            "NODE_ENV": "production",
            "PEER_PORT": str(self.port),
            "PEER_ADMIN_PORT": str(self.admin_port),
            "PEER_ALG": self.alg,
            "PEER_CLIENT_ID": self.client[0],
            "PEER_CLIENT_SECRET": self.client[1],
            "PEER_REDIRECT_URI": self.redirect_uri,
            "PEER_CODE_CHALLENGE": self.challenge,
        }
        command = processes.pinned([self.node, str(PEER_DIR / "server.mjs")], self.cpus)
        self.process = processes.start(command, env=env, log=self.log, cwd=PEER_DIR)
        processes.wait_for_port(self.process, self.admin_port, self.log)

    def stop(self) -> None:
        if self.process is not None:
            processes.stop(self.process)
            self.process = None

    def worker_pids(self) -> list[int]:
        return [self.process.pid] if self.process else []

    def _seed(self, kind: str, count: int = 1) -> list[str]:
        request = urllib.request.Request(  # noqa: S310 (loopback, our own admin port)
            f"http://127.0.0.1:{self.admin_port}/seed",
            data=json.dumps({"kind": kind, "n": count}).encode(),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            return json.load(response)["values"]

    def mint_codes(self, count: int) -> list[str]:
        return self._seed("codes", count)

    def mint_refresh_tokens(self, count: int) -> list[str]:
        return self._seed("refresh", count)

    def member_access_token(self) -> str:
        return self._seed("access")[0]
