"""A claim from the phone form to お支払い済み, through the claims desk and a payment run."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.claims.models import Claim, PaymentRun
from portal.jp.zengin import parse_transfer_file
from portal.messaging.models import OutboxMessage
from portal.audit.models import AuditLog
from tests.claims.helpers import gps_of, jpeg

DRAFT_RE = re.compile(r'name="draft" type="hidden" value="([^"]+)"')


def _draft(html: str) -> str:
    match = DRAFT_RE.search(html) or re.search(r'id="draft" name="draft" type="hidden" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


@pytest.fixture
def insured_member(member_client, make_contract, db_session):
    """The signed-in member with 医療保障 and 総合保障, and a debit account."""
    from portal.members.models import DebitAccount

    member = member_client.member
    db_session.add(DebitAccount(member_id=member.id, bank_code="0001", bank_name="みずほ銀行", branch_code="001",
                                branch_name="東京営業部", account_type=1, account_number="1234567",
                                holder_name="ｼｹﾝ ﾀﾛｳ"))
    make_contract(member, "KOKUMIN_IRYO", start=date(2018, 1, 1))
    make_contract(member, "KOKUMIN_SOGO", start=date(2015, 1, 1))
    db_session.flush()
    return member


def file_claim(client, member, *, days=("2026-11-01", "2026-11-10"), files=2, token_form=None):
    person = member.insured_persons[0]
    step2 = client.post("/claims/new", data={"person_id": str(person.id), "benefits": ["hospital", "surgery"],
                                             "cause": "illness"})
    assert step2.status_code == 200 and "日付と病院" in step2.text
    step3 = client.post("/claims/new/details", data={
        "draft": _draft(step2.text), "hospital_from": days[0], "hospital_to": days[1],
        "surgery_date": "２０２６－１１－０２", "surgery_name": "腹腔鏡下胆嚢摘出術", "surgery_in_hospital": "yes",
        "hospital_name": "渋谷中央病院"})
    assert step3.status_code == 200, step3.text
    step4 = client.post("/claims/new/documents", data={
        "draft": _draft(step3.text), "payee": "debit",
        "files": [(io.BytesIO(jpeg(gps=True)), f"IMG_{i}.jpg") for i in range(files)]},
        content_type="multipart/form-data")
    assert step4.status_code == 200 and "ご請求内容の確認" in step4.text, step4.text
    return step3, step4


def test_member_files_hospital_and_surgery_claim_with_estimate_first(insured_member, member_client, db_session):
    step3, step4 = file_claim(member_client, insured_member)
    # The estimate comes before the documents: 10 days × (10,000 + 1,500) + surgery 60,000.
    assert step3.text.index("お支払い見込額") < step3.text.index("領収書・診療明細書などの写真")
    assert '<strong id="estimate-total">175,000円</strong>' in step3.text
    assert "診断書" in step3.text  # above 100,000円
    done = member_client.post("/claims/new/submit", data={"draft": _draft(step4.text)})
    assert done.status_code == 302
    again = member_client.post("/claims/new/submit", data={"draft": _draft(step4.text)})  # double click
    assert again.headers["Location"] == done.headers["Location"]
    claim = db_session.scalar(select(Claim).where(Claim.member_id == insured_member.id))
    assert db_session.scalar(select(func.count()).select_from(Claim).where(
        Claim.member_id == insured_member.id)) == 1
    assert claim.estimated_yen == 175_000 and len(claim.files) == 2 and claim.needs_certificate
    assert claim.payee_account_number == "1234567" and claim.is_payee_debit_account
    page = member_client.get(done.headers["Location"])
    assert claim.receipt_no in page.text and "受付" in page.text
    assert claim.receipt_no in member_client.get("/requests").text
    # The stored photos lost their GPS; viewing one is audited.
    served = member_client.get(f"/claims/{claim.receipt_no}/files/{claim.files[0].id}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert gps_of(served.data) == {}
    assert db_session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "claims.file_view", AuditLog.target_id == str(claim.files[0].id))) == 1


def test_bad_input_keeps_the_rest(insured_member, member_client):
    person = insured_member.insured_persons[0]
    step2 = member_client.post("/claims/new", data={"person_id": str(person.id), "benefits": ["hospital"],
                                                    "cause": "illness"})
    bad = member_client.post("/claims/new/details", data={
        "draft": _draft(step2.text), "hospital_from": "2026-11-10", "hospital_to": "2026-11-01",
        "hospital_name": "渋谷中央病院"})
    assert bad.status_code == 200
    assert "退院日は入院日より後の日付を入力してください。" in bad.text
    assert 'value="渋谷中央病院"' in bad.text and 'name="hospital_from-day" value="10"' in bad.text
    huge = member_client.post("/claims/new/details", data={
        "draft": _draft(step2.text), "hospital_from": "99999999999999999-1-1", "hospital_to": "2026-11-01",
        "hospital_name": "病院"})
    assert huge.status_code in (200, 400) and huge.status_code != 500
    forged = member_client.post("/claims/new/details", data={"draft": "forged", "hospital_name": "x"})
    assert forged.status_code == 400


def test_text_file_as_photo_is_refused_next_to_the_field(insured_member, member_client):
    person = insured_member.insured_persons[0]
    step2 = member_client.post("/claims/new", data={"person_id": str(person.id), "benefits": ["hospital"],
                                                    "cause": "illness"})
    step3 = member_client.post("/claims/new/details", data={
        "draft": _draft(step2.text), "hospital_from": "2026-11-01", "hospital_to": "2026-11-03",
        "hospital_name": "渋谷中央病院"})
    refused = member_client.post("/claims/new/documents", data={
        "draft": _draft(step3.text), "payee": "debit", "files": [(io.BytesIO(b"hello"), "receipt.jpg")]},
        content_type="multipart/form-data")
    assert refused.status_code == 200
    assert 'id="files-error"' in refused.text and "JPEG・PNGの写真、またはPDF" in refused.text


def test_other_members_claim_and_file_are_404(insured_member, member_client, db_session, app, make_member, auth):
    step3, step4 = file_claim(member_client, insured_member, files=1)
    member_client.post("/claims/new/submit", data={"draft": _draft(step4.text)})
    claim = db_session.scalar(select(Claim).where(Claim.member_id == insured_member.id))
    other = app.test_client()
    stranger = make_member()
    other.post("/login", data={"login_id": stranger.login_id, "password": stranger.password_plain})
    assert other.get(f"/claims/{claim.receipt_no}").status_code == 404
    assert other.get(f"/claims/{claim.receipt_no}/files/{claim.files[0].id}").status_code == 404
    assert other.post(f"/claims/{claim.receipt_no}/withdraw").status_code == 404


def _act(client, claim, action, **data):
    response = client.post(f"/staff/claims/{claim.receipt_no}/{action}", data=data)
    assert response.status_code == 302
    return client.get(response.headers["Location"]).text


def _notices(db_session, member) -> int:
    return db_session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.member_id == member.id))


def test_staff_pay_a_claim_through_a_run_with_four_eyes(insured_member, member_client, db_session, staff_client,
                                                        app):
    # A long stay: 180 days × 11,500 + 60,000 = 2,130,000円, so two officers must approve.
    step3, step4 = file_claim(member_client, insured_member, days=("2026-01-01", "2026-08-01"))
    member_client.post("/claims/new/submit", data={"draft": _draft(step4.text)})
    claim = db_session.scalar(select(Claim).where(Claim.member_id == insured_member.id))
    assert claim.estimated_yen == 180 * 11_500 + 60_000
    listed = member_client.get("/claims").text
    assert "見込額 2,130,000円" in listed and "お支払い額" not in listed
    first, second = staff_client("claims"), staff_client("claims")
    assert claim.receipt_no in first.get("/staff/claims").text
    notices = _notices(db_session, insured_member)
    page = _act(first, claim, "documents", message="診断書をお送りください。")
    assert "組合員に追加書類をお願いしました。" in page
    assert _notices(db_session, insured_member) == notices + 1
    member_client.post(f"/claims/{claim.receipt_no}/files", data={"files": [(io.BytesIO(jpeg()), "s.jpg")]},
                       content_type="multipart/form-data")
    db_session.refresh(claim.procedure)
    assert claim.procedure.status == "checking_documents"
    _act(first, claim, "complete")
    line = claim.lines[0]
    page = _act(first, claim, "assess", **{f"amount_{line.id}": str(line.estimated_yen - 1000),
                                          f"reason_{line.id}": ""})
    assert "見込額から変更する理由を入力してください。" in page
    _act(first, claim, "approve")
    page = _act(first, claim, "approve")  # the same officer again
    assert "1回目とは別の担当者が承認してください。" in page
    db_session.refresh(claim.procedure)
    assert claim.procedure.status == "under_review"
    _act(second, claim, "approve")
    db_session.refresh(claim.procedure)
    db_session.refresh(claim)
    assert claim.procedure.status == "awaiting_payment" and claim.approved_yen == 2_130_000
    # The payment run: one file, the totals, and お支払い済み once marked sent.
    day = _next_business_day()
    created = first.post("/staff/claims/runs", data={"transfer_date": day.isoformat()})
    assert created.status_code == 302, created.text
    run = db_session.scalar(select(PaymentRun).order_by(PaymentRun.id.desc()))
    assert (run.total_count, run.total_yen) == (1, 2_130_000)
    data = first.get(f"/staff/claims/runs/{run.id}/file").data
    parsed = parse_transfer_file(data)
    assert parsed.records[0]["amount"] == "0002130000" and parsed.records[0]["account_number"] == "1234567"
    assert parsed.records[0]["payee_name"] == "ｼｹﾝ ﾀﾛｳ"
    again = first.post("/staff/claims/runs", data={"transfer_date": day.isoformat()})
    assert "お支払いを待っている承認済みのご請求はありません。" in again.text
    before = _notices(db_session, insured_member)
    first.post(f"/staff/claims/runs/{run.id}/sent")
    db_session.refresh(claim.procedure)
    assert claim.procedure.status == "paid"
    assert _notices(db_session, insured_member) == before + 1
    page = member_client.get(f"/claims/{claim.receipt_no}").text
    assert "お支払い済み" in page and "2,130,000円" in page
    # Once paid, the list and /requests show the paid amount, not the estimate.
    listed = member_client.get("/claims").text
    assert "お支払い額 <strong>2,130,000円</strong>" in listed and "見込額" not in listed
    assert "見込額" not in member_client.get("/requests").text
    # Every status change left exactly one event and one notice.
    statuses = [e.status for e in claim.procedure.events]
    assert statuses == ["received", "awaiting_documents", "checking_documents", "under_review",
                        "awaiting_payment", "paid"]
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.member_id == insured_member.id, OutboxMessage.subject.like("%共済金のご請求%"))) == len(statuses)


def _next_business_day() -> date:
    from portal.clock import today
    from portal.jp.dates import add_business_days
    return add_business_days(today(), 1)


def test_member_withdraws_before_assessment_only(insured_member, member_client, db_session, staff_client):
    step3, step4 = file_claim(member_client, insured_member, files=1)
    member_client.post("/claims/new/submit", data={"draft": _draft(step4.text)})
    claim = db_session.scalar(select(Claim).where(Claim.member_id == insured_member.id))
    officer = staff_client("claims")
    _act(officer, claim, "complete")
    refused = member_client.post(f"/claims/{claim.receipt_no}/withdraw", follow_redirects=True)
    assert "審査が始まったご請求は取り下げできません" in refused.text


def test_damage_report_visit_and_phone_registration(member_client, make_contract, db_session, staff_client):
    member = member_client.member
    contract = make_contract(member, "SUMAIRU", start=date(2016, 9, 1), units=300,
                             coverage_kwargs={"building_units": 200, "goods_units": 100},
                             property_address="東京都渋谷区代々木1-2-3", property_structure="wooden")
    page = member_client.get("/claims/damage/new")
    token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', page.text).group(1)
    sent = member_client.post("/claims/damage/new", data={
        "form_token": token, "contract_no": contract.contract_no, "cause": "storm", "day": "2026-09-05",
        "description": "台風で屋根瓦が飛び雨漏り", "files": [(io.BytesIO(jpeg()), "roof.jpg")]},
        content_type="multipart/form-data")
    assert sent.status_code == 302, sent.text
    claim = db_session.scalar(select(Claim).where(Claim.member_id == member.id))
    assert claim.kind == "damage_report" and [l.kind for l in claim.lines] == ["natural_disaster"]
    assert claim.lines[0].limit_yen == 9_000_000
    before = member_client.get(f"/claims/{claim.receipt_no}").text
    assert "損害額は立会い調査のあとに査定" in before and "見込額の内訳" not in before  # no 0円 estimate
    officer = staff_client("claims")
    _act(officer, claim, "visit", starts_at="2099-12-03 10:00")
    db_session.refresh(claim.procedure)
    assert claim.procedure.status == "visit_proposed"
    member_client.post(f"/claims/{claim.receipt_no}/visit", data={"answer": "other", "note": "土曜の午前希望"})
    db_session.refresh(claim.procedure)
    assert claim.procedure.status == "reviewing"
    _act(officer, claim, "visit", starts_at="2099-12-05 10:00")
    member_client.post(f"/claims/{claim.receipt_no}/visit", data={"answer": "accept"})
    db_session.refresh(claim.procedure)
    assert claim.procedure.status == "visit_scheduled"
    _act(officer, claim, "complete")
    line = claim.lines[0]
    page = _act(officer, claim, "assess", **{f"amount_{line.id}": "9000001", f"reason_{line.id}": "査定"})
    assert "保障額（9,000,000円）を超えています。" in page
    _act(officer, claim, "assess", **{f"amount_{line.id}": "850000", f"reason_{line.id}": "立会い調査の査定額"})
    db_session.refresh(line)
    assert line.assessed_yen == 850_000
    assert "850,000円" in member_client.get(f"/claims/{claim.receipt_no}").text
    # Support registers a report taken by phone; the member sees it.
    support = staff_client("support")
    form = support.get("/staff/claims/phone-report")
    token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', form.text).group(1)
    done = support.post("/staff/claims/phone-report", data={
        "form_token": token, "member_no": member.member_no, "contract_no": contract.contract_no, "cause": "snow",
        "day": "2026-02-01", "description": "雪の重みでカーポートが破損"})
    assert done.status_code == 302, done.text
    assert "雪害による損害" in member_client.get("/claims").text
    assert support.get("/staff/claims").status_code == 403


def test_staff_file_views_are_audited_and_support_cannot_open_them(insured_member, member_client, db_session,
                                                                   staff_client):
    step3, step4 = file_claim(member_client, insured_member, files=1)
    member_client.post("/claims/new/submit", data={"draft": _draft(step4.text)})
    claim = db_session.scalar(select(Claim).where(Claim.member_id == insured_member.id))
    file_id = claim.files[0].id
    officer = staff_client("claims")
    assert officer.get(f"/staff/claims/{claim.receipt_no}/files/{file_id}").status_code == 200
    assert db_session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "claims.staff_file_view", AuditLog.target_id == str(file_id),
        AuditLog.actor_staff_id == officer.staff.id)) == 1
    assert officer.get(f"/staff/claims/{claim.receipt_no}/files/999999").status_code == 404
    support = staff_client("support")
    assert support.get(f"/staff/claims/{claim.receipt_no}/files/{file_id}").status_code == 403


def test_member_withdraws_while_documents_are_checked(insured_member, member_client, db_session):
    step3, step4 = file_claim(member_client, insured_member, files=1)
    member_client.post("/claims/new/submit", data={"draft": _draft(step4.text)})
    claim = db_session.scalar(select(Claim).where(Claim.member_id == insured_member.id))
    notices = _notices(db_session, insured_member)
    page = member_client.post(f"/claims/{claim.receipt_no}/withdraw", follow_redirects=True)
    assert "ご請求を取り下げました。" in page.text
    db_session.refresh(claim.procedure)
    assert claim.procedure.status == "withdrawn" and _notices(db_session, insured_member) == notices + 1
    again = member_client.post(f"/claims/{claim.receipt_no}/withdraw", follow_redirects=True)
    assert "取り下げできません" in again.text and _notices(db_session, insured_member) == notices + 1
