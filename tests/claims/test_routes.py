"""The routes of a claim not walked by the main journey: another payee account (the
debit account's bank rules, ゆうちょ 記号・番号, the member's own name), the paper route
for death and 重度障害, the 診断書 form, and a payment run cancelled before it is sent."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.audit.models import AuditLog
from portal.claims.models import Claim, PaymentRun
from portal.procedures.models import ProcedureRequest
from tests.claims.test_cli_and_demo import _approved_claim
from tests.claims.test_flow import _draft, _next_business_day, _notices, file_claim, insured_member  # noqa: F401


def _other_account(client, step3_html: str, **fields):
    return client.post("/claims/new/documents", data={"draft": _draft(step3_html), "payee": "other", **fields},
                       content_type="multipart/form-data")


def test_payee_is_another_account_in_the_members_name_with_yucho_rules(insured_member, member_client, db_session):
    step3, _ = file_claim(member_client, insured_member, files=1)
    from io import BytesIO

    from tests.claims.helpers import jpeg
    with_file = member_client.post("/claims/new/documents", data={
        "draft": _draft(step3.text), "payee": "other", "files": [(BytesIO(jpeg()), "r.jpg")],
        "bank_code": "0001", "branch_code": "001", "account_type": "1", "account_number": "7654321",
        "holder_name": "ﾀﾅｶ ﾊﾅｺ"}, content_type="multipart/form-data")
    # Somebody else's name: refused next to the name, the rest kept, the photo kept in the draft.
    assert 'id="holder_name-error"' in with_file.text and "ご本人名義" in with_file.text
    assert 'value="7654321"' in with_file.text and "ご請求内容の確認" not in with_file.text
    unknown = _other_account(member_client, with_file.text, bank_code="0000", branch_code="001", account_type="1",
                             account_number="7654321", holder_name="ｼｹﾝ ﾀﾛｳ")
    assert 'id="bank_code-error"' in unknown.text
    bad_bangou = _other_account(member_client, with_file.text, bank_code="9900", kigo="10100", bangou="12345670",
                                holder_name="ｼｹﾝ ﾀﾛｳ")
    assert 'id="bangou-error"' in bad_bangou.text
    confirm = _other_account(member_client, with_file.text, bank_code="９９００", kigo="１０１００",
                             bangou="12345671", holder_name="シケン タロウ")
    assert "ご請求内容の確認" in confirm.text and "ゆうちょ銀行" in confirm.text
    member_client.post("/claims/new/submit", data={"draft": _draft(confirm.text)})
    claim = db_session.scalar(select(Claim).where(Claim.member_id == insured_member.id))
    assert (claim.payee_bank_code, claim.payee_branch_code, claim.payee_account_number,
            claim.payee_account_type) == ("9900", "018", "1234567", 1)
    assert claim.payee_holder_name == "ｼｹﾝ ﾀﾛｳ" and not claim.is_payee_debit_account
    assert len(claim.files) == 1


def test_death_and_disability_go_by_paper_forms(insured_member, member_client, db_session, staff_client):
    page = member_client.get("/claims/paper-forms")
    assert page.status_code == 200 and "書面でご請求いただきます" in page.text
    assert "/claims/paper-forms" in member_client.get("/claims").text  # the route is offered
    token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', page.text).group(1)
    empty = member_client.post("/claims/paper-forms", data={"form_token": token})
    assert "被共済者を選んでください" in empty.text and "ご請求の内容を選んでください" in empty.text
    before = _notices(db_session, insured_member)
    person = insured_member.insured_persons[0]
    data = {"form_token": token, "person_id": str(person.id), "what": "disability", "note": "午前中に届けてください"}
    sent = member_client.post("/claims/paper-forms", data=data)
    assert sent.status_code == 302
    again = member_client.post("/claims/paper-forms", data=data)  # a double click
    assert again.headers["Location"] == sent.headers["Location"]
    rows = db_session.scalars(select(ProcedureRequest).where(ProcedureRequest.member_id == insured_member.id,
                                                             ProcedureRequest.kind == "paper_forms")).all()
    assert len(rows) == 1 and "重度障害" in rows[0].summary
    assert _notices(db_session, insured_member) == before + 1
    assert rows[0].receipt_no in member_client.get("/requests").text
    assert db_session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "claims.paper_forms", AuditLog.target_id == rows[0].receipt_no)) == 1
    # The office mails the forms from its queue; the member reads the step, told once.
    office = staff_client("office")
    assert rows[0].receipt_no in office.get("/staff/work").text
    office.post(f"/staff/work/{rows[0].receipt_no}/claim")
    done = office.post(f"/staff/work/{rows[0].receipt_no}/act/send", follow_redirects=True)
    assert "発送済みにしました" in done.text
    db_session.refresh(rows[0])
    assert rows[0].status == "shipped" and _notices(db_session, insured_member) == before + 2
    assert "ご請求の書類を発送しました" in member_client.get(f"/requests/{rows[0].receipt_no}").text


def test_the_certificate_form_downloads_as_a_pdf(member_client):
    response = member_client.get("/claims/forms/shindansho.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and "attachment" in response.headers["Content-Disposition"]


def test_a_cancelled_run_gives_its_claims_back_and_a_sent_one_cannot_be_cancelled(db_session, make_member,
                                                                                   staff_client):
    member = make_member()
    claim = _approved_claim(db_session, member, 54_321)
    officer = staff_client("claims")
    day = _next_business_day().isoformat()
    officer.post("/staff/claims/runs", data={"transfer_date": day})
    first = db_session.scalar(select(PaymentRun).order_by(PaymentRun.id.desc()))
    assert [item.claim_id for item in first.items] == [claim.id]
    assert officer.post(f"/staff/claims/runs/{first.id}/cancel").status_code == 302
    db_session.refresh(first)
    assert first.status == "cancelled" and first.items == []
    assert officer.get(f"/staff/claims/runs/{first.id}/file").status_code == 404
    officer.post("/staff/claims/runs", data={"transfer_date": day})
    second = db_session.scalar(select(PaymentRun).order_by(PaymentRun.id.desc()))
    assert second.id != first.id and [item.claim_id for item in second.items] == [claim.id]
    officer.post(f"/staff/claims/runs/{second.id}/sent")
    refused = officer.post(f"/staff/claims/runs/{second.id}/cancel", follow_redirects=True)
    assert "送信済みの振込データは取り消せません。" in refused.text
    db_session.refresh(second)
    db_session.refresh(claim.procedure)
    assert second.status == "sent" and claim.procedure.status == "paid"


def test_each_contract_page_leads_to_its_claim(insured_member, member_client, make_contract, db_session):
    from datetime import date

    from portal.contracts.models import Contract

    medical = db_session.scalars(select(Contract).where(Contract.member_id == insured_member.id)).first()
    page = member_client.get(f"/contracts/{medical.contract_no}").text
    link = f'/claims/new?person={medical.insured_person_id}'
    assert f'href="{link}"' in page
    chosen = member_client.get(link).text
    assert re.search(rf'value="{medical.insured_person_id}"[^>]*checked|checked[^>]*value="{medical.insured_person_id}"',
                     chosen)
    home = make_contract(insured_member, "SUMAIRU", start=date(2016, 9, 1), units=300,
                         coverage_kwargs={"building_units": 200, "goods_units": 100},
                         property_address="東京都渋谷区代々木1-2-3", property_structure="wooden")
    assert 'href="/claims/damage/new"' in member_client.get(f"/contracts/{home.contract_no}").text
