"""Benchmark: one business year's voice report on 1,000,000 voices (PostgreSQL).

Run:  PORTAL_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<db> \
      .venv/bin/python -m pytest tests/perf/test_voice_report_perf.py -s --override-ini addopts=

The database named in PORTAL_TEST_DATABASE_URL is wiped and refilled. Prints the
figures (target: under 1 s for a year's report); asserts only on correctness.
"""
from __future__ import annotations

import os
import statistics
import time

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from portal.db import make_engine
from portal.models import metadata
from portal.voices import report as voice_report
from portal.voices import services
from portal.voices.models import Voice

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
ROWS = int(os.environ.get("VOICE_BENCH_ROWS", "1000000"))

# 1M voices spread evenly over three business years, FY2024 – FY2026 (1 Jun 2024 – 31 May 2027),
# in roughly the seed's proportions: 61% thanks, 38% opinions, 1% complaints.
FILL_SQL = """
INSERT INTO voices (receipt_no, kind, topic, channel, status, body, wants_reply, received_at, received_on,
                    response_due_on, updated_at, version)
SELECT 'B' || lpad(i::text, 9, '0'),
       k.kind,
       (ARRAY['procedure','claims','staff_service','products','web','mail','call_centre','other'])[1 + (i * 31) % 8],
       (ARRAY['web','shop','call_centre','cs_office'])[1 + (i * 17) % 4],
       'closed',
       'ベンチマーク用の声 ' || i,
       k.kind = 'complaint',
       t.at,
       (t.at AT TIME ZONE 'Asia/Tokyo')::date,
       NULL,
       t.at,
       1
FROM generate_series(1::bigint, :rows) AS i
CROSS JOIN LATERAL (
    SELECT CASE WHEN (i * 7919) % 1000 < 611 THEN 'thanks'
                WHEN (i * 7919) % 1000 < 991 THEN 'opinion' ELSE 'complaint' END AS kind
) AS k
CROSS JOIN LATERAL (
    SELECT timestamptz '2024-06-01 00:00:00+09' + (i - 1) * (interval '1096 days' / :rows) AS at
) AS t
"""


@pytest.fixture(scope="module")
def engine():
    if not PG_URL:
        pytest.skip("the benchmark needs PostgreSQL: set PORTAL_TEST_DATABASE_URL")
    engine = make_engine(PG_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_yearly_report_on_a_million_voices(engine):
    table = Voice.__table__
    started = time.perf_counter()
    with engine.begin() as connection:
        # Bulk load without the secondary indexes, then build them once.
        for index in table.indexes:
            index.drop(connection)
        connection.execute(text(FILL_SQL), {"rows": ROWS})
        loaded = time.perf_counter()
        for index in table.indexes:
            index.create(connection)
    indexed = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE voices"))
    ready = time.perf_counter()
    print(f"\n[voices] inserted {ROWS:,} rows in {loaded - started:.1f} s, "
          f"indexes {indexed - loaded:.1f} s, vacuum analyze {ready - indexed:.1f} s")

    with Session(engine) as session:
        timings = []
        report = None
        for _ in range(5):
            t0 = time.perf_counter()
            report = voice_report.yearly_report(session, 2025)
            timings.append(time.perf_counter() - t0)
        assert report is not None
        # Correctness: FY2025 holds a third of the rows, FY2024 (the year before) another third.
        in_year = session.scalar(text("SELECT count(*) FROM voices WHERE received_on BETWEEN '2025-06-01' AND '2026-05-31'"))
        in_prev = session.scalar(text("SELECT count(*) FROM voices WHERE received_on BETWEEN '2024-06-01' AND '2025-05-31'"))
        assert report.total == in_year and report.prev_total == in_prev
        assert sum(r.count for r in report.kinds) == sum(r.count for r in report.channels) == report.total
        assert sum(m.total for m in report.months) == report.total

        t0 = time.perf_counter()
        for name in voice_report.CHART_NAMES:
            voice_report.chart_svg(report, name)
        charts = time.perf_counter() - t0

        t0 = time.perf_counter()
        page = services.inbox(session, services.InboxFilters(), page=1)
        inbox_first = time.perf_counter() - t0
        t0 = time.perf_counter()
        complaints = services.inbox(session, services.InboxFilters(kind="complaint"), page=3)
        inbox_time = time.perf_counter() - t0
        assert len(page.items) == len(complaints.items) == 50

        # The plan of the statement the service runs (compiled from its own query).
        from sqlalchemy.dialects import postgresql
        statement = str(_report_statement().compile(dialect=postgresql.dialect(),
                                                    compile_kwargs={"literal_binds": True}))
        plan = session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + statement)).scalars().all()

    print(f"[voices] FY2025 report ({report.total:,} voices this year, {report.prev_total:,} the year before): "
          f"first {timings[0] * 1000:.0f} ms, median {statistics.median(timings) * 1000:.0f} ms, "
          f"best {min(timings) * 1000:.0f} ms (target < 1000 ms)")
    print(f"[voices] three pygal charts from the report: {charts * 1000:.0f} ms; "
          f"inbox page 1 (all {page.total:,}): {inbox_first * 1000:.0f} ms, "
          f"page 3 of complaints: {inbox_time * 1000:.0f} ms")
    print("[voices] plan:\n  " + "\n  ".join(plan))


def _report_statement():
    """The same SQL as voice_report.yearly_report(…, 2025), for EXPLAIN."""
    from datetime import date

    from sqlalchemy import extract, func, select
    per_day = (
        select(Voice.received_on.label("day"), Voice.kind, Voice.topic, Voice.channel, func.count().label("n"))
        .where(Voice.received_on >= date(2024, 6, 1), Voice.received_on <= date(2026, 5, 31))
        .group_by(Voice.received_on, Voice.kind, Voice.topic, Voice.channel)
        .subquery()
    )
    year_col, month_col = extract("year", per_day.c.day), extract("month", per_day.c.day)
    return (select(year_col, month_col, per_day.c.kind, per_day.c.topic, per_day.c.channel, func.sum(per_day.c.n))
            .group_by(year_col, month_col, per_day.c.kind, per_day.c.topic, per_day.c.channel))
