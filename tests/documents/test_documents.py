"""/documents: a letter for every notice the member was sent, the product PDFs."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from portal.messaging.models import OutboxMessage
from portal.messaging.services import queue_notice
from portal.procedures import services as procedures


def test_every_notice_sent_is_listed_newest_first(member_client, db_session, make_member, make_contract):
    member = member_client.member
    contract = make_contract(member, "KOKUMIN_SOGO")
    request = procedures.start(db_session, member, "address_change", "住所変更")
    procedures.change_status(db_session, request, "completed", "変更しました")
    queue_notice(db_session, member, "【お知らせ】掛金のお引き落とし", "12月28日に1,800円をお引き落としします。")
    queue_notice(db_session, make_member(), "他人宛", "ほかの組合員へのお知らせ")
    sent = list(db_session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member.id)))
    assert len(sent) >= 3
    page = member_client.get("/documents").text
    for message in sent:
        assert f"/documents/letters/{message.id}" in page
    assert "他人宛" not in page
    newest, oldest = max(sent, key=lambda m: m.id), min(sent, key=lambda m: m.id)
    assert page.index(f"/documents/letters/{newest.id}") < page.index(f"/documents/letters/{oldest.id}")
    letter = member_client.get(f"/documents/letters/{newest.id}")
    assert "12月28日に1,800円" in letter.text
    other = db_session.scalar(select(OutboxMessage).where(OutboxMessage.subject == "他人宛"))
    assert member_client.get(f"/documents/letters/{other.id}").status_code == 404
    _ = contract


def test_letters_by_year_in_tokyo_time(member_client, db_session):
    member = member_client.member
    old = queue_notice(db_session, member, "去年のお知らせ", "元日")
    old.created_at = datetime(2025, 12, 31, 15, 30, tzinfo=timezone.utc)  # 1 Jan 2026 00:30 Tokyo
    older = queue_notice(db_session, member, "一昨年のお知らせ", "2025年")
    older.created_at = datetime(2025, 12, 31, 14, 30, tzinfo=timezone.utc)  # 31 Dec 2025 23:30 Tokyo
    db_session.flush()
    page = member_client.get("/documents?year=2026").text
    assert "去年のお知らせ" in page and "一昨年のお知らせ" not in page
    page = member_client.get("/documents?year=2025").text
    assert "一昨年のお知らせ" in page and "去年のお知らせ" not in page
    assert "一昨年" in member_client.get("/documents?q=一昨年").text
    assert member_client.get("/documents?year=3000&q=%25_").status_code == 200
    assert member_client.get("/documents?year=-1&q=%00%ff").status_code < 500


def test_product_documents_are_pdfs_of_held_products_only(member_client, make_contract):
    make_contract(member_client.member, "KOKUMIN_KODOMO", units=1)
    page = member_client.get("/documents").text
    assert "/documents/products/kokumin_kodomo/terms.pdf" in page
    assert "/documents/products/kokumin_kodomo/important.pdf" in page
    response = member_client.get("/documents/products/kokumin_kodomo/important.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert member_client.get("/documents/products/sumairu/terms.pdf").status_code == 404


def test_every_product_pdf_opens_in_a_pdf_reader(member_client, make_contract):
    """Each product's 共済規約 and 重要事項説明書: a PDF a reader opens, titled and with its text."""
    from io import BytesIO

    from pypdf import PdfReader

    from portal.contracts.catalogue import PRODUCTS
    from portal.documents.services import DOC_KINDS

    for spec in PRODUCTS:
        make_contract(member_client.member, spec.code, premium_yen=1_000, units=1)
    for spec in PRODUCTS:
        for kind, label in DOC_KINDS.items():
            response = member_client.get(f"/documents/products/{spec.code.lower()}/{kind}.pdf")
            assert response.status_code == 200 and response.mimetype == "application/pdf", (spec.code, kind)
            reader = PdfReader(BytesIO(response.data), strict=True)
            assert len(reader.pages) >= 1
            assert reader.metadata.title == f"{spec.name} {label}"
            text = "".join(page.extract_text() for page in reader.pages)
            assert "共済" in text and spec.description[:6] in text, (spec.code, kind, text[:200])


def test_a_letter_for_every_notice_sent_by_each_feature(member_client, db_session, make_contract, make_staff):
    """Procedure notices (a cancellation and its completion), a cover-end notice, an
    inquiry reply: every outbox row of the member is a letter on /documents."""
    from datetime import date

    from portal.changes import completion, cover_end, services as changes
    from portal.help import services as help_services

    member = member_client.member
    contract = make_contract(member, "MYCAR", premium_yen=36_500, start=date(2026, 4, 1))
    request = changes.request_cancellation(db_session, member, contract, date(2026, 12, 1),
                                           requested_end=date(2026, 12, 31), reason="", idempotency_key="doc:1")
    completion.complete(db_session, request.receipt_no)
    kodomo_child = _child(db_session, member)
    make_contract(member, "KOKUMIN_KODOMO", insured=kodomo_child, start=date(2012, 4, 1), units=1)
    assert cover_end.send_cover_end_notices(db_session, date(2027, 1, 30)) == 1
    inquiry = help_services.submit_inquiry(db_session, member, topic="contract", subject="受取人の確認",
                                           body="受取人を教えてください。", on=date(2026, 12, 1),
                                           idempotency_key="doc:2")
    help_services.staff_reply(db_session, inquiry.id, "ご契約の詳細画面でご確認いただけます。",
                              staff_id=make_staff("cs").id, idempotency_key="doc:3")
    sent = list(db_session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member.id)))
    subjects = {m.subject for m in sent}
    assert {"【受付】解約", "【状況】解約", "【ご案内】保障期間満了のお知らせ", "【回答】お問い合わせ"} <= subjects, subjects
    page = member_client.get("/documents").text
    for message in sent:
        assert f"/documents/letters/{message.id}" in page, message.subject
    done = next(m for m in sent if m.subject == "【状況】解約")
    letter = member_client.get(f"/documents/letters/{done.id}").text
    assert "解約返戻金 9,125円" in letter  # 3 whole months left: 36,500 × 3 ÷ 12


def _child(db_session, member):
    from datetime import date

    from portal.members.models import InsuredPerson

    child = InsuredPerson(member_id=member.id, relation="child", name="試験 一郎", name_kana="シケン イチロウ",
                          birth_date=date(2009, 1, 20), sex="male")
    db_session.add(child)
    db_session.flush()
    return child


def test_every_letter_is_reachable_page_by_page(member_client, db_session):
    member = member_client.member
    sent = [queue_notice(db_session, member, f"お知らせ {n}", f"本文 {n}") for n in range(1, 121)]
    db_session.flush()
    first = member_client.get("/documents").text
    assert "120件のお知らせがあります" in first and "1 / 3ページ" in first
    assert f"/documents/letters/{sent[-1].id}\"" in first and f"/documents/letters/{sent[0].id}\"" not in first
    seen = set()
    for page in (1, 2, 3):
        html = member_client.get(f"/documents?page={page}").text
        seen |= {m.id for m in sent if f"/documents/letters/{m.id}\"" in html}
    assert seen == {m.id for m in sent}
    assert member_client.get("/documents?page=999").status_code == 200  # the last page, not an error
