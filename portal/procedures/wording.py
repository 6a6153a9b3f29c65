"""What a member reads about a procedure: status names and notice sentences.

One place for the words, so every kind says the same thing the same way. A
notice names the procedure and its receipt number, says what happened (the
headline of the status, or the feature's own note when that already says it),
adds the feature's details, then says what comes next. It never reads like a
form field ("状況が「継続中」になりました。解約を受け付けました。").
"""
from __future__ import annotations

import re

# Status codes are stored; members see these names.
STATUS_LABELS = {
    "received": "受付済み",
    "reviewing": "確認中",
    "under_review": "審査中",
    "completed": "完了",
    "approved": "成立",
    "declined": "不成立",
    "awaiting_payment": "お支払い待ち",
    "paid": "お支払い済み",
    "shipped": "発送済み",
    "cancelled": "取り消し",
    "failed": "お手続きできませんでした",
    "active": "ご利用中",
    "checking_documents": "書類確認中",
    "awaiting_documents": "追加書類のお願い",
    "returned": "差し戻し",
    "withdrawn": "取り下げ",
    "preparing_shipment": "発送準備中",
    "visit_proposed": "立会い調査日のご提案",
    "visit_scheduled": "立会い調査日決定",
    "not_payable": "お支払いできません",
}
# Where the same code means something else for one kind (a claim is paid *to*
# the member; a kit order is paid *by* the member).
KIND_STATUS_LABELS = {
    ("claim", "awaiting_payment"): "お支払い手続き中",
    ("damage_report", "awaiting_payment"): "お支払い手続き中",
    ("subscription", "cancelled"): "終了",
}

# (what happened, what comes next), read after "<手続き>（受付番号 …）".
SENTENCES: dict[str, tuple[str, str]] = {
    "received": ("を受け付けました。", "担当者が内容を確認し、進み具合をお知らせします。"),
    "reviewing": ("の内容を確認しています。", "確認が終わりましたらお知らせします。"),
    "under_review": ("の審査を始めました。", "審査の結果をお知らせします。"),
    "completed": ("が完了しました。", ""),
    "approved": ("が成立しました。", ""),
    "declined": ("は成立しませんでした。", ""),
    "awaiting_payment": ("のお支払いをお待ちしています。", "お支払いを確認しましたらお知らせします。"),
    "paid": ("のお支払いを確認しました。", ""),
    "shipped": ("の品を発送しました。", ""),
    "cancelled": ("を取り消しました。", ""),
    "failed": ("を完了できませんでした。", "お手数ですが、もう一度お手続きください。"),
    "active": ("のご利用が始まりました。", ""),
    "checking_documents": ("を受け付けました。お送りいただいた書類を確認しています。",
                           "確認が終わりましたらお知らせします。"),
    "awaiting_documents": ("について、書類の追加をお願いします。", "マイページの「手続き状況」からお送りください。"),
    "returned": ("は、このままではお手続きできませんでした。",
                 "理由をご確認のうえ、お手数ですがもう一度お申し込みください。"),
    "withdrawn": ("を取り下げました。", ""),
    "preparing_shipment": ("の発送を準備しています。", "発送しましたらお知らせします。"),
    "visit_proposed": ("について、立会い調査の日程をご提案しました。", "マイページからご都合をお知らせください。"),
    "visit_scheduled": ("の立会い調査日が決まりました。", ""),
    "not_payable": ("について、誠に申し訳ありませんが、共済金をお支払いできません。",
                    "ご不明な点は、マイページの「お問い合わせ」からお尋ねください。"),
}
KIND_SENTENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("claim", "awaiting_payment"): ("のお支払いが決まりました。", "ご指定の口座へのお振り込みをお待ちください。"),
    ("damage_report", "awaiting_payment"): ("のお支払いが決まりました。", "ご指定の口座へのお振り込みをお待ちください。"),
    ("claim", "paid"): ("の共済金をお振り込みしました。", ""),
    ("damage_report", "paid"): ("の共済金をお振り込みしました。", ""),
    ("shop_order", "shipped"): ("の商品を発送しました。", ""),
    ("contract_certificate", "shipped"): ("の証書を発送しました。", ""),
    ("subscription", "active"): ("を開始しました。", ""),
    ("subscription", "cancelled"): ("を終了しました。", ""),
    ("inquiry", "completed"): ("に回答しました。", "マイページの「お問い合わせ」でご確認ください。"),
    # Contract changes: the office checks before anything changes.
    ("cancellation", "received"): ("のお申し出を受け付けました。",
                                   "担当者が確認し、お手続きが完了しましたらお知らせします。"),
    ("cooling_off", "received"): ("のお申し出を受け付けました。",
                                  "担当者が確認し、お申込みの取り消しとご返金の手続きが済みましたらお知らせします。"),
    ("withdrawal", "received"): ("のお申し出を受け付けました。",
                                 "担当者が確認し、お手続きが完了しましたらお知らせします。"),
    ("beneficiary_change", "received"): ("のお申し出を受け付けました。",
                                         "担当者が確認し、変更が済みましたらお知らせします。"),
    ("proxy_claimant", "received"): ("のお申し出を受け付けました。",
                                     "担当者が確認し、登録が済みましたらお知らせします。"),
    ("name_change", "checking_documents"): ("のお申し出を受け付けました。お送りいただいた書類を確認しています。",
                                            "確認が終わり、お名前を変更しましたらお知らせします。"),
}
STATUS_PAGE = "状況はマイページの「手続き状況」でご確認いただけます。"


def status_label(kind: str, status: str) -> str:
    return KIND_STATUS_LABELS.get((kind, status)) or STATUS_LABELS[status]


def sentences(kind: str, status: str) -> tuple[str, str]:
    return KIND_SENTENCES.get((kind, status)) or SENTENCES[status]


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith(("。", "）", "」")) else text + "。"


def _says_it_already(headline: str, note: str) -> bool:
    """Whether the note's first sentence reports the same thing as the headline
    ("ご契約が成立しました" after "が成立しました")."""
    first = note.split("。", 1)[0]
    tail = re.sub(r"^(について、|の|を|が|は)", "", headline.split("。", 1)[0])
    return bool(tail) and first.endswith(tail)


def notice(kind_label: str, kind: str, status: str, receipt_no: str, member_name: str,
           note: str | None = None, *, same_status: bool = False, still_open: bool = True) -> str:
    """The body of the notice for `status` (`same_status`: a step within it, such
    as a skipped delivery); an open procedure points to the status page."""
    head = f"{kind_label}（受付番号 {receipt_no}）"
    note = _sentence(note or "")
    headline, next_step = sentences(kind, status)
    if same_status and note:
        text, next_step = f"{head}について、{note}", ""
    elif note and _says_it_already(headline, note):
        text = f"{head}について、{note}"
    else:
        text = f"{head}{headline}{note}"
    if next_step:
        text += next_step
    if still_open:
        text += STATUS_PAGE
    return f"{member_name}様\n{text}"
