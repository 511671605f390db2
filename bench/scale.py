"""Token, userinfo and introspection p99 with 1,000 stored rows and with many (ours only).

Two installations side by side, one seeded with 1,000 rows and one with many, measured in
alternating rounds like ours and the peer, so that a change in the machine's load between
the two stages cannot pass for an effect of the table sizes.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from . import bulk
from .measure import Plan, compare
from .ours import MEMBER, Ours, database_url, server_version
from .sides import Shared, our_side
from .workloads import SCALE_WORKLOADS, by_name

SMALL = 1_000


def _large_database(url: str) -> str:
    """The PostgreSQL database beside the bench's own, `<name>_large`, created if missing."""
    parsed = sa.engine.make_url(url)
    name = f"{parsed.database}_large"
    engine = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        query = sa.text("SELECT 1 FROM pg_database WHERE datname = :name")
        if conn.execute(query, {"name": name}).scalar() is None:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def run(name: str, args, plan: Plan, shared: Shared, challenge: str,
        cpus: tuple[str | None, str | None], scratch: Path, log) -> dict:  # fmt: skip
    rows = max(args.rows, SMALL)
    installs: dict[str, Ours] = {}
    out: dict = {"rows": {"small": SMALL, "large": rows}}
    try:
        for stage in ("small", "large"):
            work = Path(tempfile.mkdtemp(prefix=f"idp-bench-rows-{name}-{stage}-"))
            url = database_url(name, work, args)
            if stage == "large" and name == "postgresql":
                url = _large_database(url)
            ours = installs[stage] = Ours(work, url, cpus[0], challenge, engine=args.engine)
            ours.install()
            out.setdefault("database", server_version(url))
            log(f"[{name}] seeding {SMALL if stage == 'small' else rows:,} rows per table")
            started = time.monotonic()
            bulk.seed(ours.app, ours.clients["RS256"][0], MEMBER["email"],
                      SMALL if stage == "small" else rows, log)  # fmt: skip
            out[f"seed_seconds_{stage}"] = round(time.monotonic() - started, 1)
            ours.start()
            ours.start_worker()  # the retention purge runs throughout, as in production
        sides = [our_side(installs[stage], "RS256", name=stage) for stage in ("small", "large")]
        out["workloads"] = {
            workload: compare(by_name(workload), sides, shared, plan, scratch, log)
            for workload in SCALE_WORKLOADS
        }
        for item in out["workloads"].values():
            small, large = item["small"]["p99_ms"], item["large"]["p99_ms"]
            item["p99_ratio"] = round(large / small, 2) if small else None
    finally:
        for ours in installs.values():
            ours.stop()
            shutil.rmtree(ours.work, ignore_errors=True)
    return out
