"""The audit log: append-only, searchable, exportable, and the staff access report."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import delete, select, update

from portal.audit import reports
from portal.audit.models import AuditLog, AuditLogImmutableError
from portal.clock import TOKYO
from tests.staff.conftest import REASON

T0 = datetime(2026, 4, 10, 9, 0, tzinfo=TOKYO)


def _add(db_session, **kw) -> AuditLog:
    row = AuditLog(actor_type=kw.pop("actor_type", "system"), action=kw.pop("action", "test.action"), **kw)
    db_session.add(row)
    db_session.flush()
    return row


def test_rows_cannot_be_updated_or_deleted(db_session):
    row = _add(db_session)
    row.action = "changed"
    with pytest.raises(AuditLogImmutableError):
        db_session.flush()
    db_session.rollback()
    row = _add(db_session)
    db_session.delete(row)
    with pytest.raises(AuditLogImmutableError):
        db_session.flush()
    db_session.rollback()


def test_bulk_statements_are_refused(db_session):
    _add(db_session)
    with pytest.raises(AuditLogImmutableError):
        db_session.execute(update(AuditLog).values(action="x"))
    with pytest.raises(AuditLogImmutableError):
        db_session.execute(delete(AuditLog))
    assert db_session.scalar(select(AuditLog.action)) == "test.action"


@pytest.fixture
def history(app, db_session, staff_client, make_member):
    """Two support users open and act for members on two days."""
    with time_machine.travel(T0, tick=False):
        alice, bob = staff_client("support"), staff_client("support")
        m1, m2, m3 = make_member(), make_member(), make_member()
        alice.get(f"/staff/members/{m1.id}")
        alice.post(f"/staff/members/{m1.id}/act", data=REASON)
        alice.get("/mypage")
        alice.post("/staff/act/end")
        alice.get(f"/staff/members/{m2.id}")
        bob.get(f"/staff/members/{m3.id}")
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        alice = _resign(app, db_session, alice.staff)
        alice.get(f"/staff/members/{m1.id}")
    return {"alice": alice.staff, "bob": bob.staff, "m1": m1, "m2": m2, "m3": m3}


def _resign(app, db_session, staff):
    from tests.conftest import sign_in_staff_directly
    client = app.test_client()
    sign_in_staff_directly(client, db_session, staff)
    client.staff = staff
    return client


def test_search_by_staff_member_action_and_period(db_session, history):
    alice, m1 = history["alice"], history["m1"]
    by_staff = reports.search_audit(db_session, reports.AuditFilter(staff_id=alice.id))
    assert by_staff.total > 0 and {r.staff_id for r in by_staff.rows} == {alice.id}
    by_member = reports.search_audit(db_session, reports.AuditFilter(member_no=m1.member_no))
    assert {r.member_no for r in by_member.rows} == {m1.member_no}
    assert {"staff.member_open", "impersonation.start", "impersonation.request", "impersonation.end"} \
        <= {r.action for r in by_member.rows}
    opens = reports.search_audit(db_session, reports.AuditFilter(action="staff.member_open"))
    assert opens.total == 4
    first_day = reports.search_audit(db_session, reports.AuditFilter(
        action="staff.member_open", date_from=date(2026, 4, 10), date_to=date(2026, 4, 10)))
    assert first_day.total == 3
    later = reports.search_audit(db_session, reports.AuditFilter(action="staff.member_open",
                                                                   date_from=date(2026, 4, 11)))
    assert later.total == 1 and later.rows[0].member_no == m1.member_no
    unknown = reports.search_audit(db_session, reports.AuditFilter(member_no="9999999999"))
    assert unknown.total == 0


def test_staff_access_report(db_session, history):
    alice, m1, m2, m3 = history["alice"], history["m1"], history["m2"], history["m3"]
    report = reports.staff_access_report(db_session, alice.id)
    summary = {s.member_no: s for s in report.members}
    assert set(summary) == {m1.member_no, m2.member_no}  # never m3, which only bob opened
    assert (summary[m1.member_no].views, summary[m1.member_no].acts) == (2, 1)
    assert (summary[m2.member_no].views, summary[m2.member_no].acts) == (1, 0)
    assert summary[m1.member_no].first_at == T0.astimezone(summary[m1.member_no].first_at.tzinfo)
    assert summary[m1.member_no].last_at == T0 + timedelta(days=2)
    assert report.members[0].member_no == m1.member_no  # most recent first
    only_first_day = reports.staff_access_report(db_session, alice.id, date_to=date(2026, 4, 10))
    assert {s.member_no: s.views for s in only_first_day.members} == {m1.member_no: 1, m2.member_no: 1}


def test_access_report_page(staff_client, history):
    admin = staff_client("admin")
    page = admin.get(f"/staff/audit/access?staff_id={history['alice'].id}")
    assert page.status_code == 200
    assert history["m1"].member_no in page.text and history["m2"].member_no in page.text
    assert history["m3"].member_no not in page.text


def test_audit_page_filters(staff_client, history):
    admin = staff_client("admin")
    page = admin.get(f"/staff/audit?member_no={history['m3'].member_no}")
    assert page.status_code == 200 and history["m3"].member_no in page.text
    assert history["m1"].member_no not in page.text
    assert admin.get("/staff/audit?date_from=not-a-date").status_code == 200


def test_csv_export(staff_client, history, db_session):
    admin = staff_client("admin")
    response = admin.get(f"/staff/audit.csv?staff_id={history['alice'].id}&action=staff.member_open")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "日時（日本時間）"
    data = rows[1:]
    assert len(data) == 3
    assert data[0][0] == "2026-04-10 09:00:00" and data[-1][0] == "2026-04-12 09:00:00"
    assert {r[3] for r in data} == {history["alice"].name} and {r[7] for r in data} == {"staff.member_open"}
    assert {r[5] for r in data} == {history["m1"].member_no, history["m2"].member_no}
    exports = db_session.scalars(select(AuditLog).where(AuditLog.action == "audit.export")).all()
    assert len(exports) == 1


def test_csv_cells_never_start_a_formula(db_session):
    _add(db_session, action="=HYPERLINK(\"http://x\")", target_id="+1", detail='{"note": "x"}')
    body = reports.audit_csv(db_session, reports.AuditFilter())
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[1][7].startswith("'=") and rows[1][9] == "'+1"


def test_times_are_shown_in_tokyo(staff_client, history):
    admin = staff_client("admin")
    page = admin.get("/staff/audit?action=staff.member_open")
    assert "2026年4月12日 09:00" in page.text
