"""Fault run: PostgreSQL restarted in the middle of load. After it is back no
request fails, and no procedure is half-written. Needs root and pg_ctlcluster
(as on CI's machine); prints what it saw."""
from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.perf.conftest import seeded_database, start_gunicorn

CSRF = r'name="csrf_token"[^>]*value="([^"]+)"'


def _login(base: str) -> requests.Session:
    import re
    session = requests.Session()
    token = re.search(CSRF, session.get(base + "/login").text).group(1)
    response = session.post(base + "/login", data={"csrf_token": token, "login_id": "bench000",
                                                   "password": "Bench-pass-2026"})
    assert response.url.endswith("/mypage")
    return session


def test_database_restart_under_load():
    if not shutil.which("pg_ctlcluster"):
        pytest.skip("pg_ctlcluster not available")
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    url = seeded_database("portal_bench_fault", 1_000)
    process, base = start_gunicorn(url, workers=2, extra_env={"PORTAL_TRUST_NEW_DEVICES": "1"})
    results: list[tuple[float, int]] = []
    stop = threading.Event()

    def load() -> None:
        session = _login(base)
        while not stop.is_set():
            try:
                status = session.get(base + "/mypage", timeout=10).status_code
            except requests.RequestException:
                status = 599
            results.append((time.monotonic(), status))
            time.sleep(0.02)

    threads = [threading.Thread(target=load) for _ in range(4)]
    try:
        for t in threads:
            t.start()
        time.sleep(3)
        restart_started = time.monotonic()
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
        back = time.monotonic()
        time.sleep(5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=15)
        process.terminate()
        process.wait(timeout=10)
    during = [s for t, s in results if restart_started <= t <= back + 0.5]
    after = [s for t, s in results if t > back + 0.5]
    print(f"\nPostgreSQL restart took {back - restart_started:.1f} s; during it {len(during)} requests "
          f"({sum(s >= 500 for s in during)} failed); after it {len(after)} requests, "
          f"{sum(s >= 500 for s in after)} failed")
    assert after and all(s == 200 for s in after), "requests failed after the database came back"
