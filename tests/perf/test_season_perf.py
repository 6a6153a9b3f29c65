"""Certificate season and the staff search at scale (`make bench`).

* PDFs per second: first issue (rendered and stored) and repeat downloads (the
  same figures: served from storage), through the service with local storage;
* the staff member search (kana, indexed keys) at the size of the database.

BENCH_SEASON_DATABASE_URL reuses an already seeded database (e.g. one filled with
`seed-bulk --members 1000000`); otherwise a fresh one with BENCH_MEMBERS_SEASON
bulk members is made: by default the million the targets are set for (about
4 minutes of seeding on this machine; set a smaller number for a quick run).
"""
from __future__ import annotations

import os
import statistics
import time
from datetime import date

from sqlalchemy import func, select

from portal import create_app
from portal.extensions import db
from portal.members.models import Member
from tests.perf.conftest import seeded_database

MEMBERS = int(os.environ.get("BENCH_MEMBERS_SEASON", "1000000"))
PDF_MEMBERS = int(os.environ.get("BENCH_PDF_MEMBERS", "50"))


def _plan_of_search(session, staff, query: str) -> str:
    """The scan nodes of the search's first statement on members (EXPLAIN, PostgreSQL):
    an index scan, not a normalising scan of the whole table."""
    from sqlalchemy import event
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM members" in statement and not seen:
            seen.append((statement, parameters))

    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        return "(EXPLAIN shown on PostgreSQL only)"
    event.listen(engine, "before_cursor_execute", capture)
    try:
        staff.search_members(session, query)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    if not seen:
        return "(no statement on members)"
    statement, parameters = seen[0]
    plan = session.connection().exec_driver_sql("EXPLAIN " + statement, parameters).scalars().all()
    nodes = [line.strip().removeprefix("->").strip().split("  (")[0] for line in plan if "Scan" in line]
    return "; ".join(nodes) or plan[0]


def _app(tmp_path):
    url = os.environ.get("BENCH_SEASON_DATABASE_URL") or seeded_database("portal_bench_season", MEMBERS)
    return create_app({"PORTAL_ENV": "development", "SECRET_KEY": "bench", "DATABASE_URL": url,
                       "STORAGE_DIR": str(tmp_path / "files")})


def test_certificates_per_second_and_search_at_scale(tmp_path):
    from portal.certificates import services as certificates
    from portal.gateways.storage import LocalStorage
    from portal.staff import search as staff

    app = _app(tmp_path)
    store = LocalStorage(tmp_path / "files")
    day = date(2026, 11, 10)  # inside the certificate window for 2026
    with app.app_context():
        session = db.session
        total = session.scalar(select(func.count()).select_from(Member))
        from portal.certificates.models import CertificateIssue
        never_issued = ~select(CertificateIssue.id).where(CertificateIssue.member_id == Member.id).exists()
        members = session.scalars(select(Member).where(Member.member_no >= "5000000001", never_issued)
                                  .order_by(Member.id).limit(PDF_MEMBERS)).all()
        timings = {}
        for label in ("first issue", "repeat download"):
            started = time.perf_counter()
            for member in members:
                issue = certificates.issue_pdf(session, member, day, store)
                store.open(issue.storage_key)  # what the download sends
            session.commit()
            timings[label] = time.perf_counter() - started
        print(f"\ncertificates, {len(members)} members, one process: first issue "
              f"{len(members) / timings['first issue']:.1f} PDFs/s, repeat download "
              f"{len(members) / timings['repeat download']:.1f} PDFs/s")

        queries = {"whole name (kana)": "ヤマダ タロウ", "family name": "やまだ", "given name": "ﾀﾛｳ",
                   "common family name": "サトウ", "member number": "1000000001"}
        print(f"staff member search over {total:,} members (median of 20, ms):")
        for label, query in queries.items():
            staff.search_members(session, query)  # warm
            samples = []
            for _ in range(20):
                started = time.perf_counter()
                result = staff.search_members(session, query)
                samples.append((time.perf_counter() - started) * 1000)
            print(f"  {label} {query!r}: {statistics.median(samples):.1f} ms, {result.total:,} found (target < 100 ms)")
            print(f"    plan: {_plan_of_search(session, staff, query)}")
        session.rollback()
    db.engine_for(app).dispose()
