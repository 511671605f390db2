"""What the results were measured on: CPUs, memory, kernel, versions, load, pinning."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from pathlib import Path


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def describe() -> dict:
    return {
        "cpu": _cpu_model(),
        "cpus": len(os.sched_getaffinity(0)),
        "memory_gb": _memory_gb(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def cpu_split(no_pin: bool) -> tuple[str | None, str | None, str]:
    """(server CPUs, load-generator CPUs, explanation). Both servers get the same CPUs."""
    cpus = sorted(os.sched_getaffinity(0))
    if no_pin or len(cpus) < 2:
        return None, None, "not pinned" + (" (one CPU)" if len(cpus) < 2 else " (--no-pin)")
    load = cpus[: max(1, len(cpus) // 4)]
    server = [c for c in cpus if c not in load]
    as_list = ",".join
    return (
        as_list(map(str, server)),
        as_list(map(str, load)),
        f"servers (ours, then the peer, never at once) on CPU {as_list(map(str, server))}, "
        f"wrk on CPU {as_list(map(str, load))}; the PostgreSQL server is not pinned",
    )
