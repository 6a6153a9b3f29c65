"""Procedures: create one (idempotently), move its status, list a member's.

Every status change writes a ProcedureEvent and queues a notice to the member in
the same transaction.
"""
from __future__ import annotations

import functools
import json
import secrets
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from portal import idempotency
from portal.clock import now_tokyo, utcnow
from portal.members.models import Member
from portal.messaging.services import queue_notice
from portal.procedures import wording
from portal.procedures.models import KIND_LABELS, STATUS_LABELS, ProcedureEvent, ProcedureRequest
from portal.service_errors import ServiceError




class ProcedureError(ServiceError):
    """A rule said no (a Japanese message, and the field it belongs to)."""


def new_receipt_no() -> str:
    """e.g. R2611-7KQ3ZP: month of receipt, then random, unguessable characters."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return f"R{now_tokyo():%y%m}-" + "".join(secrets.choice(alphabet) for _ in range(8))


def find_by_key(session: Session, idempotency_key: str | None) -> ProcedureRequest | None:
    return idempotency.find_by_key(session, ProcedureRequest, idempotency_key)


def start(session: Session, member: Member, kind: str, summary: str, *,
          status: str = "received", effective_date: date | None = None,
          detail: dict[str, Any] | None = None, idempotency_key: str | None = None,
          staff_id: int | None = None, notify: bool = True) -> ProcedureRequest:
    """Create the procedure and its acknowledgement notice.

    A repeated idempotency key (double click, resent form, even two copies
    arriving at the same instant) returns the first procedure instead of
    creating a second one, and sends no second notice.
    """
    request = ProcedureRequest(
        receipt_no=new_receipt_no(), member_id=member.id, kind=kind, status=status,
        summary=summary, effective_date=effective_date, idempotency_key=idempotency_key,
        made_by_staff_id=staff_id,
        detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
    )
    # The first event says what comes next; a note that repeats or contradicts its
    # status read wrong ("受付済み：受け付けました", "完了：受け付けました").
    request.events.append(ProcedureEvent(status=status, note=wording.sentences(kind, status)[1] or None))
    request, created = idempotency.insert_once(session, request)
    if request.member_id != member.id:
        raise ProcedureError("この申込はすでに処理されています。")
    if notify and created:
        queue_notice(session, member, f"【受付】{request.kind_label}",
                     wording.notice(request.kind_label, kind, status, request.receipt_no, member.name,
                                    still_open=request.is_open))
    return request


def change_status(session: Session, request: ProcedureRequest, status: str, note: str | None = None,
                  *, notify: bool = True) -> ProcedureRequest:
    if status not in STATUS_LABELS:
        raise ProcedureError(f"unknown status {status}")
    previous = request.status
    request.status = status
    request.updated_at = utcnow()
    request.events.append(ProcedureEvent(status=status, note=note))
    session.flush()
    if notify:
        member = session.get(Member, request.member_id)
        assert member is not None
        queue_notice(session, member, f"【状況】{request.kind_label}",
                     wording.notice(request.kind_label, request.kind, status, request.receipt_no, member.name,
                                    note, same_status=status == previous, still_open=request.is_open))
    return request


@functools.cache
def _for_member_statement():
    """Built once (on first use: at import it would configure the mappers early): /requests
    runs it on every visit, and a prebuilt statement skips building it and its cache key."""
    return (select(ProcedureRequest).where(ProcedureRequest.member_id == bindparam("member_id"))
            .options(selectinload(ProcedureRequest.events))  # the page lists each one's history
            .order_by(ProcedureRequest.created_at.desc(), ProcedureRequest.id.desc()))


def for_member(session: Session, member_id: int) -> list[ProcedureRequest]:
    return list(session.scalars(_for_member_statement(), {"member_id": member_id}))


def detail_of(request: ProcedureRequest) -> dict[str, Any]:
    return json.loads(request.detail) if request.detail else {}


@functools.cache
def open_notices_statement():
    """Procedures in progress, newest first: kind, status, receipt_no, then the order
    (created_at, id); bound: member_id, notices_limit. My Page reads it together
    with its other panels in one round trip. Built on first use, not at import
    (that would configure the mappers early)."""
    return (select(ProcedureRequest.kind, ProcedureRequest.status, ProcedureRequest.receipt_no,
                   ProcedureRequest.created_at, ProcedureRequest.id)
            .where(ProcedureRequest.member_id == bindparam("member_id"),
                   ProcedureRequest.is_open)
            .order_by(ProcedureRequest.created_at.desc(), ProcedureRequest.id.desc())
            .limit(bindparam("notices_limit")))


def notices_from_rows(rows) -> list[dict[str, str]]:
    """My Page notices from rows of open_notices_statement (rows, not objects: nothing is changed)."""
    return [{"text": f"{KIND_LABELS[kind]}（受付番号 {receipt_no}）は「{wording.status_label(kind, status)}」です。",
             "url": "/requests", "level": "info"} for kind, status, receipt_no, *_ in rows]


def open_notices(session: Session, member: Member, limit: int = 5) -> list[dict[str, str]]:
    """Procedures still in progress, as My Page notices, in one query."""
    return notices_from_rows(session.execute(open_notices_statement(),
                                             {"member_id": member.id, "notices_limit": limit}))
