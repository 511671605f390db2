"""`make bench`: our identity provider against node-oidc-provider, side by side, with wrk.

    .venv/bin/python -m bench.run [--quick] [--databases sqlite,postgresql]
                                  [--postgres-url URL] [--rows 1000000] [--no-pin]

Writes bench/results/<date>.json and the results table in docs/performance.md (not with
--quick), and exits 1 when any run had an error (non-2xx, socket error, a spent value).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from . import machine, prereqs, report, scale
from .measure import Plan, compare
from .ours import MEMBER, REDIRECT_URI, Ours, database_url, server_version
from .peer import Peer
from .sides import Shared, our_side, peer_side
from .workloads import SIGN_IN, WORKLOADS

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_18"


def log(message: str) -> None:
    print(message, flush=True)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 s runs, one round, no warm-up, SQLite only; no docs update",
    )
    parser.add_argument("--databases", help="comma-separated: sqlite, postgresql")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES,
        help="a database of the bench's own: its schema is dropped",
    )
    parser.add_argument("--duration", type=float, help="seconds per run (default 10)")
    parser.add_argument("--rounds", type=int, help="rounds per workload (default 3)")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--no-es256", action="store_true", help="skip the ES256 variant")
    parser.add_argument(
        "--workloads", help="comma-separated workload names (default: all, and sign-in)"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not use taskset")
    parser.add_argument(
        "--engine", choices=["granian", "gunicorn"], default="granian", help="[server] engine"
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=0,
        help="instead: token/userinfo/introspection p99 at 1,000 vs ROWS rows",
    )
    parser.add_argument("--output", type=Path, help="results file (default bench/results/)")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS_JSON",
        help="only rewrite docs/performance.md from an earlier results file",
    )
    args = parser.parse_args(argv)  # fmt: skip
    args.duration = args.duration or (1.0 if args.quick else 10.0)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.warmup = 0.0 if args.quick else 2.0
    default_dbs = "sqlite" if args.quick else "sqlite,postgresql"
    args.databases = [d.strip() for d in (args.databases or default_dbs).split(",") if d.strip()]
    names = {w.name for w in [*WORKLOADS, SIGN_IN]}
    args.workloads = [w.strip() for w in (args.workloads or ",".join(names)).split(",") if w]
    if set(args.workloads) - names:
        parser.error(f"unknown workload(s); choose from {', '.join(sorted(names))}")
    unknown = set(args.databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    return args


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def bench_database(name: str, args, plan: Plan, node: str, shared: Shared, challenge: str,
                   cpus: tuple[str | None, str | None], scratch: Path) -> dict:  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix=f"idp-bench-{name}-"))
    url = database_url(name, work, args)
    ours = Ours(work, url, cpus[0], challenge, engine=args.engine)
    log(f"[{name}] installing ours (idp init, members create, clients create) in {work}")
    ours.install()
    out: dict = {"database": server_version(url), "workloads": {}, "es256": {}}
    ours.start()
    try:
        for alg in ["RS256"] if args.no_es256 else ["RS256", "ES256"]:
            peer = Peer(work, node, alg, ours.clients[alg], REDIRECT_URI, challenge, cpus[0])
            peer.start()
            try:
                sides = [our_side(ours, alg), peer_side(peer)]
                chosen = [w for w in WORKLOADS if w.name in args.workloads]
                chosen = chosen if alg == "RS256" else [w for w in chosen if w.signs]
                for workload in chosen:
                    log(f"  [{name} {alg}] {workload.title}")
                    target = out["workloads"] if alg == "RS256" else out["es256"]
                    target[workload.name] = compare(workload, sides, shared, plan, scratch, log)
            finally:
                peer.stop()
        if SIGN_IN.name in args.workloads:
            log(f"  [{name}] {SIGN_IN.title}")
            out["sign_in"] = sign_in(ours, shared, plan, scratch)
        measured = out["workloads"].values()
        out["peak_rss_mb_per_worker"] = {
            side: max((w[side]["peak_rss_mb_per_worker"] for w in measured), default=0.0)
            for side in ("ours", "peer")
        }
    finally:
        ours.stop()
        if not args.quick:  # a quick run keeps its logs for a look at a failure
            shutil.rmtree(work, ignore_errors=True)
    return out


def sign_in(ours: Ours, shared: Shared, plan: Plan, scratch: Path) -> dict:
    """Sign-ins/s with the usual connections, and the time beyond the hash with one."""
    side = our_side(ours, "RS256")
    loaded = compare(SIGN_IN, [side], shared, plan, scratch, log)
    single = Plan(**{**plan.__dict__, "connections": 1})
    alone = compare(SIGN_IN, [side], shared, single, scratch, log)
    hash_ms = ours.argon2_verify_ms()
    p50 = alone["ours"]["p50_ms"]
    return {
        "title": SIGN_IN.title,
        "sign_ins_per_s": loaded["ours"]["rps"],
        "p50_ms": loaded["ours"]["p50_ms"],
        "p99_ms": loaded["ours"]["p99_ms"],
        "one_connection_p50_ms": p50,
        "argon2_verify_ms": hash_ms,
        "beyond_hash_ms": round(p50 - hash_ms, 2),
        "errors": loaded["ours"]["errors"] + alone["ours"]["errors"],
        "failed": loaded["failed"] or alone["failed"],
        "loaded": loaded["ours"],
        "one_connection": alone["ours"],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.render:
        results = json.loads(args.render.read_text())
        report.update_docs(ROOT / "docs" / "performance.md", results, args.render)
        log(f"bench: docs/performance.md rewritten from {args.render}")
        return 0
    started = datetime.now(UTC)
    try:
        wrk = prereqs.ensure_wrk()
        node = prereqs.ensure_peer()
    except prereqs.MissingTool as error:
        log(f"bench: {error}")
        return 2
    server_cpus, load_cpus, pinning = machine.cpu_split(args.no_pin)
    plan = Plan(wrk=wrk, duration=args.duration, warmup=args.warmup, rounds=args.rounds,
                connections=args.connections, threads=1, load_cpus=load_cpus)  # fmt: skip
    verifier, challenge = pkce_pair()
    shared = Shared(REDIRECT_URI, verifier, MEMBER["email"], MEMBER["password"])
    results: dict = {
        "started_at": started.isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine.describe() | {"pinning": pinning},
        "versions": prereqs.tool_versions(node, wrk) | report.our_versions(),
        "settings": {"duration_s": args.duration, "warmup_s": args.warmup,
                     "rounds": args.rounds, "connections": args.connections,
                     "wrk_threads": 1, "idp_serve": f"production mode, [server] engine="
                     f"{args.engine} workers=2 threads=4 (defaults)"},
    }  # fmt: skip
    log(f"bench: {pinning}; load average {results['machine']['load_average_at_start']}")
    scratch = Path(tempfile.mkdtemp(prefix="idp-bench-values-"))
    try:
        if args.rows:
            results["scale"] = {
                name: scale.run(name, args, plan, shared, challenge, (server_cpus, load_cpus),
                                scratch, log)
                for name in args.databases
            }  # fmt: skip
        else:
            results["databases"] = {
                name: bench_database(name, args, plan, node, shared, challenge,
                                     (server_cpus, load_cpus), scratch)
                for name in args.databases
            }  # fmt: skip
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["failed"] = report.failures(results)
    output = args.output or (
        Path(tempfile.gettempdir()) / f"idp-bench-quick-{int(time.time())}.json"
        if args.quick
        else RESULTS / f"{started:%Y-%m-%d}{'-rows' if args.rows else ''}.json"
    )
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    log(report.summary(results))
    log(f"bench: results in {output}")
    if not args.quick:
        shown = output.relative_to(ROOT) if output.is_relative_to(ROOT) else output
        report.update_docs(ROOT / "docs" / "performance.md", results, shown)
        log("bench: docs/performance.md updated")
    if results["failed"]:
        log("bench: FAILED: " + "; ".join(results["failed"]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
