"""Voices: submission, staff triage (status, assignee, notes, replies) and
improvement items. The business-year report, its charts and CSV are in
portal.voices.report.

Services take a Session and plain values, flush and never commit; they raise
VoiceError with a Japanese message (and the form field it belongs to).
"""
from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import and_, case, func, select, true
from sqlalchemy.orm import Session, selectinload

from portal import audit
from portal.clock import TOKYO, now_tokyo, to_tokyo, today, utcnow
from portal.contracts.models import Contract
from portal.idempotency import find_by_key, insert_once
from portal.jp.dates import add_business_days
from portal.jp.errors import JpValueError
from portal.jp.phone import parse_phone
from portal.jp.text import normalize
from portal.members.models import Member
from portal.messaging.models import OutboxMessage
from portal.messaging.services import queue_message, queue_notice
from portal.pagination import Page, page_count
from portal.service_errors import ServiceError
from portal.staff.models import StaffUser
from portal.voices.models import (
    COMPLAINT_RESPONSE_BUSINESS_DAYS, ITEM_PROGRESS, STATUS_LABELS, VOICE_CHANNELS, VOICE_KINDS, VOICE_STATUSES,
    VOICE_TOPICS, ImprovementItem, Voice, VoiceNote, VoiceReply,
)

MAX_BODY_CHARS = 4000
MAX_REPLY_CHARS = 4000
MAX_NOTE_CHARS = 2000


class VoiceError(ServiceError):
    """A rule said no (a Japanese message, and the field it belongs to)."""


class VoiceConflict(VoiceError):
    """Someone else changed the voice since the form was shown."""


# ---------------------------------------------------------------- small helpers

def normalize_text(text: str | None) -> str:
    """NFKC (全角 digits and letters become ASCII) keeping the writer's line breaks."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def new_receipt_no() -> str:
    """e.g. V2611-7KQ3ZP2M: month of receipt, then random, unguessable characters."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return f"V{now_tokyo():%y%m}-" + "".join(secrets.choice(alphabet) for _ in range(8))


def response_due_on(kind: str, received_on: date) -> date | None:
    """A complaint's first response is due 2 business days after the day it arrived."""
    if kind != "complaint":
        return None
    return add_business_days(received_on, COMPLAINT_RESPONSE_BUSINESS_DAYS)


@dataclass(frozen=True)
class Contact:
    kind: str        # "email" | "phone"
    value: str       # the address, or national digits
    channel: str     # how we reach it: mail, sms (mobile) or voice (fixed line)
    recipient: str   # the address or the E.164 number


def parse_contact(email: str | None, phone: str | None) -> Contact:
    """A visitor's contact: an e-mail address or a phone number (at least one)."""
    email = normalize(email)
    phone = normalize(phone)
    if email:
        try:
            valid = validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            raise VoiceError("メールアドレスの形式が正しくありません。", "contact_email") from None
        address = valid.normalized
        return Contact("email", address, "mail", address)
    if phone:
        try:
            parsed = parse_phone(phone)
        except JpValueError as error:
            raise VoiceError(str(error) or "電話番号の形式が正しくありません。", "contact_phone") from None
        return Contact("phone", parsed.national, "sms" if parsed.is_mobile else "voice", parsed.e164)
    raise VoiceError("ご連絡先（メールアドレスまたは電話番号）を入力してください。", "contact_email")


def _contact_of(voice: Voice) -> Contact | None:
    if voice.contact_kind == "email" and voice.contact:
        return Contact("email", voice.contact, "mail", voice.contact)
    if voice.contact_kind == "phone" and voice.contact:
        parsed = parse_phone(voice.contact)
        return Contact("phone", parsed.national, "sms" if parsed.is_mobile else "voice", parsed.e164)
    return None


def _check_choice(value: str, allowed: tuple[str, ...], field_name: str, label: str) -> None:
    if value not in allowed:
        raise VoiceError(f"{label}を選んでください。", field_name)


def _check_body(body: str, field_name: str = "body", limit: int = MAX_BODY_CHARS) -> str:
    body = normalize_text(body)
    if not body:
        raise VoiceError("内容を入力してください。", field_name)
    if len(body) > limit:
        raise VoiceError(f"{limit:,}文字以内で入力してください（現在{len(body):,}文字）。", field_name)
    return body


# ---------------------------------------------------------------- submission

@dataclass
class Submission:
    voice: Voice
    created: bool
    messages: list[OutboxMessage] = field(default_factory=list)


def _voice_by_key(session: Session, key: str | None) -> Voice | None:
    return find_by_key(session, Voice, key)


def submit_voice(session: Session, *, kind: str, topic: str, body: str, wants_reply: bool,
                 member: Member | None = None, contract_id: int | None = None,
                 contact_name: str | None = None, contact_email: str | None = None,
                 contact_phone: str | None = None, idempotency_key: str | None = None) -> Submission:
    """A voice from the form on /voices/new, by a signed-in member or a visitor.

    A repeated idempotency key (double click, resent form) returns the first voice.
    The acknowledgement goes to the member's chosen channel, or to the visitor's contact.
    """
    existing = _voice_by_key(session, idempotency_key)
    if existing is not None:
        if existing.member_id != (member.id if member else None):
            raise VoiceError("この送信はすでに処理されています。もう一度フォームを開いてください。")
        return Submission(existing, created=False)

    _check_choice(kind, VOICE_KINDS, "kind", "種類")
    _check_choice(topic, VOICE_TOPICS, "topic", "内容の分類")
    body = _check_body(body)
    contact: Contact | None = None
    name: str | None = None
    contract: Contract | None = None
    if member is None:
        name = normalize(contact_name)
        if not name:
            raise VoiceError("お名前を入力してください。", "contact_name")
        if len(name) > 60:
            raise VoiceError("お名前は60文字以内で入力してください。", "contact_name")
        contact = parse_contact(contact_email, contact_phone)
    elif contract_id:
        contract = session.get(Contract, contract_id)
        if contract is None or contract.member_id != member.id:
            raise VoiceError("ご契約を選び直してください。", "contract")

    received = utcnow()
    received_on = to_tokyo(received).date()
    voice = Voice(
        receipt_no=new_receipt_no(), kind=kind, topic=topic, channel="web", status="received", body=body,
        wants_reply=True if kind == "complaint" else bool(wants_reply),
        member_id=member.id if member else None, contract_id=contract.id if contract else None,
        contact_name=name, contact_kind=contact.kind if contact else None,
        contact=contact.value if contact else None,
        received_at=received, received_on=received_on, response_due_on=response_due_on(kind, received_on),
        idempotency_key=idempotency_key,
    )
    voice, created = insert_once(session, voice)
    if not created:  # two copies of the same form arrived at once: the first one won
        return Submission(voice, created=False)
    audit.record("voice.submitted", target_type="voice", target_id=voice.id,
                 detail={"kind": voice.kind, "channel": voice.channel}, session=session)

    subject = "【受付】お客さまの声"
    reply_note = ("ご回答はマイページの「お客さまの声」でもご確認いただけます。" if member
                  else "担当者よりご連絡いたします。") if voice.wants_reply else "今後の業務改善に活かしてまいります。"
    thanks = f"お客さまの声をお寄せいただき、ありがとうございます（受付番号 {voice.receipt_no}）。{reply_note}"
    messages: list[OutboxMessage] = []
    if member is not None:
        message = queue_notice(session, member, subject, f"{member.name}様 {thanks}", topic="voice")
        if message is not None:
            messages.append(message)
    else:
        assert contact is not None
        messages.append(queue_message(session, channel=contact.channel, recipient=contact.recipient,
                                      subject=subject, body=f"{name}様 {thanks}"))
    return Submission(voice, created=True, messages=messages)


def register_voice(session: Session, staff: StaffUser, *, channel: str, received_at: datetime, kind: str,
                   topic: str, body: str, wants_reply: bool, member_no: str | None = None,
                   contact_name: str | None = None, contact_email: str | None = None,
                   contact_phone: str | None = None, audited: bool = True) -> Voice:
    """Staff register a voice received elsewhere (shop, call centre, customer-relations office).
    Demo data passes `audited=False`: no one registered it."""
    _check_choice(channel, VOICE_CHANNELS, "channel", "受付経路")
    _check_choice(kind, VOICE_KINDS, "kind", "種類")
    _check_choice(topic, VOICE_TOPICS, "topic", "内容の分類")
    body = _check_body(body)
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=TOKYO)
    if received_at > utcnow() + timedelta(minutes=5):
        raise VoiceError("受付日時に未来の日時は指定できません。", "received_at")
    member = None
    member_no = normalize(member_no)
    if member_no:
        member = session.scalar(select(Member).where(Member.member_no == member_no))
        if member is None:
            raise VoiceError("この組合員番号は見つかりません。", "member_no")
    contact = None
    name = normalize(contact_name) or None
    if contact_email or contact_phone:
        contact = parse_contact(contact_email, contact_phone)
    received_on = to_tokyo(received_at).date()
    voice = Voice(
        receipt_no=new_receipt_no(), kind=kind, topic=topic, channel=channel, status="received", body=body,
        wants_reply=True if kind == "complaint" else bool(wants_reply),
        member_id=member.id if member else None, contact_name=name,
        contact_kind=contact.kind if contact else None, contact=contact.value if contact else None,
        received_at=received_at, received_on=received_on, response_due_on=response_due_on(kind, received_on),
        registered_by_staff_id=staff.id,
    )
    session.add(voice)
    session.flush()
    if audited:
        audit.record("voice.registered", target_type="voice", target_id=voice.id, member_id=voice.member_id,
                     detail={"kind": voice.kind, "channel": voice.channel}, session=session)
    return voice


def member_voices(session: Session, member_id: int) -> list[Voice]:
    return list(session.scalars(
        select(Voice).where(Voice.member_id == member_id)
        .options(selectinload(Voice.replies), selectinload(Voice.improvement_item))
        .order_by(Voice.received_at.desc(), Voice.id.desc())
    ))


def voice_by_receipt(session: Session, receipt_no: str) -> Voice | None:
    return session.scalar(select(Voice).where(Voice.receipt_no == receipt_no))


# ---------------------------------------------------------------- staff: inbox

@dataclass
class InboxFilters:
    kind: str = ""
    topic: str = ""
    status: str = ""
    channel: str = ""
    date_from: date | None = None
    date_to: date | None = None
    overdue_only: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v}


def inbox(session: Session, filters: InboxFilters, page: int = 1, per_page: int = 50) -> Page[Voice]:
    """Voices for the staff inbox: new (受付) complaints first, then newest first.
    Which voices a staff member was shown is audited."""
    conditions = []
    if filters.kind in VOICE_KINDS:
        conditions.append(Voice.kind == filters.kind)
    if filters.topic in VOICE_TOPICS:
        conditions.append(Voice.topic == filters.topic)
    if filters.status in VOICE_STATUSES:
        conditions.append(Voice.status == filters.status)
    if filters.channel in VOICE_CHANNELS:
        conditions.append(Voice.channel == filters.channel)
    if filters.date_from:
        conditions.append(Voice.received_on >= filters.date_from)
    if filters.date_to:
        conditions.append(Voice.received_on <= filters.date_to)
    if filters.overdue_only:
        conditions += [Voice.response_due_on < today(), Voice.first_response_at.is_(None), Voice.status != "closed"]
    where = and_(*conditions) if conditions else true()
    total = session.scalar(select(func.count()).select_from(Voice).where(where)) or 0
    page = max(1, min(page, page_count(total, per_page)))
    # Two ordered reads instead of ORDER BY an expression (which sorts every row):
    # the new complaints (few; index on status, received_at), then everything else
    # newest first (a backward scan of the received_at index that stops at the page).
    is_new_complaint = and_(Voice.kind == "complaint", Voice.status == "received")
    newest_first = (Voice.received_at.desc(), Voice.id.desc())
    new_count = session.scalar(select(func.count()).select_from(Voice).where(where, is_new_complaint)) or 0
    offset = (page - 1) * per_page
    items: list[Voice] = []
    if offset < new_count:
        items += session.scalars(
            select(Voice).where(where, is_new_complaint).options(selectinload(Voice.assignee))
            .order_by(*newest_first).offset(offset).limit(per_page)).all()
    if len(items) < per_page:
        items += session.scalars(
            select(Voice).where(where, ~is_new_complaint).options(selectinload(Voice.assignee))
            .order_by(*newest_first).offset(max(0, offset - new_count)).limit(per_page - len(items))).all()
    audit.record("voice.inbox_viewed", target_type="voice",
                 detail={"filters": filters.as_dict(), "page": page, "shown": [v.id for v in items]}, session=session)
    return Page(items, total, page, per_page)


def get_voice(session: Session, voice_id: int) -> Voice | None:
    return session.get(Voice, voice_id)


def open_voice(session: Session, voice_id: int) -> Voice | None:
    """A voice a staff member opens to read (audited)."""
    voice = get_voice(session, voice_id)
    if voice is not None:
        audit.record("voice.viewed", target_type="voice", target_id=voice.id, member_id=voice.member_id,
                     session=session)
    return voice


def cs_staff(session: Session) -> list[StaffUser]:
    """Staff who can be assigned a voice or own an improvement item (role cs)."""
    from portal.staff.models import StaffRole
    return list(session.scalars(
        select(StaffUser).join(StaffRole, StaffRole.staff_id == StaffUser.id)
        .where(StaffRole.role == "cs", StaffUser.is_enabled.is_(True)).order_by(StaffUser.name)
    ))


# ---------------------------------------------------------------- staff: workflow

# Forward through 受付 → 対応中 → 回答済 → 完了; 回答済 is reached by sending a reply.
# A voice that wants no reply may be closed at once; a closed or answered one can be reopened.
TRANSITIONS = {
    "received": ("in_progress", "closed"),
    "in_progress": ("closed",),
    "answered": ("closed", "in_progress"),
    "closed": ("in_progress",),
}


def allowed_statuses(voice: Voice) -> list[str]:
    options = list(TRANSITIONS[voice.status])
    if voice.wants_reply and not voice.replies and "closed" in options:
        options.remove("closed")
    return options


def _check_version(voice: Voice, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != voice.version:
        raise VoiceConflict("ほかの担当者がこの声を更新しました。最新の内容を確認してから、もう一度操作してください。")


def _touch(voice: Voice) -> None:
    voice.updated_at = utcnow()


def change_status(session: Session, voice: Voice, status: str, *, expected_version: int | None = None) -> Voice:
    _check_version(voice, expected_version)
    if status not in VOICE_STATUSES:
        raise VoiceError("状況を選んでください。", "status")
    before = voice.status
    if status != before:
        if status not in allowed_statuses(voice):
            if status == "closed" and voice.wants_reply and not voice.replies:
                raise VoiceError("回答を希望されているため、回答を送ってから完了にしてください。", "status")
            if status == "answered":
                raise VoiceError("「回答済」にするには、回答を送信してください。", "status")
            raise VoiceError(f"「{STATUS_LABELS[before]}」から「{STATUS_LABELS[status]}」には変更できません。", "status")
        voice.status = status
        _touch(voice)
        session.flush()
    audit.record("voice.status_changed", target_type="voice", target_id=voice.id, member_id=voice.member_id,
                 detail={"from": before, "to": voice.status}, session=session)
    return voice


def assign(session: Session, voice: Voice, staff_id: int | None, *, expected_version: int | None = None) -> Voice:
    _check_version(voice, expected_version)
    if staff_id is not None and staff_id not in {s.id for s in cs_staff(session)}:
        raise VoiceError("担当者を選び直してください。", "assignee")
    voice.assignee_staff_id = staff_id
    if staff_id is not None and voice.status == "received":
        voice.status = "in_progress"
    _touch(voice)
    session.flush()
    audit.record("voice.assigned", target_type="voice", target_id=voice.id, member_id=voice.member_id,
                 detail={"assignee_staff_id": voice.assignee_staff_id}, session=session)
    return voice


def add_note(session: Session, voice: Voice, staff: StaffUser, body: str) -> VoiceNote:
    body = _check_body(body, "note", MAX_NOTE_CHARS)
    note = VoiceNote(voice_id=voice.id, staff_id=staff.id, body=body)
    voice.notes.append(note)
    _touch(voice)
    session.flush()
    audit.record("voice.note_added", target_type="voice", target_id=voice.id, member_id=voice.member_id,
                 detail={"note_id": note.id}, session=session)
    return note


def send_reply(session: Session, voice: Voice, staff: StaffUser, body: str, *,
               expected_version: int | None = None) -> VoiceReply:
    """Reply to the member (their chosen channel) or the visitor (their contact).

    Voices without any contact (e.g. a shop visitor who left none) keep the reply on
    file as answered in person. Moves the voice to 回答済 and records the first response.
    """
    _check_version(voice, expected_version)
    if voice.status == "closed":
        raise VoiceError("完了した声には回答できません。対応中に戻してから回答してください。", "reply")
    body = _check_body(body, "reply", MAX_REPLY_CHARS)
    subject = f"【ご回答】お客さまの声（受付番号 {voice.receipt_no}）"
    message: OutboxMessage | None = None
    channel = "record"
    if voice.member_id is not None:
        member = session.get(Member, voice.member_id)
        assert member is not None
        message = queue_notice(session, member, subject,
                               f"{member.name}様 お寄せいただいた声への回答です。\n{body}\n"
                               "マイページの「お客さまの声」でもご覧いただけます。", topic="voice")
    else:
        contact = _contact_of(voice)
        if contact is not None:
            message = queue_message(session, channel=contact.channel, recipient=contact.recipient,
                                    subject=subject,
                                    body=f"{voice.contact_name or 'お客'}様 お寄せいただいた声への回答です。\n{body}")
    if message is not None:
        channel = message.channel
    reply = VoiceReply(voice_id=voice.id, staff_id=staff.id, body=body, channel=channel,
                       outbox_message_id=message.id if message else None)
    voice.replies.append(reply)
    now = utcnow()
    if voice.first_response_at is None:
        voice.first_response_at = now
    voice.status = "answered"
    if voice.assignee_staff_id is None:
        voice.assignee_staff_id = staff.id
    _touch(voice)
    session.flush()
    audit.record("voice.replied", target_type="voice", target_id=voice.id, member_id=voice.member_id,
                 detail={"reply_id": reply.id, "channel": reply.channel}, session=session)
    return reply


# ---------------------------------------------------------------- improvement items

def _check_item_fields(title: str, owner_staff_id: int | None, session: Session) -> str:
    title = normalize(title)
    if not title:
        raise VoiceError("課題名を入力してください。", "title")
    if len(title) > 120:
        raise VoiceError("課題名は120文字以内で入力してください。", "title")
    if owner_staff_id is not None and session.get(StaffUser, owner_staff_id) is None:
        raise VoiceError("責任者を選び直してください。", "owner")
    return title


def _check_progress(progress: str) -> str:
    if progress not in ITEM_PROGRESS:
        raise VoiceError("進捗を選んでください。", "progress")
    return progress


def create_item(session: Session, *, title: str, description: str = "", owner_staff_id: int | None = None,
                due_on: date | None = None, progress: str = "not_started", progress_note: str = "",
                voice_ids: Iterable[int] = ()) -> ImprovementItem:
    item = ImprovementItem(title=_check_item_fields(title, owner_staff_id, session),
                           description=normalize_text(description), owner_staff_id=owner_staff_id, due_on=due_on,
                           progress=_check_progress(progress), progress_note=normalize_text(progress_note))
    session.add(item)
    session.flush()
    linked = list(voice_ids)
    for voice_id in linked:
        voice = session.get(Voice, voice_id)
        if voice is not None:
            _link(session, voice, item.id)
    audit.record("improvement_item.created", target_type="improvement_item", target_id=item.id,
                 detail={"voice_ids": linked, "progress": item.progress}, session=session)
    return item


def update_item(session: Session, item: ImprovementItem, *, title: str, description: str,
                owner_staff_id: int | None, due_on: date | None, progress: str, progress_note: str) -> ImprovementItem:
    _check_progress(progress)
    item.title = _check_item_fields(title, owner_staff_id, session)
    item.description = normalize_text(description)
    item.owner_staff_id = owner_staff_id
    item.due_on = due_on
    item.progress = progress
    item.progress_note = normalize_text(progress_note)
    item.updated_at = utcnow()
    session.flush()
    audit.record("improvement_item.updated", target_type="improvement_item", target_id=item.id,
                 detail={"progress": item.progress}, session=session)
    return item


def record_item_view(session: Session, item: ImprovementItem) -> None:
    audit.record("improvement_item.viewed", target_type="improvement_item", target_id=item.id, session=session)


def _link(session: Session, voice: Voice, item_id: int | None) -> Voice:
    if item_id is not None and session.get(ImprovementItem, item_id) is None:
        raise VoiceError("改善課題を選び直してください。", "item")
    voice.improvement_item_id = item_id
    _touch(voice)
    session.flush()
    session.expire(voice, ["improvement_item"])
    return voice


def link_item(session: Session, voice: Voice, item_id: int | None) -> Voice:
    """Record the improvement item a voice led to (None removes the link)."""
    _link(session, voice, item_id)
    audit.record("voice.item_linked", target_type="voice", target_id=voice.id,
                 detail={"improvement_item_id": voice.improvement_item_id}, session=session)
    return voice


def items(session: Session) -> list[ImprovementItem]:
    counts = (select(Voice.improvement_item_id, func.count().label("n"))
              .where(Voice.improvement_item_id.is_not(None)).group_by(Voice.improvement_item_id).subquery())
    rows = session.execute(
        select(ImprovementItem, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.improvement_item_id == ImprovementItem.id)
        .order_by(case((ImprovementItem.progress == "done", 1), else_=0), ImprovementItem.due_on.is_(None),
                  ImprovementItem.due_on, ImprovementItem.id)
    ).all()
    for item, n in rows:
        item.voice_count = n  # type: ignore[attr-defined]
    return [item for item, _ in rows]
