"""The member's sign-in history: every sign-in and every wrong password, written
where the sign-in happens (password, code, passkey). The account security centre
shows it (portal.account)."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

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
