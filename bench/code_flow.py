"""Benchmark: token lifecycle in-process (authorize, token, userinfo, refresh, introspect).

Run: .venv/bin/python bench/code_flow.py [--flows N] [--database-url URL]
Prints median and p95 milliseconds per step. Uses the production argon2 defaults only for the
single sign-in; the measured steps involve no password hashing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from idp.app import create_app  # noqa: E402
from idp.config import load_settings  # noqa: E402
from idp.db import upgrade  # noqa: E402
from idp.keyring import initialise_keys  # noqa: E402
from tests.helpers import Actions, query_of  # noqa: E402


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=300)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="idp-bench-"))
    url = args.database_url or f"sqlite:///{work / 'idp.sqlite3'}"
    upgrade(url)
    settings = load_settings(
        environ={},
        overrides={
            "server": {"instance_dir": str(work)},
            "database": {"url": url},
            "keys": {"dir": str(work / "keys")},
        },
    )
    app = create_app(settings)
    with app.app_context():
        initialise_keys()  # signing keys live in the database
    actions = Actions(app, app.test_client())
    actions.create_member()
    client_id, secret = actions.create_client(
        first_party=True,
        scope="openid profile email membership offline_access",
        grant_types=["authorization_code", "refresh_token"],
    )
    actions.sign_in("siti@example.id")

    steps = ("authorize", "token", "userinfo", "refresh", "introspect")
    timings: dict[str, list[float]] = {step: [] for step in steps}
    for _ in range(args.flows):
        params, verifier = actions.authorize_params(client_id, scope="openid offline_access")
        start = time.perf_counter()
        response = actions.authorize(params)
        timings["authorize"].append(time.perf_counter() - start)
        code = query_of(response.headers["Location"])["code"]

        start = time.perf_counter()
        token = actions.redeem(client_id, secret, code, verifier).get_json()
        timings["token"].append(time.perf_counter() - start)

        start = time.perf_counter()
        actions.client.get(
            "/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}
        )
        timings["userinfo"].append(time.perf_counter() - start)

        start = time.perf_counter()
        form = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
        refreshed = actions.client.post("/token", data=form, auth=(client_id, secret)).get_json()
        timings["refresh"].append(time.perf_counter() - start)

        start = time.perf_counter()
        form = {"token": refreshed["access_token"]}
        assert actions.client.post("/introspect", data=form, auth=(client_id, secret)).json[
            "active"
        ]
        timings["introspect"].append(time.perf_counter() - start)

    print(f"{args.flows} code flows on {url.split(':')[0]}")
    for step, samples in timings.items():
        median = statistics.median(samples) * 1000
        p95 = _percentile(samples, 0.95) * 1000
        print(f"  {step:10s} median {median:6.2f} ms   p95 {p95:6.2f} ms")
    total = sum(sum(s) for s in timings.values())
    print(f"  full flow  {args.flows / total:6.1f} flows/s on one thread")


if __name__ == "__main__":
    main()
