"""The office work queue: due dates, one holder at a time, actions that change things once."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from portal.backoffice import services
from portal.workqueue import kinds
from portal.backoffice.models import WorkHold
from portal.members.models import DebitAccount
from portal.messaging.models import OutboxMessage
from portal.procedures import services as procedures
from portal.procedures.models import ProcedureRequest
from portal.profile.services import BankAccountInput, request_bank_change
from portal.audit.models import AuditLog


def audit_count(db_session, action: str) -> int:
    from flask import has_app_context

    from portal.extensions import db

    if has_app_context():
        db.session.flush()  # audit rows of direct service calls are still in the app's session
    return db_session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == action))


@pytest.fixture
def bank_request(app, db_session, make_member):
    with app.test_request_context():
        return _bank_request(db_session, make_member)


def _bank_request(db_session, make_member):
    member = make_member()
    db_session.add(DebitAccount(member_id=member.id, bank_code="0001", bank_name="みずほ銀行", branch_code="001",
                                branch_name="東京営業部", account_type=1, account_number="1234567",
                                holder_name="ｼｹﾝ ﾀﾛｳ", is_current=True))
    db_session.flush()
    request = request_bank_change(db_session, member, BankAccountInput(
        bank_code="0005", branch_code="001", account_type="1", account_number="7654321", holder_name="シケン タロウ"),
        idempotency_key="bank-" + str(member.id))
    return request


def test_due_date_counts_business_days_from_receipt(db_session, make_member):
    member = make_member()
    # Received Friday 2026-11-20 (Tokyo); 5 business days: 23rd is 勤労感謝の日, so 24–27, 30.
    with time_machine.travel(datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc), tick=False):
        request = procedures.start(db_session, member, "bank_account_change", "口座", notify=False)
    assert services.received_on(request) == date(2026, 11, 20)
    assert services.due_on(request) == date(2026, 11, 30)


def test_queue_lists_office_work_overdue_first_and_claims_only_as_counts(db_session, make_member):
    member = make_member()
    with time_machine.travel(datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc), tick=False):
        old = procedures.start(db_session, member, "paper_forms", "請求書類", notify=False)
    fresh = procedures.start(db_session, member, "inquiry", "お問い合わせ", notify=False)
    procedures.start(db_session, member, "claim", "入院", notify=False)
    procedures.start(db_session, member, "phone_change", "電話", status="completed", notify=False)
    queue = services.work_queue(db_session, day=date(2026, 11, 30))
    receipts = [i.request.receipt_no for i in queue.items]
    assert receipts.index(old.receipt_no) < receipts.index(fresh.receipt_no)
    assert all(i.request.kind not in ("claim", "phone_change") for i in queue.items)
    assert queue.items[0].overdue and queue.overdue >= 1
    assert queue.claims_counts.get("claim", 0) >= 1
    only = services.work_queue(db_session, kind="inquiry", day=date(2026, 11, 30))
    assert {i.request.kind for i in only.items} == {"inquiry"}
    assert services.find(db_session, old.receipt_no) is not None


def test_every_office_kind_has_a_service_level_and_kinds_register_actions():
    for kind in ("bank_account_change", "paper_forms", "inquiry", "other"):
        spec = kinds.get(kind)
        assert spec.due_business_days > 0 and spec.actions
    with pytest.raises(ValueError):
        kinds.register(kinds.OfficeKind("no_such_kind"))


def test_a_second_person_cannot_claim_or_act(db_session, bank_request, make_staff):
    first, second = make_staff("office"), make_staff("office")
    services.claim(db_session, bank_request, first)
    assert services.claim(db_session, bank_request, first).staff_id == first.id  # again: no change
    with pytest.raises(services.WorkError, match=f"{first.name}さんが対応中"):
        services.claim(db_session, bank_request, second)
    with pytest.raises(services.WorkError, match="対応中"):
        services.act(db_session, bank_request, "accept", second)
    with pytest.raises(services.WorkError, match="担当者だけ"):
        services.release(db_session, bank_request, second)
    assert bank_request.status == "received"


def test_accept_switches_the_account_once_and_releases(db_session, bank_request, make_staff):
    staff = make_staff("office")
    with pytest.raises(services.WorkError, match="担当する"):
        services.act(db_session, bank_request, "accept", staff)
    services.claim(db_session, bank_request, staff)
    message = services.act(db_session, bank_request, "accept", staff)
    assert "口座振替から新しい口座" in message
    assert bank_request.status == "completed"
    current = db_session.scalars(select(DebitAccount).where(DebitAccount.member_id == bank_request.member_id,
                                                            DebitAccount.is_current.is_(True))).all()
    assert [a.account_number for a in current] == ["7654321"]
    assert db_session.get(WorkHold, bank_request.id) is None
    # A finished procedure cannot be held or acted on again.
    with pytest.raises(services.WorkError, match="完了"):
        services.claim(db_session, bank_request, staff)
    assert audit_count(db_session, "backoffice.bank_account_change.accept") == 1


def test_return_needs_a_reason_the_member_reads(db_session, bank_request, make_staff):
    staff = make_staff("office")
    services.claim(db_session, bank_request, staff)
    with pytest.raises(services.WorkError) as error:
        services.act(db_session, bank_request, "return", staff, {"reason": "  "})
    assert error.value.field == "reason" and bank_request.status == "received"
    services.act(db_session, bank_request, "return", staff, {"reason": "口座名義が一致しませんでした"})
    assert bank_request.status == "returned"
    notice = db_session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == bank_request.member_id)
                                .order_by(OutboxMessage.id.desc())).first()
    assert "口座名義が一致しませんでした" in notice.body and "***4567" in notice.body
    with pytest.raises(services.WorkError, match="すでに処理"):
        services.act(db_session, bank_request, "accept", staff)


def test_views_claim_act_and_show_the_member_the_step(app, db_session, bank_request, staff_client, make_staff):
    office = staff_client("office")
    page = office.get("/staff/work")
    assert page.status_code == 200 and bank_request.receipt_no in page.text
    detail = office.get(f"/staff/work/{bank_request.receipt_no}")
    assert "担当する" in detail.text and "***4321" in detail.text
    claimed = office.post(f"/staff/work/{bank_request.receipt_no}/claim", follow_redirects=True)
    assert "この手続きを担当します" in claimed.text, claimed.text[claimed.text.find("<main"):][:800]
    other = staff_client("office")
    seen = other.get(f"/staff/work/{bank_request.receipt_no}")
    assert f"{office.staff.name}さんが対応中です" in seen.text, seen.text[seen.text.find("<main"):][:1500]
    refused = other.post(f"/staff/work/{bank_request.receipt_no}/act/accept", follow_redirects=True)
    assert "対応中です" in refused.text and bank_request.status == "received"
    empty = office.post(f"/staff/work/{bank_request.receipt_no}/act/return", data={"return-reason": ""})
    assert empty.status_code == 422 and "理由を入力してください" in empty.text
    done = office.post(f"/staff/work/{bank_request.receipt_no}/act/accept", follow_redirects=True)
    assert "承認しました" in done.text
    db_session.refresh(bank_request)
    assert bank_request.status == "completed"
    twice = office.post(f"/staff/work/{bank_request.receipt_no}/act/accept", follow_redirects=True)
    assert "すでに処理" in twice.text or "担当する" in twice.text
    assert [e.status for e in bank_request.events].count("completed") == 1


def test_unknown_receipt_and_odd_input_are_not_errors(staff_client):
    office = staff_client("office")
    assert office.get("/staff/work/R0000-NOPE").status_code == 404
    assert office.get("/staff/work?q=%00%01" + "9" * 500).status_code == 400  # the app's odd-input filter
    assert office.get("/staff/work?q=" + "ＡＢ" * 30 + "&kind=zzz&state=<x>").status_code == 200
    assert office.get("/staff/work?state=overdue").status_code == 200


def test_phone_intake_shows_on_requests_with_a_private_file(app, db_session, staff_client, make_member, client,
                                                            auth):
    member = make_member()
    support = staff_client("support")
    form = support.get(f"/staff/members/{member.id}/procedures/new")
    assert form.status_code == 200 and "お電話で伺った内容" in form.text
    bad = support.post(f"/staff/members/{member.id}/procedures/new",
                       data={"kind": "paper_forms", "note": "死亡共済金の請求書類を送ってほしい", "token": "t1",
                             "file": (__import__("io").BytesIO(b"MZ\x90\x00"), "a.exe")},
                       content_type="multipart/form-data")
    assert bad.status_code == 200 and "JPEG・PNG・PDF" in bad.text
    for _ in range(2):  # a double click makes one procedure
        response = support.post(f"/staff/members/{member.id}/procedures/new",
                                data={"kind": "paper_forms", "note": "死亡共済金の請求書類を送ってほしい",
                                      "token": "t2",
                                      "file": (__import__("io").BytesIO(b"%PDF-1.4 test"), "memo.pdf")},
                                content_type="multipart/form-data")
        assert response.status_code == 302
    rows = db_session.scalars(select(ProcedureRequest).where(ProcedureRequest.member_id == member.id)).all()
    assert len(rows) == 1 and rows[0].kind == "paper_forms" and rows[0].made_by_staff_id == support.staff.id
    auth.login_member(member)
    page = client.get("/requests")
    assert "請求書類（書面）のご請求" in page.text and "死亡共済金の請求書類" in page.text
    office = staff_client("office")
    file = office.get(f"/staff/work/{rows[0].receipt_no}/file")
    assert file.status_code == 200 and file.data.startswith(b"%PDF")
    assert audit_count(db_session, "backoffice.file_view") == 1
    # Generic completion: paper forms sent.
    office.post(f"/staff/work/{rows[0].receipt_no}/claim")
    office.post(f"/staff/work/{rows[0].receipt_no}/act/send", data={"send-note": ""})
    db_session.refresh(rows[0])
    assert rows[0].status == "shipped"
    assert "発送" in client.get("/requests").text


def test_dashboard_counts_open_overdue_and_median_days(db_session, make_member, staff_client):
    member = make_member()
    with time_machine.travel(datetime(2026, 10, 1, 1, 0, tzinfo=timezone.utc), tick=False):
        last = procedures.start(db_session, member, "inquiry", "先月", notify=False)
    with time_machine.travel(datetime(2026, 10, 5, 1, 0, tzinfo=timezone.utc), tick=False):
        procedures.change_status(db_session, last, "completed", notify=False)
    with time_machine.travel(datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc), tick=False):
        now = procedures.start(db_session, member, "inquiry", "今月", notify=False)
        procedures.start(db_session, member, "other", "未処理", notify=False)
    with time_machine.travel(datetime(2026, 11, 4, 1, 0, tzinfo=timezone.utc), tick=False):
        procedures.change_status(db_session, now, "completed", notify=False)
    figures = services.dashboard(db_session, date(2026, 11, 30))
    row = next(r for r in figures.rows if r.kind == "inquiry")
    assert row.median_days_this_month == 2.0 and row.median_days_last_month == 4.0
    other = next(r for r in figures.rows if r.kind == "other")
    assert other.open >= 1 and other.overdue >= 1
    page = staff_client("office").get("/staff/work/dashboard")
    assert page.status_code == 200 and "処理日数" in page.text


def test_the_readme_lists_every_office_kind_with_its_service_level():
    """The service levels the office is held to are written for people in README.md."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in readme.splitlines():
        match = re.match(r"\|(.+)\| (\d+) \|", line)
        if match:
            for kind in re.findall(r"\b[a-z]+(?:_[a-z]+)*\b", match.group(1)):
                rows[kind] = int(match.group(2))
    for name, spec in kinds.registered().items():
        assert rows.get(name) == spec.due_business_days, name


def test_the_office_menu_marks_the_page_it_is_on(staff_client):
    office = staff_client("office")
    for path, label in (("/staff/work", "作業一覧"), ("/staff/work/dashboard", "処理状況"),
                        ("/staff/work/certificates/import", "証書の発送CSV")):
        html = office.get(path).text
        menu = html[html.index('aria-label="事務センターメニュー"'):]
        menu = menu[:menu.index("</nav>")]
        assert f'aria-current="page">{label}</a>' in menu, path
        assert menu.count('aria-current="page"') == 1
