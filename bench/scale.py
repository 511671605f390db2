"""Token, userinfo and introspection p99 at 1,000 stored rows and at many (ours only)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from . import bulk
from .measure import Plan, compare
from .ours import MEMBER, Ours, database_url, server_version
from .sides import Shared, our_side
from .workloads import SCALE_WORKLOADS, by_name

SMALL = 1_000


def run(name: str, args, plan: Plan, shared: Shared, challenge: str,
        cpus: tuple[str | None, str | None], scratch: Path, log) -> dict:  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix=f"idp-bench-rows-{name}-"))
    url = database_url(name, work, args)
    ours = Ours(work, url, cpus[0], challenge)
    ours.install()
    client_id = ours.clients["RS256"][0]
    out: dict = {"database": server_version(url), "stages": {}}
    ours.start()
    try:
        seeded = 0
        for stage, rows in (("small", SMALL), ("large", max(args.rows, SMALL))):
            log(f"[{name}] seeding to {rows:,} rows per table")
            started = time.monotonic()
            bulk.seed(ours.app, client_id, MEMBER["email"], rows - seeded, log)
            if stage == "large":
                out["seed_seconds"] = round(time.monotonic() - started, 1)
            seeded = rows
            side = our_side(ours, "RS256")
            out["stages"][stage] = {"rows": rows, "workloads": {
                workload: compare(by_name(workload), [side], shared, plan, scratch, log)
                for workload in SCALE_WORKLOADS
            }}  # fmt: skip
    finally:
        ours.stop()
        shutil.rmtree(work, ignore_errors=True)
    return out
