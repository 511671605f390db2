"""Results: failures, a console summary, and the table in docs/performance.md."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"
SCALE_START = "<!-- bench:scale:start -->"
SCALE_END = "<!-- bench:scale:end -->"


def our_versions() -> dict[str, str]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent,
    ).stdout.strip()
    packages = ("flask", "authlib", "sqlalchemy", "granian", "gunicorn", "argon2-cffi", "psycopg")
    return {"idp_commit": commit} | {name: metadata.version(name) for name in packages}


def failures(results: dict) -> list[str]:
    found = []
    for db, data in results.get("databases", {}).items():
        for group in ("workloads", "es256"):
            for name, item in data.get(group, {}).items():
                if item["failed"]:
                    found.append(f"{db} {group} {name}: errors")
        if data.get("sign_in", {}).get("failed"):
            found.append(f"{db} sign_in: errors")
    for db, data in results.get("scale", {}).items():
        for name, item in data["workloads"].items():
            if item["failed"]:
                found.append(f"{db} scale {name}: errors")
    return found


def _cell(side: dict) -> str:
    return f"{side['rps']:,.0f} ({side['p50_ms']:.1f} / {side['p99_ms']:.1f} ms)"


def tables(results: dict) -> str:
    lines = []
    for data in results.get("databases", {}).values():
        lines += [f"**{data['database']}** — req/s (p50 / p99), errors; ratio = ours / peer", "",
                  "| workload | ours | node-oidc-provider | ratio | errors ours/peer |",
                  "| --- | --- | --- | --- | --- |"]  # fmt: skip
        for group, suffix in (("workloads", ""), ("es256", " — ES256 variant")):
            for item in data.get(group, {}).values():
                flag = " **FAILED**" if item["failed"] else ""
                lines.append(
                    f"| {item['title']}{suffix} | {_cell(item['ours'])} | {_cell(item['peer'])} "
                    f"| {item.get('ratio', 0):.2f}{flag} | {item['ours']['errors']}"
                    f"/{item['peer']['errors']} |"
                )
        s = data.get("sign_in")
        if s:
            connections = results["settings"]["connections"]
            lines += ["", f"Sign-in (ours only): {s['sign_ins_per_s']:.1f} sign-ins/s with "
                      f"{connections} connections (p50 {s['p50_ms']:.1f} ms, "
                      f"p99 {s['p99_ms']:.1f} ms); alone (1 connection) p50 "
                      f"{s['one_connection_p50_ms']:.1f} ms, of which argon2id verify "
                      f"{s['argon2_verify_ms']:.1f} ms: **{s['beyond_hash_ms']:.1f} ms beyond the "
                      f"hash**; errors {s['errors']}."]  # fmt: skip
        rss = data.get("peak_rss_mb_per_worker")
        if rss:
            lines += ["", f"Peak RSS per worker: ours {rss['ours']} MB (each of 2 "
                      f"workers), peer {rss['peer']} MB (one Node process)."]  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def scale_tables(results: dict) -> str:
    lines = []
    for data in results.get("scale", {}).values():
        small, large = data["rows"]["small"], data["rows"]["large"]
        lines += [f"**{data['database']}**: {small:,} vs {large:,} rows each of access-token "
                  "records, refresh tokens and SSO sessions (ours only; two installations "
                  "measured in alternating rounds)", "",
                  f"| workload | req/s at {small:,} | p99 at {small:,} | req/s at {large:,} "
                  f"| p99 at {large:,} | p99 ratio |",
                  "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        for item in data["workloads"].values():
            a, b = item["small"], item["large"]
            flag = " **FAILED**" if item["failed"] else ""
            ratio = f"{item['p99_ratio']:.2f}{flag}"
            lines.append(f"| {item['title']} | {a['rps']:,.0f} | {a['p99_ms']:.1f} ms "
                         f"| {b['rps']:,.0f} | {b['p99_ms']:.1f} ms | {ratio} |")  # fmt: skip
        lines += ["", f"Seeding {large:,} rows of each kind took "
                  f"{data['seed_seconds_large']:.0f} s.", ""]  # fmt: skip
    return "\n".join(lines)


def _run_loads(results: dict) -> list[float]:
    """The 1-minute load average after every run, wherever it is in the results."""
    found = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if "load_average_1m" in node and "rps" in node and "runs" not in node:
                found.append(node["load_average_1m"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(results)
    return found


def header(results: dict, source: Path) -> str:
    m, v, s = results["machine"], results["versions"], results["settings"]
    loads = _run_loads(results) or [0.0]
    return "\n".join([
        f"Measured {results['started_at']} – {results['finished_at']} with `{results['command']}`"
        f" (results: `{source}`).",
        "",
        f"- Machine: {m['cpu']}, {m['cpus']} CPUs, {m['memory_gb']} GB, Linux {m['kernel']}; "
        f"{m['pinning']}. Load average (1/5/15 min) at start {m['load_average_at_start']}, at "
        f"end {m['load_average_at_end']}, after each run {min(loads):.1f}–{max(loads):.1f} — "
        f"the machine was shared with other work.",
        f"- Versions: idp at commit {v['idp_commit']} (Python {m['python']}, Flask "
        f"{v['flask']}, Authlib {v['authlib']}, SQLAlchemy {v['sqlalchemy']}, granian "
        f"{v.get('granian', '-')}, gunicorn {v['gunicorn']}), "
        f"oidc-provider {v['oidc-provider']} on Node {v['node']}, {v['wrk']}.",
        f"- Load: wrk, {s['connections']} connections, {s['wrk_threads']} thread, "
        f"{s['duration_s']:g} s per run after a {s['warmup_s']:g} s warm-up, {s['rounds']} "
        f"alternating rounds, medians shown. Ours: {s['idp_serve']}.",
        "",
        "",
    ])  # fmt: skip


def summary(results: dict) -> str:
    return tables(results) + scale_tables(results)


def _replace(text: str, start: str, end: str, body: str) -> str:
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    return f"{before}{start}\n{body}\n{end}{after}"


def update_docs(path: Path, results: dict, source: Path) -> None:
    text = path.read_text()
    if "scale" in results:
        body = header(results, source) + scale_tables(results)
        text = _replace(text, SCALE_START, SCALE_END, body)
    else:
        text = _replace(text, START, END, header(results, source) + tables(results))
    path.write_text(text)
