"""Voices: submission, staff triage (status, assignee, notes, replies), improvement
items, and the business-year report with its charts and CSV.

Services take a Session and plain values, flush and never commit; they raise
VoiceError with a Japanese message (and the form field it belongs to).
"""
from __future__ import annotations

import random
import re
import secrets
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import and_, case, extract, func, select, true
from sqlalchemy.orm import Session, selectinload

from portal.clock import TOKYO, now_tokyo, to_tokyo, today, utcnow
from portal.contracts.models import Contract
from portal.idempotency import find_by_key, insert_once
from portal.jp.dates import add_business_days, fiscal_year, fiscal_year_range
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
    CHANNEL_LABELS, COMPLAINT_RESPONSE_BUSINESS_DAYS, ITEM_PROGRESS, KIND_LABELS, STATUS_LABELS,
    TOPIC_LABELS, VOICE_CHANNELS, VOICE_KINDS, VOICE_STATUSES, VOICE_TOPICS, ImprovementItem, Voice,
    VoiceNote, VoiceReply,
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

    subject = "【受付】お客さまの声"
    reply_note = ("ご回答はマイページの「お客さまの声」でもご確認いただけます。" if member
                  else "担当者よりご連絡いたします。") if voice.wants_reply else "今後の業務改善に活かしてまいります。"
    messages: list[OutboxMessage] = []
    if member is not None:
        message = queue_notice(session, member, subject,
                               f"{member.name}様 貴重なご意見をお寄せいただきありがとうございます。"
                               f"受付番号 {voice.receipt_no}。{reply_note}", topic="voice")
        if message is not None:
            messages.append(message)
    else:
        assert contact is not None
        messages.append(queue_message(session, channel=contact.channel, recipient=contact.recipient,
                                      subject=subject,
                                      body=f"{name}様 貴重なご意見をお寄せいただきありがとうございます。"
                                           f"受付番号 {voice.receipt_no}。{reply_note}"))
    return Submission(voice, created=True, messages=messages)


def register_voice(session: Session, staff: StaffUser, *, channel: str, received_at: datetime, kind: str,
                   topic: str, body: str, wants_reply: bool, member_no: str | None = None,
                   contact_name: str | None = None, contact_email: str | None = None,
                   contact_phone: str | None = None) -> Voice:
    """Staff register a voice received elsewhere (shop, call centre, customer-relations office)."""
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
    """Voices for the staff inbox: new (受付) complaints first, then newest first."""
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
    return Page(items, total, page, per_page)


def get_voice(session: Session, voice_id: int) -> Voice | None:
    return session.get(Voice, voice_id)


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
    if status == voice.status:
        return voice
    if status not in allowed_statuses(voice):
        if status == "closed" and voice.wants_reply and not voice.replies:
            raise VoiceError("回答を希望されているため、回答を送ってから完了にしてください。", "status")
        if status == "answered":
            raise VoiceError("「回答済」にするには、回答を送信してください。", "status")
        raise VoiceError(f"「{STATUS_LABELS[voice.status]}」から「{STATUS_LABELS[status]}」には変更できません。", "status")
    voice.status = status
    _touch(voice)
    session.flush()
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
    return voice


def add_note(session: Session, voice: Voice, staff: StaffUser, body: str) -> VoiceNote:
    body = _check_body(body, "note", MAX_NOTE_CHARS)
    note = VoiceNote(voice_id=voice.id, staff_id=staff.id, body=body)
    voice.notes.append(note)
    _touch(voice)
    session.flush()
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


def create_item(session: Session, *, title: str, description: str = "", owner_staff_id: int | None = None,
                due_on: date | None = None, voice_ids: Iterable[int] = ()) -> ImprovementItem:
    item = ImprovementItem(title=_check_item_fields(title, owner_staff_id, session),
                           description=normalize_text(description), owner_staff_id=owner_staff_id, due_on=due_on)
    session.add(item)
    session.flush()
    for voice_id in voice_ids:
        voice = session.get(Voice, voice_id)
        if voice is not None:
            link_item(session, voice, item.id)
    return item


def update_item(session: Session, item: ImprovementItem, *, title: str, description: str,
                owner_staff_id: int | None, due_on: date | None, progress: str, progress_note: str) -> ImprovementItem:
    if progress not in ITEM_PROGRESS:
        raise VoiceError("進捗を選んでください。", "progress")
    item.title = _check_item_fields(title, owner_staff_id, session)
    item.description = normalize_text(description)
    item.owner_staff_id = owner_staff_id
    item.due_on = due_on
    item.progress = progress
    item.progress_note = normalize_text(progress_note)
    item.updated_at = utcnow()
    session.flush()
    return item


def link_item(session: Session, voice: Voice, item_id: int | None) -> Voice:
    """Record the improvement item a voice led to (None removes the link)."""
    if item_id is not None and session.get(ImprovementItem, item_id) is None:
        raise VoiceError("改善課題を選び直してください。", "item")
    voice.improvement_item_id = item_id
    _touch(voice)
    session.flush()
    session.expire(voice, ["improvement_item"])
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


# ---------------------------------------------------------------- the yearly report

@dataclass
class CountRow:
    code: str
    label: str
    count: int
    prev: int

    @property
    def change(self) -> float | None:
        return change_pct(self.count, self.prev)


@dataclass
class MonthRow:
    year: int
    month: int
    by_kind: dict[str, int]
    total: int
    prev: int

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    @property
    def change(self) -> float | None:
        return change_pct(self.total, self.prev)


@dataclass
class VoiceReport:
    fy: int
    start: date
    end: date
    total: int
    prev_total: int
    kinds: list[CountRow]
    topics: list[CountRow]
    channels: list[CountRow]
    months: list[MonthRow]

    @property
    def change(self) -> float | None:
        return change_pct(self.total, self.prev_total)

    @property
    def label(self) -> str:
        return f"{self.fy}年度"


def change_pct(current: int, previous: int) -> float | None:
    """Year-on-year change in percent, one decimal; None when there is nothing to compare with."""
    if not previous:
        return None
    return round((current - previous) * 100 / previous, 1)


def fiscal_year_months(fy: int) -> list[tuple[int, int]]:
    """(year, month) from June of `fy` to May of `fy`+1."""
    return [(fy + (m < 6), m) for m in (6, 7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5)]


def current_fiscal_year() -> int:
    return fiscal_year(today())


def yearly_report(session: Session, fy: int) -> VoiceReport:
    """Counts for business year `fy` (1 June – 31 May, Tokyo dates) and the year before.

    Two GROUP BYs over both years in one statement: the inner one follows the index
    on (received_on, kind, topic, channel) — an index-only scan, already in group
    order, so nothing is sorted — and leaves a few rows per day; the outer one folds
    the days into months (1M voices: about 0.2–0.5 s on PostgreSQL, see tests/perf).
    """
    start, end = fiscal_year_range(fy)
    prev_start, _ = fiscal_year_range(fy - 1)
    per_day = (
        select(Voice.received_on.label("day"), Voice.kind, Voice.topic, Voice.channel, func.count().label("n"))
        .where(Voice.received_on >= prev_start, Voice.received_on <= end)
        .group_by(Voice.received_on, Voice.kind, Voice.topic, Voice.channel)
        .subquery()
    )
    year_col = extract("year", per_day.c.day)
    month_col = extract("month", per_day.c.day)
    rows = session.execute(
        select(year_col, month_col, per_day.c.kind, per_day.c.topic, per_day.c.channel, func.sum(per_day.c.n))
        .group_by(year_col, month_col, per_day.c.kind, per_day.c.topic, per_day.c.channel)
    ).all()
    cur: dict[str, dict[str, int]] = {"kind": {}, "topic": {}, "channel": {}}
    prev: dict[str, dict[str, int]] = {"kind": {}, "topic": {}, "channel": {}}
    month_kind: dict[tuple[int, int], dict[str, int]] = {}
    month_prev: dict[int, int] = {}
    for year, month, kind, topic, channel, count in rows:
        year, month, count = int(year), int(month), int(count)
        in_current = (year, month) >= (start.year, start.month)
        target = cur if in_current else prev
        for dim, code in (("kind", kind), ("topic", topic), ("channel", channel)):
            target[dim][code] = target[dim].get(code, 0) + count
        if in_current:
            bucket = month_kind.setdefault((year, month), {})
            bucket[kind] = bucket.get(kind, 0) + count
        else:
            month_prev[month] = month_prev.get(month, 0) + count

    def count_rows(dim: str, codes: tuple[str, ...], labels: dict[str, str]) -> list[CountRow]:
        return [CountRow(c, labels[c], cur[dim].get(c, 0), prev[dim].get(c, 0)) for c in codes]

    months = []
    for year, month in fiscal_year_months(fy):
        by_kind = {k: month_kind.get((year, month), {}).get(k, 0) for k in VOICE_KINDS}
        months.append(MonthRow(year, month, by_kind, sum(by_kind.values()), month_prev.get(month, 0)))
    return VoiceReport(
        fy=fy, start=start, end=end,
        total=sum(cur["kind"].values()), prev_total=sum(prev["kind"].values()),
        kinds=count_rows("kind", VOICE_KINDS, KIND_LABELS),
        topics=count_rows("topic", VOICE_TOPICS, TOPIC_LABELS),
        channels=count_rows("channel", VOICE_CHANNELS, CHANNEL_LABELS),
        months=months,
    )


# ---------------------------------------------------------------- charts (pygal, server-side SVG)

CHART_NAMES = ("months", "topics", "channels")
_SCRIPT_RE = re.compile(r"<script\b.*?</script>", re.S | re.I)


def chart_svg(report: VoiceReport, name: str) -> str:
    """An SVG document without scripts, for an <img src> (its styles stay inside the SVG)."""
    import pygal
    from pygal.style import Style

    style = Style(
        font_family="'Noto Sans CJK JP', 'Hiragino Sans', 'Yu Gothic', sans-serif",
        background="#ffffff", plot_background="#ffffff", foreground="#222222",
        foreground_strong="#111111", foreground_subtle="#555555",
        colors=("#2f6f4f", "#c98a1b", "#b3261e", "#3b5ba5", "#7a4fa0", "#4d8c8c", "#8c6d4d", "#666666"),
        label_font_size=13, major_label_font_size=13, legend_font_size=14, title_font_size=16,
        value_font_size=12,
    )
    options: dict[str, Any] = dict(style=style, disable_xml_declaration=True, js=[], width=760, height=420,
                                   legend_at_bottom=True, print_values=False, show_legend=True, margin=16)
    if name == "months":
        chart = pygal.StackedBar(title=f"{report.label} 月別件数（種類別）", x_label_rotation=0,
                                 truncate_label=-1, **options)
        chart.x_labels = [f"{m.month}月" for m in report.months]
        for kind in VOICE_KINDS:
            chart.add(KIND_LABELS[kind], [m.by_kind[kind] for m in report.months])
    elif name == "topics":
        # pygal sizes the label margin for Latin letters; Japanese labels need more room.
        chart = pygal.HorizontalBar(title=f"{report.label} 分類別件数", truncate_label=-1,
                                    **{**options, "margin_left": 90})
        chart.x_labels = [row.label for row in report.topics]
        chart.add("当年度", [row.count for row in report.topics])
        chart.add("前年度", [row.prev for row in report.topics])
    elif name == "channels":
        chart = pygal.Bar(title=f"{report.label} 受付経路別件数", truncate_label=-1, **options)
        chart.x_labels = [row.label for row in report.channels]
        chart.add("当年度", [row.count for row in report.channels])
        chart.add("前年度", [row.prev for row in report.channels])
    else:
        raise VoiceError("unknown chart")
    svg = chart.render(is_unicode=True)
    # Scripts never run in an <img>, but the document should not carry any either.
    return _SCRIPT_RE.sub("", svg)


def _fmt_change(value: float | None) -> Any:
    return "" if value is None else value


def report_rows(report: VoiceReport) -> Iterator[list[Any]]:
    yield ["年度", report.label, f"{report.start.isoformat()}〜{report.end.isoformat()}", "", ""]
    yield ["区分", "項目", "当年度", "前年度", "前年度比増減(%)"]
    yield ["合計", "合計", report.total, report.prev_total, _fmt_change(report.change)]
    for dim, label_rows in (("種類", report.kinds), ("分類", report.topics), ("受付経路", report.channels)):
        for row in label_rows:
            yield [dim, row.label, row.count, row.prev, _fmt_change(row.change)]
    for month in report.months:
        yield ["月別", month.label, month.total, month.prev, _fmt_change(month.change)]


VOICE_CSV_HEADER = ["受付番号", "受付日時", "種類", "分類", "受付経路", "状況", "回答希望", "回答期限",
                    "初回回答日時", "担当者", "改善課題", "内容"]


def export_rows(session: Session, fy: int) -> Iterator[list[Any]]:
    """Every voice of business year `fy`, for the CSV export (streamed in batches)."""
    start, end = fiscal_year_range(fy)
    yield VOICE_CSV_HEADER
    query = (
        select(Voice.receipt_no, Voice.received_at, Voice.kind, Voice.topic, Voice.channel, Voice.status,
               Voice.wants_reply, Voice.response_due_on, Voice.first_response_at, StaffUser.name,
               ImprovementItem.title, Voice.body)
        .outerjoin(StaffUser, StaffUser.id == Voice.assignee_staff_id)
        .outerjoin(ImprovementItem, ImprovementItem.id == Voice.improvement_item_id)
        .where(Voice.received_on >= start, Voice.received_on <= end)
        .order_by(Voice.received_at, Voice.id)
        .execution_options(yield_per=2000)
    )
    for (receipt_no, received_at, kind, topic, channel, status, wants_reply, due_on, first_at,
         assignee, item_title, body) in session.execute(query):
        yield [receipt_no, f"{to_tokyo(received_at):%Y-%m-%d %H:%M}", KIND_LABELS[kind], TOPIC_LABELS[topic],
               CHANNEL_LABELS[channel], STATUS_LABELS[status], "希望" if wants_reply else "",
               due_on.isoformat() if due_on else "", f"{to_tokyo(first_at):%Y-%m-%d %H:%M}" if first_at else "",
               assignee or "", item_title or "", body]


def tokyo_midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=TOKYO).astimezone(timezone.utc)


# ---------------------------------------------------------------- demo data
DEMO_VOICE_TEXTS = {
    ("thanks", "staff_service"): "ショップの方がとても丁寧に説明してくださり、安心して手続きできました。",
    ("thanks", "claims"): "入院の共済金がすぐに振り込まれて助かりました。ありがとうございました。",
    ("thanks", "web"): "マイページで保障内容が家族ごとに見られて分かりやすいです。",
    ("opinion", "mail"): "ダイレクトメールが多いので、必要なものだけにしてほしいです。",
    ("opinion", "products"): "制度改定で掛金が上がった理由を、もっと分かりやすく説明してほしいです。",
    ("opinion", "web"): "マイページの登録がもっと簡単になるとうれしいです。",
    ("opinion", "call_centre"): "サービスセンターの電話がつながりにくい時間帯があります。",
    ("complaint", "procedure"): "住所変更を申し込んだのに、更新の書類が旧住所で届きました。",
    ("complaint", "claims"): "台風の被害を報告したあと、しばらく何の連絡もありませんでした。",
}
# Close to the seed's mix (感謝 61%, 意見・要望 38%, 苦情 1%), rounded up so every kind shows.
DEMO_KIND_WEIGHTS = (("thanks", 60), ("opinion", 36), ("complaint", 4))


def seed_demo_voices(session: Session, staff: StaffUser, per_year: int = 100) -> int:
    """Voices over this and last business year, so the report and inbox have content.
    Idempotent: nothing is added once any voice exists."""
    if session.scalar(select(func.count()).select_from(Voice)):
        return 0
    rng = random.Random(2019)
    texts = list(DEMO_VOICE_TEXTS.items())
    channels = VOICE_CHANNELS
    fy_now = fiscal_year(today())
    added = 0
    for fy in (fy_now - 1, fy_now):
        start, end = fiscal_year_range(fy)
        last = min(end, today())
        span = (last - start).days
        for _ in range(per_year if fy < fy_now else max(1, per_year * span // 365)):
            kind = rng.choices([k for k, _ in DEMO_KIND_WEIGHTS], [w for _, w in DEMO_KIND_WEIGHTS])[0]
            (_, topic), body = rng.choice([t for t in texts if t[0][0] == kind])
            day = start + timedelta(days=rng.randrange(span + 1))
            received_at = datetime(day.year, day.month, day.day, 9 + rng.randrange(9), rng.randrange(60),
                                   tzinfo=TOKYO)
            voice = register_voice(session, staff, channel=rng.choice(channels), received_at=received_at,
                                   kind=kind, topic=topic, body=body, wants_reply=kind == "complaint")
            if day < today() - timedelta(days=14):
                voice.status = "closed"
            added += 1
    return added
