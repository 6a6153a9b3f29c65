"""Benchmark (not collected by default; `make bench`): /mypage with few and many members.

Prints, it does not time-fail:
  * median latency of /mypage for the demo member with SMALL members seeded, then
    with LARGE members (portal.seed.seed_bulk), and the ratio (target ≤ 1.3);
  * throughput of /mypage and of a bare page of the same app that renders
    base.html after one primary-key lookup, and the ratio: for information only.
    Without a server every request's fixed cost is smaller, so the share is lower
    than a server's; the capacity targets are measured under gunicorn
    (test_load.py against the bare page, test_throughput.py against /healthz).

Requests go through Flask's test client in this one process (no gunicorn, no
network): it measures the application and the database, not the server;
tests/perf/test_load.py measures the same pair under gunicorn.

Environment:
  PORTAL_TEST_DATABASE_URL   PostgreSQL server: a database portal_bench_mypage is made
                             on it anew. Without it: a temporary SQLite file.
  BENCH_MEMBERS_SMALL        default 1000
  BENCH_MEMBERS_LARGE        default 1000000, the size the target is set for (about
                             4 minutes of seeding on this machine, ~40 million coverage
                             rows; set a smaller number for a quick run)
  BENCH_REQUESTS             latency samples per size, default 200
  BENCH_SECONDS              seconds per throughput run, default 5
"""
from __future__ import annotations

import hashlib
import os
import secrets
import statistics
import time

import pytest
from flask import render_template
from sqlalchemy import select, text

from portal import create_app
from portal.extensions import db
from portal.members.models import Member
from portal.seed import seed_bulk, seed_demo
from tests.conftest import reset_schema

SMALL = int(os.environ.get("BENCH_MEMBERS_SMALL", "1000"))
LARGE = int(os.environ.get("BENCH_MEMBERS_LARGE", "1000000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))


@pytest.fixture(scope="module")
def bench_app(tmp_path_factory):
    from tests.perf.conftest import PG_URL, fresh_database
    url = (fresh_database("portal_bench_mypage") if PG_URL
           else f"sqlite:///{tmp_path_factory.mktemp('bench') / 'bench.db'}")
    reset_schema(url)
    app = create_app({"PORTAL_ENV": "test", "SECRET_KEY": "bench", "DATABASE_URL": url,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "STORAGE_DIR": str(tmp_path_factory.mktemp("files"))})

    app.bench_url = url
    yield app
    db.engine.dispose()


def _seed_bulk(app, count: int) -> None:
    with app.app_context():
        started = time.perf_counter()
        seed_bulk(db.session, count)
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"  seeded {count:,} members in {time.perf_counter() - started:.1f} s")


def _members(app) -> int:
    with app.app_context():
        return db.session.scalar(select(db.func.count()).select_from(Member)) if hasattr(db, "func") else \
            db.session.scalar(text("SELECT count(*) FROM members"))


def _signed_in_client(app):
    from portal.auth.models import AuthSession
    client = app.test_client()
    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.login_id == "demo"))
        token = secrets.token_urlsafe(32)
        db.session.add(AuthSession(token_hash=hashlib.sha256(token.encode()).hexdigest(), member_id=member.id))
        db.session.commit()
        user_id = member.get_id()
    with client.session_transaction() as s:
        s["sid"], s["_user_id"], s["_fresh"] = token, user_id, True
    return client


def _median_ms(client, path: str, n: int) -> float:
    for _ in range(10):  # warm caches, template compilation, connection pool
        assert client.get(path).status_code == 200
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return statistics.median(samples)


def _throughput(client, path: str, seconds: float) -> float:
    client.get(path)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        assert client.get(path).status_code == 200
        count += 1
    return count / (time.perf_counter() - started)


def test_mypage_latency_and_throughput(bench_app):
    app = bench_app
    print(f"\n/mypage benchmark on {app.bench_url.split('@')[-1]} (Flask test client, one process)")
    with app.app_context():
        seed_demo(db.session)
        db.commit()
    _seed_bulk(app, SMALL - 2)  # seed-demo brings two members
    client = _signed_in_client(app)
    assert "山田 太郎さま" in client.get("/mypage").text

    small_ms = _median_ms(client, "/mypage", REQUESTS)
    print(f"  median /mypage with {SMALL:,} members: {small_ms:.2f} ms")

    _seed_bulk(app, LARGE - SMALL)
    client = _signed_in_client(app)
    large_ms = _median_ms(client, "/mypage", REQUESTS)
    print(f"  median /mypage with {LARGE:,} members: {large_ms:.2f} ms")
    print(f"  latency ratio {LARGE:,} / {SMALL:,} members: {large_ms / small_ms:.2f} (target ≤ 1.30)")

    mypage_rps = _throughput(client, "/mypage", SECONDS)
    bare_rps = _throughput(client, "/bench/bare", SECONDS)
    print(f"  throughput /mypage: {mypage_rps:.0f} req/s; bare page (PK lookup + base.html): {bare_rps:.0f} req/s")
    print(f"  throughput ratio /mypage / bare: {mypage_rps / bare_rps:.0%} (in one process, no server: "
          "the capacity targets are test_load.py's and test_throughput.py's)")
