"""Contract changes through the pages: form → confirmation (the money) → receipt,
and the back office settling the same figures."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from portal.changes import completion
from portal.procedures.models import ProcedureRequest
from tests.contracts.helpers import tokyo


def _token(html: str) -> str:
    return re.search(r'name="form_token"[^>]*value="([^"]+)"', html).group(1)


def test_yearly_cancellation_shows_the_refund_then_the_office_settles_it(client, auth, make_member, make_contract,
                                                                        db_session, staff_client):
    member = make_member()
    contract = make_contract(member, "SUMAIRU", premium_yen=15_590, start=date(2020, 4, 1))
    with tokyo(2026, 12, 1):
        auth.login_member(member)
        page = client.get(f"/contracts/{contract.contract_no}")
        assert f"/contracts/{contract.contract_no}/cancel" in page.text
        form = client.get(f"/contracts/{contract.contract_no}/cancel")
        assert form.status_code == 200
        token = _token(form.text)
        bad = client.post(f"/contracts/{contract.contract_no}/cancel",
                          data={"form_token": token, "end_date": "2027-04-01", "reason": "引っ越し", "action": "confirm"})
        assert "契約年度の終わり" in bad.text and "引っ越し" in bad.text  # message by the field, input kept
        confirm = client.post(f"/contracts/{contract.contract_no}/cancel",
                              data={"form_token": token, "end_date": "2026-12-15", "reason": "", "action": "confirm"})
        assert re.search(r'id="refund">3,897円<', confirm.text)
        assert "2026年12月15日" in confirm.text
        assert db_session.scalar(select(ProcedureRequest).where(ProcedureRequest.kind == "cancellation")) is None
        data = {"form_token": token, "end_date": "2026-12-15", "reason": "", "action": "save"}
        done = client.post(f"/contracts/{contract.contract_no}/cancel", data=data)
        assert done.status_code == 302
        client.post(f"/contracts/{contract.contract_no}/cancel", data=data)  # double click
        receipt = client.get(done.headers["Location"])
    rows = list(db_session.scalars(select(ProcedureRequest).where(ProcedureRequest.kind == "cancellation")))
    assert len(rows) == 1
    assert rows[0].receipt_no in receipt.text
    receipt_no = rows[0].receipt_no
    # The office sees the same money and finishes it in the work queue.
    office = staff_client("office")
    detail = office.get(f"/staff/work/{receipt_no}").text
    assert re.search(r'id="office-refund">3,897円<', detail)
    office.post(f"/staff/work/{receipt_no}/claim")
    done = office.post(f"/staff/work/{receipt_no}/act/complete", follow_redirects=True)
    assert "完了にしました" in done.text
    db_session.refresh(contract)
    assert (contract.status, contract.end_date) == ("ended", date(2026, 12, 16))
    again = office.post(f"/staff/work/{receipt_no}/act/complete", follow_redirects=True)
    assert [e.status for e in rows[0].events].count("completed") == 1, again.status_code


def test_monthly_cancellation_confirm_shows_the_last_debit(client, auth, make_member, make_contract, db_session,
                                                           staff_client):
    member = make_member()
    contract = make_contract(member, "KOKUMIN_SOGO", premium_yen=1_800)
    member_client = client
    with tokyo(2026, 12, 11):
        auth.login_member(member)
        token = _token(member_client.get(f"/contracts/{contract.contract_no}/cancel").text)
        confirm = member_client.post(f"/contracts/{contract.contract_no}/cancel",
                                     data={"form_token": token, "action": "confirm"})
        assert re.search(r'id="last-debit">2026年12月28日 1,800円<', confirm.text), confirm.text
        assert "2026年12月31日" in confirm.text
        member_client.post(f"/contracts/{contract.contract_no}/cancel",
                           data={"form_token": token, "action": "save"})
        request = db_session.scalar(select(ProcedureRequest).where(ProcedureRequest.kind == "cancellation"))
        detail = staff_client("office").get(f"/staff/work/{request.receipt_no}").text
    assert re.search(r'id="office-last-debit">1,800円<', detail) and "2026-12-28" in detail


def test_another_members_contract_is_404(member_client, make_member, make_contract):
    other = make_contract(make_member(), "KOKUMIN_SOGO")
    assert member_client.get(f"/contracts/{other.contract_no}/cancel").status_code == 404
    assert member_client.get(f"/contracts/{other.contract_no}/beneficiary").status_code == 404


def test_beneficiary_page_shows_the_default_order_then_asks_for_consent(member_client, make_contract, db_session):
    member = member_client.member
    contract = make_contract(member, "KOKUMIN_SOGO")
    url = f"/contracts/{contract.contract_no}/beneficiary"
    page = member_client.get(url)
    assert "共済規約の順位（配偶者、子、父母、孫、祖父母、兄弟姉妹）" in page.text
    token = _token(page.text)
    person = {"form_token": token, "name": "試験 花子", "name_kana": "しけん はなこ", "relation": "spouse"}
    consent = member_client.post(url, data={**person, "action": "consent"})
    assert "被共済者ご本人の同意" in consent.text or "被共済者の同意" in consent.text
    refused = member_client.post(url, data={**person, "action": "save", "consent_name": member.name})
    assert "同意が必要です" in refused.text
    saved = member_client.post(url, data={**person, "action": "save", "consent": "y", "consent_name": member.name})
    assert saved.status_code == 302
    request = db_session.scalar(select(ProcedureRequest).where(ProcedureRequest.kind == "beneficiary_change"))
    completion.complete(db_session, request.receipt_no)
    assert "試験 花子さま" in member_client.get(url).text


def test_withdrawal_is_refused_while_a_contract_is_in_force(member_client, make_contract):
    make_contract(member_client.member, "KOKUMIN_SOGO")
    page = member_client.get("/changes/withdrawal")
    assert "有効なご契約があるため脱退できません" in page.text
    assert "を解約する" in page.text


def test_withdrawal_confirm_shows_the_refund_date(client, auth, make_member):
    member_client = client
    with tokyo(2026, 12, 1):
        auth.login_member(make_member())
        token = _token(member_client.get("/changes/withdrawal").text)
        confirm = member_client.post("/changes/withdrawal", data={"form_token": token, "action": "confirm"})
    assert "1,000円" in confirm.text and "2027年6月30日" in confirm.text


def test_name_change_with_a_photo(member_client, db_session):
    from io import BytesIO

    from PIL import Image
    out = BytesIO()
    Image.new("RGB", (20, 20), "white").save(out, "PNG")
    token = _token(member_client.get("/changes/name").text)
    fields = {"form_token": token, "new_name": "佐藤 太郎", "new_name_kana": "サトウ タロウ", "reason": "marriage"}
    missing = member_client.post("/changes/name", data={**fields, "action": "confirm"},
                                 content_type="multipart/form-data")
    assert "書類の写真" in missing.text and "佐藤 太郎" in missing.text
    confirm = member_client.post("/changes/name", data={**fields, "action": "confirm",
                                                        "document": (BytesIO(out.getvalue()), "id.png")},
                                 content_type="multipart/form-data")
    assert "写真を受け取りました" in confirm.text
    saved = member_client.post("/changes/name", data={**fields, "action": "save"})
    assert saved.status_code == 302
    request = db_session.scalar(select(ProcedureRequest).where(ProcedureRequest.kind == "name_change"))
    assert request.status == "checking_documents"


def test_proxy_claimant_confirm_then_receipt(member_client, db_session):
    token = _token(member_client.get("/changes/proxy-claimant").text)
    data = {"form_token": token, "name": "試験 花子", "name_kana": "シケン ハナコ", "relation": "spouse",
            "birth_date": "1982-03-03", "phone": "０９０１２３４５６７８"}
    confirm = member_client.post("/changes/proxy-claimant", data={**data, "action": "confirm"})
    assert "この内容で指定する" in confirm.text
    assert member_client.post("/changes/proxy-claimant", data={**data, "action": "save"}).status_code == 302
    assert db_session.scalar(select(ProcedureRequest).where(ProcedureRequest.kind == "proxy_claimant")) is not None
