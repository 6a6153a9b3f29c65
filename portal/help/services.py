"""Help: FAQ search and editing (cs), inquiries answered in a thread.

An inquiry is a procedure (kind inquiry): it shows on /requests with a status,
is due in 2 business days like a complaint, and a staff reply queues a notice.
"""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal import audit
from portal.clock import utcnow
from portal.help.models import INQUIRY_TOPICS, FaqEntry, Inquiry, InquiryMessage
from portal.jp.dates import add_business_days
from portal.jp.text import normalize
from portal.members.models import Member
from portal.messaging.services import queue_notice
from portal.procedures import services as procedures
from portal.procedures.models import ProcedureRequest
from portal.service_errors import ServiceError
from portal.tips.markdown import render_markdown  # the same sanitiser as tips

RESPONSE_BUSINESS_DAYS = 2
MAX_BODY = 2000


class HelpError(ServiceError):
    """A rule said no (a Japanese message, and the field it belongs to)."""


def _text(value: str | None, field: str, label: str, limit: int) -> str:
    # NFKC, then drop control characters other than line breaks
    text = "".join(ch for ch in normalize(value or "") if ch in "\n\t" or ch.isprintable()).strip()
    if not text:
        raise HelpError(f"{label}を入力してください。", field)
    if len(text) > limit:
        raise HelpError(f"{label}は{limit}文字以内で入力してください（今 {len(text)}文字）。", field)
    return text


# ----------------------------------------------------------------- FAQ

def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_faq(session: Session, query: str | None, *, include_unpublished: bool = False) -> list[FaqEntry]:
    stmt = select(FaqEntry)
    if not include_unpublished:
        stmt = stmt.where(FaqEntry.is_published.is_(True))
    for word in normalize(query or "").split()[:5]:
        stmt = stmt.where(FaqEntry.question.ilike(_like(word), escape="\\")
                          | FaqEntry.answer_markdown.ilike(_like(word), escape="\\"))
    return list(session.scalars(stmt.order_by(FaqEntry.sort_order, FaqEntry.id)))


def answer_html(entry: FaqEntry) -> Markup:
    return render_markdown(entry.answer_markdown)


@dataclass
class FaqInput:
    question: str
    answer_markdown: str
    sort_order: int = 100
    is_published: bool = True


def save_faq(session: Session, data: FaqInput, *, staff_id: int, entry_id: int | None = None) -> FaqEntry:
    question = _text(data.question, "question", "質問", 200)
    answer = _text(data.answer_markdown, "answer_markdown", "回答", 5000)
    if not 0 <= data.sort_order <= 9999:
        raise HelpError("表示順は0から9999で入力してください。", "sort_order")
    entry = session.get(FaqEntry, entry_id) if entry_id else FaqEntry()
    if entry is None:
        raise HelpError("この質問は見つかりません。")
    entry.question, entry.answer_markdown = question, answer
    entry.sort_order, entry.is_published = data.sort_order, data.is_published
    entry.updated_by_staff_id, entry.updated_at = staff_id, utcnow()
    session.add(entry)
    session.flush()
    audit.record("faq.saved", target_type="faq_entry", target_id=entry.id,
                 detail={"question": entry.question, "is_published": entry.is_published}, session=session)
    return entry


# ----------------------------------------------------------------- inquiries

def _message_by_key(session: Session, key: str | None) -> InquiryMessage | None:
    if not key:
        return None
    return session.scalar(select(InquiryMessage).where(InquiryMessage.idempotency_key == key))


def submit_inquiry(session: Session, member: Member, *, topic: str, subject: str, body: str, on,
                   idempotency_key: str | None, staff_id: int | None = None) -> Inquiry:
    existing = procedures.find_by_key(session, idempotency_key)
    if existing is not None:
        found = session.scalar(select(Inquiry).where(Inquiry.procedure_request_id == existing.id))
        if found is None or found.member_id != member.id:
            raise HelpError("この送信はすでに処理されています。")
        return found
    if topic not in INQUIRY_TOPICS:
        raise HelpError("お問い合わせの種類を選んでください。", "topic")
    subject = _text(subject, "subject", "件名", 100)
    body = _text(body, "body", "お問い合わせ内容", MAX_BODY)
    due = add_business_days(on, RESPONSE_BUSINESS_DAYS)
    request = procedures.start(session, member, "inquiry", f"お問い合わせ：{subject}",
                               detail={"topic": topic}, idempotency_key=idempotency_key, staff_id=staff_id,
                               notify=False)
    inquiry = Inquiry(member_id=member.id, procedure_request_id=request.id, topic=topic, subject=subject,
                      response_due_on=due)
    inquiry.messages.append(InquiryMessage(author_member_id=member.id, body=body))
    session.add(inquiry)
    session.flush()
    queue_notice(session, member, "【受付】お問い合わせ",
                 f"{member.name}様\nお問い合わせ（受付番号 {request.receipt_no}）を受け付けました。"
                 f"{due.month}月{due.day}日までにマイページでご回答します。")
    audit.record("inquiry.submitted", target_type="inquiry", target_id=inquiry.id, member_id=member.id,
                 session=session)
    return inquiry


def member_inquiries(session: Session, member: Member) -> list[tuple[Inquiry, ProcedureRequest]]:
    return list(session.execute(
        select(Inquiry, ProcedureRequest).join(ProcedureRequest, ProcedureRequest.id == Inquiry.procedure_request_id)
        .where(Inquiry.member_id == member.id).order_by(Inquiry.id.desc())).all())


def inquiry_for_member(session: Session, member: Member, receipt_no: str) -> tuple[Inquiry, ProcedureRequest] | None:
    row = session.execute(
        select(Inquiry, ProcedureRequest).join(ProcedureRequest, ProcedureRequest.id == Inquiry.procedure_request_id)
        .where(Inquiry.member_id == member.id, ProcedureRequest.receipt_no == receipt_no)
        .options(selectinload(Inquiry.messages))).first()
    return (row[0], row[1]) if row else None


def member_reply(session: Session, member: Member, inquiry: Inquiry, body: str, *,
                 idempotency_key: str | None) -> InquiryMessage:
    if (found := _message_by_key(session, idempotency_key)) is not None:
        return found
    body = _text(body, "body", "メッセージ", MAX_BODY)
    message = InquiryMessage(inquiry_id=inquiry.id, author_member_id=member.id, body=body,
                             idempotency_key=idempotency_key)
    session.add(message)
    inquiry.is_waiting_for_staff = True
    request = session.get(ProcedureRequest, inquiry.procedure_request_id)
    assert request is not None
    if request.status != "received":
        procedures.change_status(session, request, "received", "追加のご質問を受け付けました", notify=False)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise
    audit.record("inquiry.replied", target_type="inquiry", target_id=inquiry.id, member_id=member.id,
                 session=session)
    return message


def staff_inquiries(session: Session, *, waiting_only: bool = True) -> list[tuple[Inquiry, ProcedureRequest, Member]]:
    stmt = (select(Inquiry, ProcedureRequest, Member)
            .join(ProcedureRequest, ProcedureRequest.id == Inquiry.procedure_request_id)
            .join(Member, Member.id == Inquiry.member_id))
    if waiting_only:
        stmt = stmt.where(Inquiry.is_waiting_for_staff.is_(True))
    return list(session.execute(stmt.order_by(Inquiry.response_due_on, Inquiry.id).limit(200)).all())


def staff_reply(session: Session, inquiry_id: int, body: str, *, staff_id: int,
                idempotency_key: str | None) -> InquiryMessage:
    """Answer in the thread; the member is told a reply is waiting (never the reply
    itself by SMS: it may hold personal details)."""
    if (found := _message_by_key(session, idempotency_key)) is not None:
        return found
    inquiry = session.get(Inquiry, inquiry_id)
    if inquiry is None:
        raise HelpError("お問い合わせが見つかりません。")
    body = _text(body, "body", "回答", MAX_BODY)
    message = InquiryMessage(inquiry_id=inquiry.id, author_staff_id=staff_id, body=body,
                             idempotency_key=idempotency_key)
    session.add(message)
    inquiry.is_waiting_for_staff = False
    request = session.get(ProcedureRequest, inquiry.procedure_request_id)
    member = session.get(Member, inquiry.member_id)
    assert request is not None and member is not None
    procedures.change_status(session, request, "completed", "回答しました", notify=False)
    queue_notice(session, member, "【回答】お問い合わせ",
                 f"{member.name}様\nお問い合わせ（受付番号 {request.receipt_no}）に回答しました。"
                 "マイページの「ヘルプ・お問い合わせ」でご覧ください。")
    session.flush()
    audit.record("inquiry.answered", target_type="inquiry", target_id=inquiry.id, member_id=inquiry.member_id,
                 session=session)
    return message
