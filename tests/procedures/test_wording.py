"""Status names and notice sentences: one natural set, for every kind × status."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.messaging.models import OutboxMessage
from portal.procedures import services as procedures
from portal.procedures import wording
from portal.procedures.models import KIND_LABELS, OPEN_STATUSES, PROCEDURE_KINDS, STATUSES


def _last_body(db_session, member) -> str:
    return db_session.scalars(select(OutboxMessage.body).where(OutboxMessage.member_id == member.id)
                              .order_by(OutboxMessage.id.desc())).first()


@pytest.mark.parametrize("kind", PROCEDURE_KINDS)
@pytest.mark.parametrize("status", STATUSES)
def test_every_kind_and_status_reads_as_a_sentence(kind, status):
    label = wording.status_label(kind, status)
    assert label and not re.search(r"[A-Za-z_]", label)
    assert not re.search(r"(受付|支払|発送)済$", label), "okurigana: 受付済み, お支払い済み, 発送済み"
    body = wording.notice(KIND_LABELS[kind], kind, status, "R2612-ABCDEFGH", "山田 太郎",
                          still_open=status in OPEN_STATUSES)
    assert body.startswith("山田 太郎様\n" + KIND_LABELS[kind] + "（受付番号 R2612-ABCDEFGH）")
    text = body.split("\n", 1)[1]
    assert "状況が「" not in text and "になりました" not in text  # a status is said in words, not quoted
    words = text.replace(KIND_LABELS[kind], "").replace("受付番号 R2612", "")
    assert text.endswith("。") and "。。" not in text and " " not in words
    sentences = [s for s in text.split("。") if s]
    assert len(sentences) == len(set(sentences)), text
    assert ("手続き状況" in text) == (status in OPEN_STATUSES)


@pytest.mark.parametrize("kind, status, note, expected", [
    # the complaints: a step within a status, and a first step that is already done
    ("subscription", "active", "解約を受け付けました。3月31日で終了し、以降のご請求はありません。",
     "健康チェッカー定期コース（受付番号 R1）について、解約を受け付けました。3月31日で終了し、以降のご請求はありません。"
     "状況はマイページの「手続き状況」でご確認いただけます。"),
    ("cancellation", "received", None,
     "解約（受付番号 R1）のお申し出を受け付けました。担当者が確認し、お手続きが完了しましたらお知らせします。"
     "状況はマイページの「手続き状況」でご確認いただけます。"),
    ("cancellation", "completed", "保障は2026年12月31日までです。解約返戻金 33,458円をご登録の口座へお振り込みします。",
     "解約（受付番号 R1）が完了しました。保障は2026年12月31日までです。解約返戻金 33,458円をご登録の口座へお振り込みします。"),
    ("cooling_off", "completed", "お申込みを取り消しました。お支払いいただいた掛金 2,300円を全額ご返金します。",
     "クーリング・オフ（受付番号 R1）が完了しました。お申込みを取り消しました。"
     "お支払いいただいた掛金 2,300円を全額ご返金します。"),
    ("withdrawal", "completed", "出資金 1,200円は2027年6月30日にご登録の口座へお振り込みします。",
     "脱退（受付番号 R1）が完了しました。出資金 1,200円は2027年6月30日にご登録の口座へお振り込みします。"),
    ("name_change", "checking_documents", None,
     "氏名変更（受付番号 R1）のお申し出を受け付けました。お送りいただいた書類を確認しています。"
     "確認が終わり、お名前を変更しましたらお知らせします。状況はマイページの「手続き状況」でご確認いただけます。"),
    ("beneficiary_change", "returned", "理由：同意のお名前が被共済者のお名前と違います",
     "死亡共済金受取人の変更（受付番号 R1）は、このままではお手続きできませんでした。"
     "理由：同意のお名前が被共済者のお名前と違います。理由をご確認のうえ、お手数ですがもう一度お申し込みください。"),
    ("enrollment", "approved", "ご契約が成立しました。証書番号 300000000001、保障開始日 2027年1月1日。",
     "こくみん共済 加入申込（受付番号 R1）について、ご契約が成立しました。証書番号 300000000001、保障開始日 2027年1月1日。"),
    ("claim", "awaiting_payment", "お支払い額 175,000円。お振込みの手続きをしています",
     "共済金のご請求（受付番号 R1）のお支払いが決まりました。お支払い額 175,000円。お振込みの手続きをしています。"
     "ご指定の口座へのお振り込みをお待ちください。状況はマイページの「手続き状況」でご確認いただけます。"),
])
def test_notice_sentences_per_kind(kind, status, note, expected):
    previous = status if kind == "subscription" else None
    body = wording.notice(KIND_LABELS[kind], kind, status, "R1", "山田 太郎", note,
                          same_status=previous == status, still_open=status in OPEN_STATUSES)
    assert body == f"山田 太郎様\n{expected}"


def test_labels_differ_where_the_code_means_something_else():
    assert wording.status_label("claim", "awaiting_payment") == "お支払い手続き中"
    assert wording.status_label("shop_order", "awaiting_payment") == "お支払い待ち"
    assert wording.status_label("subscription", "active") == "ご利用中"


def test_procedures_send_these_sentences(db_session, make_member):
    member = make_member()
    request = procedures.start(db_session, member, "cancellation", "解約")
    assert "解約（受付番号" in _last_body(db_session, member) and "のお申し出を受け付けました。" in _last_body(
        db_session, member)
    procedures.change_status(db_session, request, "completed", "保障は2026年12月31日までです。")
    body = _last_body(db_session, member)
    assert body.endswith(f"解約（受付番号 {request.receipt_no}）が完了しました。保障は2026年12月31日までです。")
    assert request.status_label == "完了" and [e.status_label for e in request.events] == ["受付済み", "完了"]


def test_the_request_page_says_what_comes_next(member_client, db_session):
    request = procedures.start(db_session, member_client.member, "name_change", "氏名変更",
                               status="checking_documents")
    page = member_client.get(f"/requests/{request.receipt_no}").text
    assert "今後の流れ" in page and page.count("確認が終わり、お名前を変更しましたらお知らせします。") == 1
    procedures.change_status(db_session, request, "completed", "お名前を変更しました。")
    page = member_client.get(f"/requests/{request.receipt_no}").text
    assert "今後の流れ" not in page and "お名前を変更しました。" in page
