"""The member's sign-in history: every sign-in and every wrong password, written
where the sign-in happens (password, code, passkey). The account security centre
shows it (portal.account)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal import audit
from portal.auth.models import SignInEvent
from portal.auth.services import normalize_login_id
from portal.clock import utcnow
from portal.members.models import Member


def record_sign_in(session: Session, member_id: int, method: str, *, success: bool = True,
                   new_device: bool = False, ip: str | None = None, user_agent: str | None = None) -> SignInEvent:
    row = SignInEvent(member_id=member_id, method=method, is_success=success, is_new_device=new_device,
                      ip=(ip or "")[:45] or None, user_agent=(user_agent or "")[:200] or None,
                      occurred_at=utcnow())
    session.add(row)
    session.flush()
    return row


def signed_in(session: Session, member: Member, method: str, *, ip: str | None, user_agent: str | None,
              new_device: bool = False, detail: dict[str, Any] | None = None) -> None:
    """A successful sign-in: the line in the member's own sign-in history and the audit row."""
    record_sign_in(session, member.id, method, new_device=new_device, ip=ip, user_agent=user_agent)
    # A sign-in by code is audited where the code is checked (finish_login_code), with its channel.
    if method == "password":
        audit.record("member.login", target_type="member", target_id=member.id, detail=detail, session=session)
    elif method == "passkey":
        audit.record("member.login_passkey", target_type="member", target_id=member.id, detail=detail,
                     session=session)


def record_failed_password(session: Session, login_id: str, *, ip: str | None,
                           user_agent: str | None) -> None:
    """A wrong password for an existing member shows in that member's history."""
    login_id = normalize_login_id(login_id or "")
    if not login_id or len(login_id) > 254:
        return
    member_id = session.scalar(select(Member.id).where(
        or_(Member.login_id == login_id, Member.member_no == login_id), Member.password_hash.is_not(None)))
    if member_id is not None:
        record_sign_in(session, member_id, "password", success=False, ip=ip, user_agent=user_agent)
