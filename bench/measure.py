"""Alternating rounds of one workload on each side; medians; single-use values sized per run."""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from pathlib import Path

from .load import Load, run_wrk
from .processes import peak_rss_mb
from .sides import Shared, Side, build_request
from .workloads import Workload

# First guess of requests/s, before a run of the workload tells us better.
INITIAL_RATE = {"peer": 3000.0}
OURS_INITIAL_RATE = 800.0


@dataclass(frozen=True)
class Plan:
    wrk: str
    duration: float
    warmup: float
    rounds: int
    connections: int
    threads: int
    load_cpus: str | None


def _values_needed(rate: float, duration: float) -> int:
    return int(rate * (duration + 1) * 1.6) + 200


def run_once(side: Side, workload: Workload, shared: Shared, plan: Plan, duration: float,
             rate: float, scratch: Path, connections: int | None = None) -> dict:  # fmt: skip
    """One wrk run; retried once with more values if the single-use ones ran out."""
    load = Load(duration=duration, connections=connections or plan.connections,
                threads=plan.threads, cpus=plan.load_cpus)  # fmt: skip
    for attempt in range(3):
        values = None
        if workload.single_use:
            values = side.mint(workload.single_use, _values_needed(rate * (1 + 2 * attempt),
                                                                   duration))  # fmt: skip
        request = build_request(side, workload, shared, values, scratch)
        result = run_wrk(plan.wrk, request, load)
        if not result["exhausted"]:
            break
        rate = max(rate, result["rps"]) * 2
    result["load_average_1m"] = round(os.getloadavg()[0], 2)
    result["peak_rss_mb_per_worker"] = peak_rss_mb(side.pids())
    result["connections"] = load.connections
    return result


def summarise(runs: list[dict]) -> dict:
    """Medians over the rounds; errors summed (any error fails the workload)."""
    return {
        "rps": round(statistics.median(r["rps"] for r in runs), 1),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
        "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 2),
        "errors": sum(r["errors"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "peak_rss_mb_per_worker": max(r["peak_rss_mb_per_worker"] for r in runs),
        "load_average_1m": round(statistics.median(r["load_average_1m"] for r in runs), 2),
        "first_bad": next((r["first_bad"] for r in runs if r.get("first_bad")), None),
        "runs": [
            {
                k: r[k]
                for k in ("rps", "p50_ms", "p99_ms", "errors", "requests", "load_average_1m")
            }  # fmt: skip
            for r in runs
        ],
    }


def compare(workload: Workload, sides: list[Side], shared: Shared, plan: Plan,
            scratch: Path, log=print) -> dict:  # fmt: skip
    """Alternate ours/peer rounds (the order flips each round); report medians and the ratio."""
    rates = {side.name: INITIAL_RATE.get(side.name, OURS_INITIAL_RATE) for side in sides}
    runs: dict[str, list[dict]] = {side.name: [] for side in sides}
    if plan.warmup > 0:
        for side in sides:
            warm = run_once(side, workload, shared, plan, plan.warmup, rates[side.name], scratch)
            rates[side.name] = max(warm["rps"], 50.0)
    for round_number in range(plan.rounds):
        order = sides if round_number % 2 == 0 else list(reversed(sides))
        for side in order:
            result = run_once(side, workload, shared, plan, plan.duration, rates[side.name],
                              scratch)  # fmt: skip
            rates[side.name] = max(result["rps"], 50.0)
            runs[side.name].append(result)
            log(f"    {workload.name:20s} {side.name:5s} round {round_number + 1}: "
                f"{result['rps']:9.1f} req/s  p50 {result['p50_ms']:7.2f} ms  "
                f"p99 {result['p99_ms']:7.2f} ms  errors {result['errors']}"
                + (f"  [{result['first_bad']}]" if result.get("first_bad") else ""))  # fmt: skip
    out = {"title": workload.title} | {name: summarise(r) for name, r in runs.items()}
    if "ours" in out and "peer" in out and out["peer"]["rps"]:
        out["ratio"] = round(out["ours"]["rps"] / out["peer"]["rps"], 2)
    out["failed"] = any(out[side.name]["errors"] or not out[side.name]["requests"]
                        for side in sides)  # fmt: skip
    return out
