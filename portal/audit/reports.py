"""Reading the audit log: what a member sees of support access to their account,
and the staff console's search, CSV export and per-staff access report.

Staff users are named through a plain table reference (`staff_users` id, name,
e-mail) rather than the staff console's model: the audit log is shared by every
feature and depends on none of them.
"""
from __future__ import annotations

import functools

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import and_, bindparam, case, column, func, or_, select, table
from sqlalchemy.orm import Session, aliased

from portal.audit import record
from portal.audit.labels import ACTION_LABELS, action_label
from portal.audit.models import AuditLog
from portal.clock import TOKYO, to_tokyo
from portal.csvexport import csv_text
from portal.members.models import Member
from portal.pagination import Pagination

staff_users = table("staff_users", column("id"), column("name"), column("email"))

# A staff user looked at, or acted for, a member: what the member is told about.
ACCESS_ACTIONS = ("staff.member_open", "impersonation.start")


# --- what the member sees ---------------------------------------------------------------
@dataclass
class AccessEntry:
    occurred_at: datetime
    staff_name: str
    staff_id: int | None
    action: str  # one of ACCESS_ACTIONS
    reason: str | None

    @property
    def kind(self) -> str:
        return "act" if self.action == "impersonation.start" else "view"

    @property
    def kind_label(self) -> str:
        return action_label(self.action)


def _detail_of(detail: str | None) -> dict[str, Any]:
    try:
        return json.loads(detail) if detail else {}
    except ValueError:
        return {}


@functools.cache
def access_history_statement():
    """Support access to a member, newest first: occurred_at, staff id, action, detail,
    staff name, then the audit row id (the order after occurred_at); bound: member_id,
    access_limit. My Page reads it together with its other panels in one round trip.
    Built on first use, not at import (that would configure the mappers early)."""
    return (
        select(AuditLog.occurred_at, AuditLog.actor_staff_id, AuditLog.action, AuditLog.detail, staff_users.c.name,
               AuditLog.id)
        .join(staff_users, staff_users.c.id == AuditLog.actor_staff_id)
        .where(AuditLog.acting_as_member_id == bindparam("member_id"),
               or_(*(AuditLog.action == action for action in ACCESS_ACTIONS)))
        .order_by(AuditLog.occurred_at.desc(), AuditLog.id.desc())
        .limit(bindparam("access_limit"))
    )


def access_entries_from_rows(rows) -> list[AccessEntry]:
    """AccessEntry for each row of access_history_statement (plain rows, no objects)."""
    return [AccessEntry(occurred_at=occurred_at, staff_name=name, staff_id=staff_id, action=action,
                        reason=_detail_of(detail).get("reason"))
            for occurred_at, staff_id, action, detail, name, *_ in rows]


def access_history(session: Session, member_id: int, limit: int = 5) -> list[AccessEntry]:
    """Support access to this member's account, newest first: when, which staff, why.
    Rows have .occurred_at, .staff_name, .reason (None when the staff only looked)."""
    return access_entries_from_rows(session.execute(access_history_statement(),
                                                    {"member_id": member_id, "access_limit": limit}))


# --- audit log search, export and the access report -------------------------------------
@dataclass
class AuditFilter:
    staff_id: int | None = None
    member_no: str | None = None
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class AuditRow:
    id: int
    occurred_at: datetime
    actor_type: str
    staff_id: int | None
    staff_name: str | None
    actor_member_no: str | None
    member_no: str | None
    member_name: str | None
    action: str
    target_type: str | None
    target_id: str | None
    detail: str | None
    ip: str | None
    request_id: str | None

    @property
    def action_label(self) -> str:
        return action_label(self.action)


@dataclass
class AuditPage(Pagination):
    rows: list[AuditRow]
    total: int
    page: int
    per_page: int
    filters: AuditFilter = field(default_factory=AuditFilter)


def _tokyo_start(day: date) -> datetime:
    return datetime.combine(day, time.min, TOKYO)


def _audit_select(session: Session, filters: AuditFilter):
    actor_member = aliased(Member)
    subject = aliased(Member)
    stmt = (select(AuditLog, staff_users.c.name, actor_member.member_no, subject.member_no, subject.name)
            .outerjoin(staff_users, staff_users.c.id == AuditLog.actor_staff_id)
            .outerjoin(actor_member, actor_member.id == AuditLog.actor_member_id)
            .outerjoin(subject, subject.id == AuditLog.acting_as_member_id))
    conditions = []
    if filters.staff_id:
        conditions.append(AuditLog.actor_staff_id == filters.staff_id)
    if filters.member_no:
        member_id = session.scalar(select(Member.id).where(Member.member_no == filters.member_no))
        member_id = member_id if member_id is not None else -1
        conditions.append(or_(AuditLog.acting_as_member_id == member_id, AuditLog.actor_member_id == member_id))
    if filters.action:
        conditions.append(AuditLog.action == filters.action)
    if filters.date_from:
        conditions.append(AuditLog.occurred_at >= _tokyo_start(filters.date_from))
    if filters.date_to:
        conditions.append(AuditLog.occurred_at < _tokyo_start(filters.date_to + timedelta(days=1)))
    if conditions:
        stmt = stmt.where(and_(*conditions))
    return stmt


def _to_row(result) -> AuditRow:
    log, staff_name, actor_no, member_no, member_name = result
    return AuditRow(id=log.id, occurred_at=log.occurred_at, actor_type=log.actor_type, staff_id=log.actor_staff_id,
                    staff_name=staff_name, actor_member_no=actor_no, member_no=member_no, member_name=member_name,
                    action=log.action, target_type=log.target_type, target_id=log.target_id, detail=log.detail,
                    ip=log.ip, request_id=log.request_id)


def search_audit(session: Session, filters: AuditFilter, *, page: int = 1, per_page: int = 50) -> AuditPage:
    stmt = _audit_select(session, filters)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(1, page)
    results = session.execute(stmt.order_by(AuditLog.occurred_at.desc(), AuditLog.id.desc())
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return AuditPage(rows=[_to_row(r) for r in results], total=total, page=page, per_page=per_page, filters=filters)


def audit_actions(session: Session) -> list[str]:
    return sorted(set(ACTION_LABELS) | set(session.scalars(select(AuditLog.action).distinct())))


CSV_HEADER = ["日時（日本時間）", "操作者種別", "スタッフID", "スタッフ名", "操作した組合員番号", "対象組合員番号",
              "操作", "操作コード", "対象種別", "対象ID", "詳細", "IPアドレス", "リクエストID"]
CSV_MAX_ROWS = 100_000


def audit_csv(session: Session, filters: AuditFilter) -> str:
    """The filtered log as CSV (UTF-8 with BOM so Excel opens it), oldest first."""
    stmt = _audit_select(session, filters).order_by(AuditLog.occurred_at, AuditLog.id).limit(CSV_MAX_ROWS)
    rows = (_to_row(result) for result in session.execute(stmt))
    return csv_text([CSV_HEADER, *(
        [to_tokyo(row.occurred_at).strftime("%Y-%m-%d %H:%M:%S"), row.actor_type, row.staff_id, row.staff_name,
         row.actor_member_no, row.member_no, row.action_label, row.action, row.target_type, row.target_id,
         row.detail, row.ip, row.request_id] for row in rows)])


def export_csv(session: Session, filters: AuditFilter) -> str:
    """audit_csv for a staff user's download: the export itself goes into the log."""
    body = audit_csv(session, filters)
    record("audit.export", target_type="audit_log",
           detail={"staff_id": filters.staff_id, "member_no": filters.member_no, "action": filters.action,
                   "from": filters.date_from, "to": filters.date_to}, session=session)
    return body


@dataclass
class MemberAccessSummary:
    member_id: int
    member_no: str
    member_name: str
    views: int
    acts: int
    first_at: datetime
    last_at: datetime


@dataclass
class StaffRef:
    id: int
    name: str
    email: str


@dataclass
class StaffAccessReport:
    staff: StaffRef
    members: list[MemberAccessSummary]
    events: list[AuditRow]


def staff_access_report(session: Session, staff_id: int, *, date_from: date | None = None,
                        date_to: date | None = None, event_limit: int = 200) -> StaffAccessReport | None:
    """Which members did this staff user open or act for, and when."""
    found = session.execute(select(staff_users.c.id, staff_users.c.name, staff_users.c.email)
                            .where(staff_users.c.id == staff_id)).first()
    if found is None:
        return None
    staff = StaffRef(*found)
    conditions = [AuditLog.actor_staff_id == staff_id, AuditLog.action.in_(ACCESS_ACTIONS),
                  AuditLog.acting_as_member_id.is_not(None)]
    if date_from:
        conditions.append(AuditLog.occurred_at >= _tokyo_start(date_from))
    if date_to:
        conditions.append(AuditLog.occurred_at < _tokyo_start(date_to + timedelta(days=1)))
    grouped = session.execute(
        select(Member.id, Member.member_no, Member.name,
               func.sum(case((AuditLog.action == "staff.member_open", 1), else_=0)),
               func.sum(case((AuditLog.action == "impersonation.start", 1), else_=0)),
               func.min(AuditLog.occurred_at), func.max(AuditLog.occurred_at))
        .join(Member, Member.id == AuditLog.acting_as_member_id)
        .where(*conditions)
        .group_by(Member.id, Member.member_no, Member.name)
        .order_by(func.max(AuditLog.occurred_at).desc())
    ).all()
    members = [MemberAccessSummary(member_id=r[0], member_no=r[1], member_name=r[2], views=int(r[3] or 0),
                                   acts=int(r[4] or 0), first_at=_utc(r[5]), last_at=_utc(r[6])) for r in grouped]
    filters = AuditFilter(staff_id=staff_id, date_from=date_from, date_to=date_to)
    events = [_to_row(r) for r in session.execute(
        _audit_select(session, filters).where(AuditLog.action.in_(ACCESS_ACTIONS + ("impersonation.end",)))
        .order_by(AuditLog.occurred_at.desc(), AuditLog.id.desc()).limit(event_limit))]
    return StaffAccessReport(staff=staff, members=members, events=events)


def _utc(value: datetime | str) -> datetime:
    """min()/max() over a UTC column come back naive (SQLite may even give text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
