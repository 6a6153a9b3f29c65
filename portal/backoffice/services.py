"""The office work queue: list open procedures with due dates, hold one, act on it.

One person at a time: a procedure is held through a WorkHold row (its primary key
is the procedure), taken under the procedure's row lock, and every action checks
the hold and the status again under that lock. Services flush; the request commits.
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.workqueue import kinds
from portal.backoffice.models import WorkHold
from portal.clock import TOKYO, to_tokyo, today
from portal.jp.dates import add_business_days
from portal.members.models import Member
from portal.procedures.models import KIND_LABELS, ProcedureEvent, ProcedureRequest
from portal.service_errors import ServiceError
from portal.staff.models import StaffUser

# A procedure is finished when it reaches one of these (the dashboard's "days to finish").
FINISHED_STATUSES = ("completed", "approved", "declined", "shipped", "returned", "cancelled", "withdrawn",
                     "not_payable")


class WorkError(ServiceError):
    """An office action that cannot be done; `message` is shown to the staff user."""


# ------------------------------------------------------------------ due dates

def received_on(request: ProcedureRequest) -> date:
    return to_tokyo(request.created_at).date()


def due_on(request: ProcedureRequest) -> date:
    return add_business_days(received_on(request), kinds.get(request.kind).due_business_days)


@dataclass
class WorkItem:
    request: ProcedureRequest
    member: Member
    holder: StaffUser | None
    due: date
    overdue: bool

    @property
    def received(self) -> date:
        return received_on(self.request)


@dataclass
class Queue:
    items: list[WorkItem]
    counts_by_kind: dict[str, int]
    overdue_by_kind: dict[str, int]
    claims_counts: dict[str, int]

    @property
    def overdue(self) -> int:
        return sum(self.overdue_by_kind.values())


def _open_work(session: Session) -> list[tuple[ProcedureRequest, Member, WorkHold | None]]:
    """Every procedure waiting for the office, with its member and holder (one query)."""
    office = kinds.office_kinds()
    statuses = sorted({s for k in office for s in kinds.get(k).work_statuses})
    rows = session.execute(
        select(ProcedureRequest, Member, WorkHold)
        .join(Member, Member.id == ProcedureRequest.member_id)
        .outerjoin(WorkHold, WorkHold.procedure_request_id == ProcedureRequest.id)
        .where(ProcedureRequest.kind.in_(office), ProcedureRequest.status.in_(statuses))
        .order_by(ProcedureRequest.created_at, ProcedureRequest.id)
    ).all()
    return [(r, m, h) for r, m, h in rows if r.status in kinds.get(r.kind).work_statuses]


def work_queue(session: Session, *, kind: str | None = None, state: str | None = None,
               query: str | None = None, staff: StaffUser | None = None, day: date | None = None) -> Queue:
    """The queue, overdue first then by due date; `state` is overdue, mine or free."""
    day = day or today()
    items: list[WorkItem] = []
    counts: Counter[str] = Counter()
    overdue: Counter[str] = Counter()
    needle = (query or "").strip().upper()
    for request, member, hold in _open_work(session):
        due = due_on(request)
        item = WorkItem(request, member, hold.staff if hold else None, due, due < day)
        counts[request.kind] += 1
        if item.overdue:
            overdue[request.kind] += 1
        if kind and request.kind != kind:
            continue
        if state == "overdue" and not item.overdue:
            continue
        if state == "mine" and (item.holder is None or staff is None or item.holder.id != staff.id):
            continue
        if state == "free" and item.holder is not None:
            continue
        if needle and needle not in (request.receipt_no, member.member_no):
            continue
        items.append(item)
    items.sort(key=lambda i: (not i.overdue, i.due, i.request.created_at, i.request.id))
    return Queue(items, dict(counts), dict(overdue), claims_counts(session))


def claims_counts(session: Session) -> dict[str, int]:
    """Claims have their own desk: the office sees how many are open, nothing more."""
    rows = session.execute(
        select(ProcedureRequest.kind, func.count())
        .where(ProcedureRequest.kind.in_(kinds.claims_kinds()), ProcedureRequest.is_open)
        .group_by(ProcedureRequest.kind))
    return {kind: count for kind, count in rows}


# ------------------------------------------------------------------ one procedure

def find(session: Session, receipt_no: str) -> ProcedureRequest | None:
    """An office procedure by receipt number (claims-desk kinds are not the office's)."""
    request = session.scalar(select(ProcedureRequest).where(ProcedureRequest.receipt_no == receipt_no))
    if request is None or request.kind in kinds.claims_kinds():
        return None
    return request


def holder_of(session: Session, request: ProcedureRequest) -> StaffUser | None:
    hold = session.get(WorkHold, request.id)
    return hold.staff if hold else None


def _lock(session: Session, request: ProcedureRequest) -> ProcedureRequest:
    """Take the procedure's row lock and re-read it (PostgreSQL; SQLite locks the file on write)."""
    locked = session.scalar(select(ProcedureRequest).where(ProcedureRequest.id == request.id)
                            .with_for_update().execution_options(populate_existing=True))
    assert locked is not None
    return locked


def claim(session: Session, request: ProcedureRequest, staff: StaffUser) -> WorkHold:
    """Hold the procedure for `staff`. Held by someone else: refused with their name."""
    request = _lock(session, request)
    if not request.is_open:
        raise WorkError(f"この手続きはすでに「{request.status_label}」です。")
    hold = session.get(WorkHold, request.id, populate_existing=True)
    if hold is not None:
        if hold.staff_id == staff.id:
            return hold
        raise WorkError(f"{hold.staff.name}さんが対応中です。")
    hold = WorkHold(procedure_request_id=request.id, staff_id=staff.id)
    try:
        with session.begin_nested():
            session.add(hold)
    except IntegrityError:
        # Two claims raced on a database without row locks: the first one stays.
        other = session.get(WorkHold, request.id, populate_existing=True)
        raise WorkError(f"{other.staff.name if other else '別の職員'}さんが対応中です。") from None
    audit.record("backoffice.claim", target_type="procedure", target_id=request.receipt_no,
                 member_id=request.member_id)
    return hold


def release(session: Session, request: ProcedureRequest, staff: StaffUser) -> None:
    """Give the procedure back to the queue (only its holder can)."""
    request = _lock(session, request)
    hold = session.get(WorkHold, request.id, populate_existing=True)
    if hold is None:
        return
    if hold.staff_id != staff.id:
        raise WorkError(f"{hold.staff.name}さんが対応中です。担当者だけが戻せます。")
    session.delete(hold)
    session.flush()
    audit.record("backoffice.release", target_type="procedure", target_id=request.receipt_no,
                 member_id=request.member_id)


def act(session: Session, request: ProcedureRequest, action_name: str, staff: StaffUser,
        data: dict[str, Any] | None = None) -> str:
    """Run one registered action on a procedure the staff user holds; returns its message."""
    spec = kinds.get(request.kind)
    action = spec.action(action_name)
    if action is None:
        raise WorkError("この手続きにはその操作はありません。")
    request = _lock(session, request)
    if request.status not in action.statuses:
        raise WorkError(f"この手続きは「{request.status_label}」のため、「{action.label}」はできません"
                        "（すでに処理されています）。")
    hold = session.get(WorkHold, request.id, populate_existing=True)
    if hold is None or hold.staff_id != staff.id:
        who = f"{hold.staff.name}さんが対応中です。" if hold else "先に「担当する」を押してください。"
        raise WorkError(who)
    before = request.status
    context = kinds.ActionContext(session, request, staff, dict(data or {}))
    try:
        with session.begin_nested():
            message = action.run(context)
    except WorkError:
        raise
    except Exception as error:  # a feature's refusal: anything carrying a Japanese .message
        text = getattr(error, "message", None)
        if not isinstance(text, str):
            raise
        field = getattr(error, "field", None) or next(iter(getattr(error, "errors", None) or {}), None)
        raise WorkError(text, field) from None
    audit.record(f"backoffice.{request.kind}.{action.name}", target_type="procedure",
                 target_id=request.receipt_no, member_id=request.member_id,
                 detail={"before": before, "after": request.status,
                         **{k: v for k, v in context.data.items() if k in ("reason", "tracking_no", "note")}})
    if not request.is_open:
        session.delete(hold)
        session.flush()
    return message


# ------------------------------------------------------------------ phone intake

MAX_FILE_BYTES = 10 * 1024 * 1024
_SIGNATURES = ((b"\xff\xd8\xff", "jpg", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
               (b"%PDF-", "pdf", "application/pdf"))
PRIVATE_PREFIX = "private/procedures"


def phone_intake_kinds() -> list[tuple[str, str]]:
    return [(k, KIND_LABELS[k]) for k, spec in sorted(kinds.registered().items()) if spec.phone_intake]


def _file_type(data: bytes) -> tuple[str, str]:
    for signature, extension, content_type in _SIGNATURES:
        if data.startswith(signature):
            return extension, content_type
    raise WorkError("JPEG・PNG・PDFのファイルを選んでください。", field="file")


def register_phone_procedure(session: Session, member: Member, staff: StaffUser, kind: str, note: str, *,
                             file_name: str | None = None, file_data: bytes | None = None, store: Any = None,
                             idempotency_key: str | None = None) -> ProcedureRequest:
    """A procedure taken by phone, on the member's record: the member sees it on /requests.

    The optional document goes to private storage under a new name; only the
    office opens it, through the app, and each opening is audited.
    """
    from portal.jp.text import normalize
    from portal.procedures import services as procedures

    existing = procedures.find_by_key(session, idempotency_key)
    if existing is not None:
        return existing
    if kind not in dict(phone_intake_kinds()):
        raise WorkError("手続きの種類を選んでください。", field="kind")
    text = normalize(note).strip()
    if not text:
        raise WorkError("内容を入力してください。", field="note")
    if len(text) > 1000:
        raise WorkError("内容は1,000文字以内で入力してください。", field="note")
    detail: dict[str, Any] = {"note": text, "taken_by": "phone"}
    if file_data:
        if len(file_data) > MAX_FILE_BYTES:
            raise WorkError("ファイルは10MBまでです。", field="file")
        extension, content_type = _file_type(file_data)
        import secrets

        key = f"{PRIVATE_PREFIX}/{secrets.token_hex(16)}.{extension}"
        store.save(key, file_data, content_type)
        detail["file"] = {"key": key, "content_type": content_type,
                          "name": normalize(file_name or "")[:100] or f"document.{extension}"}
    summary = "お電話で承りました：" + (text if len(text) <= 280 else text[:279] + "…")
    request = procedures.start(session, member, kind, summary, detail=detail, staff_id=staff.id,
                               idempotency_key=idempotency_key)
    audit.record("backoffice.phone_intake", target_type="procedure", target_id=request.receipt_no,
                 member_id=member.id, detail={"kind": kind, "file": bool(file_data)})
    return request


def record_view(session: Session, request: ProcedureRequest) -> None:
    """An office user opened the procedure: in the audit log."""
    audit.record("backoffice.view", target_type="procedure", target_id=request.receipt_no,
                 member_id=request.member_id, session=session)


def open_intake_file(session: Session, request: ProcedureRequest, store: Any) -> tuple[dict[str, str], bytes] | None:
    """The document taken with a phone intake and its bytes; each reading is in the audit log."""
    file = intake_file(request)
    if file is None:
        return None
    data = store.open(file["key"])
    audit.record("backoffice.file_view", target_type="procedure", target_id=request.receipt_no,
                 member_id=request.member_id, session=session)
    return file, data


def intake_file(request: ProcedureRequest) -> dict[str, str] | None:
    from portal.procedures.services import detail_of

    file = detail_of(request).get("file")
    return file if isinstance(file, dict) and str(file.get("key", "")).startswith(PRIVATE_PREFIX + "/") else None


# ------------------------------------------------------------------ dashboard

@dataclass
class KindFigures:
    kind: str
    label: str
    due_business_days: int
    open: int = 0
    overdue: int = 0
    finished_this_month: int = 0
    median_days_this_month: float | None = None
    median_days_last_month: float | None = None


@dataclass
class Dashboard:
    day: date
    rows: list[KindFigures] = field(default_factory=list)
    claims_counts: dict[str, int] = field(default_factory=dict)
    median_this_month: float | None = None
    median_last_month: float | None = None
    finished_this_month: int = 0
    finished_last_month: int = 0

    @property
    def open(self) -> int:
        return sum(r.open for r in self.rows)

    @property
    def overdue(self) -> int:
        return sum(r.overdue for r in self.rows)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _tokyo_midnight_utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TOKYO)


def finish_days(session: Session, start: date, end: date) -> dict[str, list[int]]:
    """Calendar days from receipt to the first finishing event, for office procedures
    finished in [start, end) (Tokyo dates), per kind."""
    office = kinds.office_kinds()
    rows = session.execute(
        select(ProcedureRequest.id, ProcedureRequest.kind, ProcedureRequest.created_at,
               func.min(ProcedureEvent.occurred_at))
        .join(ProcedureEvent, ProcedureEvent.request_id == ProcedureRequest.id)
        .where(ProcedureRequest.kind.in_(office), ProcedureEvent.status.in_(FINISHED_STATUSES))
        .group_by(ProcedureRequest.id, ProcedureRequest.kind, ProcedureRequest.created_at)
        .having(func.min(ProcedureEvent.occurred_at) >= _tokyo_midnight_utc(start),
                func.min(ProcedureEvent.occurred_at) < _tokyo_midnight_utc(end)))
    days: dict[str, list[int]] = {}
    for _id, kind, created, finished in rows:
        days.setdefault(kind, []).append((to_tokyo(finished).date() - to_tokyo(created).date()).days)
    return days


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def dashboard(session: Session, day: date | None = None) -> Dashboard:
    day = day or today()
    this_month = _month_start(day)
    last_month = _month_start(this_month - timedelta(days=1))
    next_month = _month_start(this_month + timedelta(days=32))
    queue = work_queue(session, day=day)
    now_days = finish_days(session, this_month, next_month)
    before_days = finish_days(session, last_month, this_month)
    result = Dashboard(day=day, claims_counts=queue.claims_counts)
    for kind in kinds.office_kinds():
        spec = kinds.get(kind)
        open_count = queue.counts_by_kind.get(kind, 0)
        if not (open_count or now_days.get(kind) or before_days.get(kind) or kind in kinds.registered()):
            continue
        result.rows.append(KindFigures(
            kind, KIND_LABELS[kind], spec.due_business_days, open_count, queue.overdue_by_kind.get(kind, 0),
            len(now_days.get(kind, [])), _median(now_days.get(kind, [])), _median(before_days.get(kind, []))))
    all_now = [d for values in now_days.values() for d in values]
    all_before = [d for values in before_days.values() for d in values]
    result.median_this_month, result.median_last_month = _median(all_now), _median(all_before)
    result.finished_this_month, result.finished_last_month = len(all_now), len(all_before)
    return result
