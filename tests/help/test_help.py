"""/help: FAQ search (Markdown through the tips sanitiser), inquiries answered in a thread."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from portal.help import services
from portal.help.models import FaqEntry, Inquiry
from portal.messaging.models import OutboxMessage
from portal.procedures.models import ProcedureRequest


def _token(html: str) -> str:
    return re.search(r'name="form_token"[^>]*value="([^"]+)"', html).group(1)


def test_faq_search_and_sanitised_answers(member_client, db_session):
    db_session.add_all([
        FaqEntry(question="住所変更の方法", answer_markdown="[ここ](javascript:alert(1)) から **変更** できます"),
        FaqEntry(question="再発行の時期", answer_markdown="10月から再発行できます"),
        FaqEntry(question="非公開の質問", answer_markdown="x", is_published=False),
    ])
    db_session.flush()
    page = member_client.get("/help?q=住所").text
    assert "住所変更の方法" in page and "再発行の時期" not in page and "非公開" not in page
    assert "<strong>変更</strong>" in page and "href=\"javascript:" not in page
    assert member_client.get("/help?q=%25%5F").status_code == 200


def test_inquiry_due_in_two_business_days_and_staff_reply_notifies(member_client, db_session, staff_client):
    member = member_client.member
    form = member_client.get("/help/inquiries/new").text
    token = _token(form)
    data = {"form_token": token, "topic": "contract", "subject": "受取人について", "body": "受取人を確認したいです"}
    first = member_client.post("/help/inquiries/new", data=data)
    assert first.status_code == 302
    member_client.post("/help/inquiries/new", data=data)  # double click
    inquiries = list(db_session.scalars(select(Inquiry).where(Inquiry.member_id == member.id)))
    assert len(inquiries) == 1
    inquiry = inquiries[0]
    request = db_session.get(ProcedureRequest, inquiry.procedure_request_id)
    from portal.jp.dates import add_business_days
    from portal.clock import today
    assert inquiry.response_due_on == add_business_days(today(), 2)
    assert "受取人を確認したいです" in member_client.get(first.headers["Location"]).text

    cs = staff_client("cs")
    assert "受取人について" in cs.get("/staff/help/inquiries").text
    page = cs.get(f"/staff/help/inquiries/{inquiry.id}").text
    reply = cs.post(f"/staff/help/inquiries/{inquiry.id}", data={"form_token": _token(page), "body": "受取人はご契約の詳細画面で確認できます"})
    assert reply.status_code == 302
    thread = member_client.get(f"/help/inquiries/{request.receipt_no}").text
    assert "受取人はご契約の詳細画面で確認できます" in thread and "担当者から回答がありました" in thread
    notice = db_session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member.id)
                                .order_by(OutboxMessage.id.desc())).first()
    assert notice.subject == "【回答】お問い合わせ" and request.receipt_no in notice.body
    assert staff_client("support").get(f"/staff/help/inquiries/{inquiry.id}").status_code == 403


def test_inquiry_of_another_member_is_404(member_client, db_session, make_member):
    other = make_member()
    inquiry = services.submit_inquiry(db_session, other, topic="other", subject="件名", body="本文", on=date(2026, 12, 1),
                                      idempotency_key="i:x")
    request = db_session.get(ProcedureRequest, inquiry.procedure_request_id)
    assert member_client.get(f"/help/inquiries/{request.receipt_no}").status_code == 404


def test_bad_inquiry_input_gets_a_message_by_the_field(member_client):
    token = _token(member_client.get("/help/inquiries/new").text)
    page = member_client.post("/help/inquiries/new",
                              data={"form_token": token, "topic": "contract", "subject": "件名", "body": " 　\n "})
    assert page.status_code == 200 and "お問い合わせ内容を入力してください" in page.text and "件名" in page.text


def test_cs_edits_the_faq(staff_client, db_session):
    cs = staff_client("cs")
    response = cs.post("/staff/help/faq/new", data={"question": "解約", "answer_markdown": "<script>x</script>**OK**",
                                                    "sort_order": "5", "is_published": "y"})
    assert response.status_code == 302
    entry = db_session.scalar(select(FaqEntry).where(FaqEntry.question == "解約"))
    assert entry.sort_order == 5
    assert "<script>" not in str(services.answer_html(entry))
