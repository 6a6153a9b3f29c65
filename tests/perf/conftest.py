"""Benchmarks print their figures; they are never collected by `make test`.

They need PostgreSQL: PORTAL_TEST_DATABASE_URL (as in CI). Each benchmark gets
its own database, portal_bench, created anew.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.net import free_port

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")


def fresh_database(name: str) -> str:
    if not PG_URL:
        pytest.skip("benchmarks need PostgreSQL: set PORTAL_TEST_DATABASE_URL")
    from sqlalchemy import text

    from portal.db import make_engine
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def start_gunicorn(database_url: str, workers: int = 2, extra_env: dict | None = None):
    port = free_port()
    env = {**os.environ, "PORTAL_ENV": "development", "PORTAL_DATABASE_URL": database_url,
           "PORTAL_SECRET_KEY": "bench-secret", "PYTHONPATH": str(ROOT), **(extra_env or {})}
    (ROOT / "tests" / "artifacts").mkdir(exist_ok=True)
    log = open(ROOT / "tests" / "artifacts" / f"gunicorn-{port}.log", "wb")
    # gunicorn.conf.py (read from the working directory) applies, except that workers are
    # not replaced every max_requests: at hundreds of requests a second that would restart
    # a worker every few seconds and charge its start-up to whichever path is measured.
    process = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "-b",
                                f"127.0.0.1:{port}", "--max-requests", "0", "--access-logfile", "-",
                                "wsgi:app"],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    # Workers import the whole app before they answer: a minute or more when other work loads the machine.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=5)
            return process, base
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def stop_gunicorn(process) -> None:
    """gunicorn finishes its requests first (graceful_timeout in gunicorn.conf.py)."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def seeded_database(name: str, members: int, login_users: int = 20) -> str:
    """A fresh database with the demo data, `members` bulk members, and
    `login_users` of them registered as bench000… with password Bench-pass-2026."""
    url = fresh_database(name)
    from sqlalchemy import select, update

    from portal import create_app
    from portal.auth.passwords import hash_password
    from portal.extensions import db
    from portal.members.models import Member
    from portal.models import metadata
    from portal.seed import seed_bulk, seed_demo

    app = create_app({"PORTAL_ENV": "development", "SECRET_KEY": "bench", "DATABASE_URL": url})
    with app.app_context():
        metadata.create_all(db.engine)
        seed_demo(db.session)
        db.commit()
        started = time.perf_counter()
        seed_bulk(db.session, members)
        elapsed = time.perf_counter() - started
        print(f"\nseed-bulk: {members:,} members in {elapsed:.1f} s ({members / elapsed * 60:,.0f}/min)")
        password_hash = hash_password("Bench-pass-2026")
        ids = db.session.scalars(select(Member.id).where(Member.member_no >= "5000000001")
                                 .order_by(Member.id).limit(login_users)).all()
        for n, member_id in enumerate(ids):
            db.session.execute(update(Member).where(Member.id == member_id)
                               .values(login_id=f"bench{n:03d}", password_hash=password_hash))
        db.commit()
    db.engine_for(app).dispose()
    return url
