"""Load run: gunicorn (2 workers) on PostgreSQL with seed-bulk data, driven by
locust headless from a second process on 127.0.0.1.

Prints throughput and p50/p95/p99 per route and the /mypage : bare-page ratio.
Gates (reported, not asserted as timings): 0 errors, p95 < 300 ms at 20 users.
    make bench            # or: BENCH_MEMBERS=100000 make bench
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from tests.perf.conftest import ROOT, seeded_database, start_gunicorn

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "20000"))
USERS = int(os.environ.get("BENCH_USERS", "20"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "30"))


def run_locust(base: str, prefix: Path, tags: str = "browse", seconds: int = SECONDS) -> list[dict[str, str]]:
    subprocess.run([str(Path(sys.executable).parent / "locust"), "-f", str(ROOT / "tests/perf/locustfile.py"),
                    "--headless", "-u", str(USERS), "-r", str(USERS), "-t", f"{seconds}s", "--host", base,
                    "--tags", tags, "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
                   check=False, cwd=ROOT, env={**os.environ, "BENCH_LOGIN_USERS": "20"})
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _route(rows: list[dict[str, str]], name: str) -> dict[str, str]:
    return next(row for row in rows if row["Name"] == name)


def test_load_mypage_contracts_coverage_voices(tmp_path):
    url = seeded_database("portal_bench", MEMBERS)
    # The load is about browsing, not the new-device code step (tests/auth covers that).
    # One proxy in front, as in production: each simulated member comes from its own address.
    process, base = start_gunicorn(url, workers=2, extra_env={"PORTAL_TRUST_NEW_DEVICES": "1",
                                                              "PORTAL_PROXY_COUNT": "1"})
    try:
        rows = run_locust(base, tmp_path / "load")
        # Capacity of /mypage against the bare page: each alone, the server saturated.
        alone = {name: _route(run_locust(base, tmp_path / name, tags=name, seconds=15), f"/{path}")
                 for name, path in (("mypage", "mypage"), ("bare", "bench/bare"))}
    finally:
        process.terminate()
        process.wait(timeout=10)
    print(f"\nload: {USERS} users, {SECONDS} s, {MEMBERS:,} bulk members, gunicorn 2 workers, PostgreSQL")
    print(f"| route | requests | errors | req/s | p50 ms | p95 ms | p99 ms |")
    print(f"|---|---:|---:|---:|---:|---:|---:|")
    by_name = {}
    for row in rows:
        by_name[row["Name"]] = row
        print(f"| {row['Name']} | {row['Request Count']} | {row['Failure Count']} | "
              f"{float(row['Requests/s']):.1f} | {row['50%']} | {row['95%']} | {row['99%']} |")
    m_rps, b_rps = float(alone["mypage"]["Requests/s"]), float(alone["bare"]["Requests/s"])
    print(f"alone, {USERS} users: /mypage {m_rps:.1f} req/s, bare page {b_rps:.1f} req/s: "
          f"ratio {m_rps / b_rps:.2f} (target ≥ 0.50)")
    for route in ("/mypage", "/contracts", "/coverage", "/bench/bare", "/voices/new POST"):
        assert int(by_name.get(route, {}).get("Request Count", 0)) > 0, f"no {route} requests: sign-in failed?"
    total = by_name.get("Aggregated")
    assert total is not None and int(total["Failure Count"]) == 0, "requests failed under load"
