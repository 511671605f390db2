"""Run wrk (a separate process, on its own CPUs) with bench/wrk/bench.lua; parse its result."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import processes

SCRIPT = Path(__file__).resolve().parent / "wrk" / "bench.lua"


@dataclass(frozen=True)
class Request:
    """What one wrk run sends: the same shape for ours and the peer."""

    base_url: str
    path: str
    method: str = "GET"
    body: str | None = None
    values_file: Path | None = None
    authorization: str = ""
    cookie: str = ""
    expect: int = 200


@dataclass(frozen=True)
class Load:
    """How hard: the same for both sides (the issue's 4 connections)."""

    duration: float
    connections: int = 4
    threads: int = 1
    cpus: str | None = None


def run_wrk(wrk: str, request: Request, load: Load) -> dict:
    env = dict(os.environ) | {
        "BENCH_METHOD": request.method,
        "BENCH_PATH": request.path,
        "BENCH_THREADS": str(load.threads),
        "BENCH_EXPECT": str(request.expect),
        "BENCH_AUTH": request.authorization,
        "BENCH_COOKIE": request.cookie,
    }
    if request.body is not None:
        env["BENCH_BODY"] = request.body
    if request.values_file is not None:
        env["BENCH_VALUES"] = str(request.values_file)
    duration_ms = max(1, int(load.duration * 1000))
    command = processes.pinned(
        [wrk, f"-t{load.threads}", f"-c{load.connections}", f"-d{duration_ms / 1000:g}s",
         "--timeout", "10s", "-s", str(SCRIPT), request.base_url],
        load.cpus,
    )  # fmt: skip
    done = subprocess.run(  # noqa: S603
        command, env=env, capture_output=True, text=True, check=False, timeout=load.duration + 60
    )
    result: dict = {}
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            result = json.loads(line.removeprefix("BENCH_RESULT "))
        elif line.startswith("BENCH_FIRST_BAD "):
            result["first_bad"] = line.removeprefix("BENCH_FIRST_BAD ")[:300]
    if not result:
        raise RuntimeError(f"wrk gave no result ({done.returncode}): {done.stderr[-500:]}")
    seconds = result["duration_us"] / 1e6
    result["rps"] = round(result["requests"] / seconds, 1) if seconds else 0.0
    result["p50_ms"] = round(result["p50_us"] / 1000, 2)
    result["p99_ms"] = round(result["p99_us"] / 1000, 2)
    result["errors"] = result["unexpected_status"] + result["socket_errors"] + result["exhausted"]
    return result
