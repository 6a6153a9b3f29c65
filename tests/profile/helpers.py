"""Small helpers shared by the profile tests."""
from __future__ import annotations

import re

from sqlalchemy import select


def hidden(html: str, name: str) -> str:
    for pattern in (rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"'):
        match = re.search(pattern, html)
        if match:
            return match.group(1)
    raise AssertionError(f"no hidden field {name!r} in page")


def requests_of(db_session, member, kind: str | None = None):
    from portal.procedures.models import ProcedureRequest

    query = select(ProcedureRequest).where(ProcedureRequest.member_id == member.id)
    if kind:
        query = query.where(ProcedureRequest.kind == kind)
    db_session.expire_all()
    return list(db_session.scalars(query.order_by(ProcedureRequest.id)))


def outbox_for(db_session, member):
    from portal.messaging.models import OutboxMessage

    db_session.expire_all()
    return list(db_session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member.id)
                                   .order_by(OutboxMessage.id)))


def audit_rows(db_session, action: str):
    from portal.audit.models import AuditLog

    return list(db_session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def reauthenticate(client, member, target: str = "phone"):
    response = client.post(f"/profile/reauth?for={target}", data={"password": member.password_plain})
    assert response.status_code == 302, response.text
    return response
