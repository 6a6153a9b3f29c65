"""Staff acting as a member (impersonation): who may, for whom, for how long.

The request hooks that enforce the time limit are in portal.staff.impersonation.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import audit
from portal.auth.models import AuthSession
from portal.clock import utcnow
from portal.jp.text import normalize
from portal.members.models import Member
from portal.staff.accounts import StaffError
from portal.staff.models import StaffUser

ACTING_LIMIT = timedelta(minutes=30)
ACT_REASONS = {
    "phone_inquiry": "お電話でのお問い合わせ対応",
    "procedure_guidance": "手続き操作のご案内",
    "display_check": "表示内容の確認（不具合の調査）",
    "shop_visit": "共済ショップ窓口での対応",
    "other": "その他",
}
MEMBER_STATUS_LABELS = {"active": "有効", "suspended": "停止中", "withdrawn": "脱退"}


# --- acting as a member ------------------------------------------------------------------
def is_staff_person(session: Session, member: Member) -> bool:
    """A member record that belongs to a staff user (same e-mail): never a target."""
    if not member.email:
        return False
    return session.scalar(select(StaffUser.id).where(StaffUser.email == member.email.strip().lower())) is not None


def acting_refusal(session: Session, member: Member) -> str | None:
    if member.status != "active":
        label = MEMBER_STATUS_LABELS.get(member.status, member.status)
        return f"この組合員は{label}のため、代理操作はできません。"
    if is_staff_person(session, member):
        return "スタッフ本人・職員のアカウントには代理操作できません。"
    return None


def start_acting(session: Session, auth_session: AuthSession, staff: StaffUser, member_id: int,
                 reason_code: str | None, reason_text: str | None) -> Member:
    """Mark the staff user's session as acting for the member, and write the audit
    row the member sees in their access history. The caller rotates the session id."""
    if auth_session.staff_id != staff.id or not staff.has_role("support"):
        raise StaffError("代理操作はサポート担当者だけが行えます。")
    if auth_session.acting_member_id is not None:
        raise StaffError("すでに代理操作中です。終了してから開始してください。")
    member = session.get(Member, member_id)
    if member is None:
        raise StaffError("組合員が見つかりません。")
    refusal = acting_refusal(session, member)
    if refusal:
        raise StaffError(refusal)
    if reason_code not in ACT_REASONS:
        raise StaffError("代理操作の理由を選んでください", "reason_code")
    text = normalize(reason_text)
    if len(text) < 4:
        raise StaffError("理由の詳細を4文字以上で入力してください", "reason_text")
    auth_session.acting_member_id = member.id
    auth_session.acting_started_at = utcnow()
    auth_session.acting_reason = f"{ACT_REASONS[reason_code]}：{text}"[:300]
    session.flush()
    audit.record("impersonation.start", target_type="member", target_id=member.id, member_id=member.id,
                 detail={"reason_code": reason_code, "reason": auth_session.acting_reason}, session=session)
    return member


def end_acting(session: Session, auth_session: AuthSession, reason: str) -> int | None:
    """Clear the acting fields and write why it ended ("ended", "logout", "expired",
    "member_inactive"); returns the member id that was being acted for."""
    member_id = auth_session.acting_member_id
    audit.record("impersonation.end", target_type="member", target_id=member_id, member_id=member_id,
                 detail={"reason": reason}, session=session)
    auth_session.acting_member_id = None
    auth_session.acting_started_at = None
    auth_session.acting_reason = None
    session.flush()
    return member_id


def acting_time_left(auth_session: AuthSession, now: datetime) -> timedelta:
    if auth_session.acting_started_at is None:
        return timedelta(0)
    return auth_session.acting_started_at + ACTING_LIMIT - now
