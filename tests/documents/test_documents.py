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
