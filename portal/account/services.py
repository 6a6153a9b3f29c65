"""Account security centre rules: sign-in history, sessions, remembered devices,
password change. Passkeys are in portal.account.passkeys.

Services flush only; the view commits.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from portal import audit
from portal.auth import services as auth_services
from portal.auth.models import AuthSession, KnownDevice, SignInEvent
from portal.clock import utcnow
from portal.members.models import Member
from portal.service_errors import ServiceError

HISTORY_SIZE = 30
METHOD_LABELS = {"password": "パスワード", "passkey": "パスキー", "code": "認証コード"}


class AccountError(ServiceError):
    """A rule said no (a Japanese message, and the field it belongs to)."""


# --- sign-in history ----------------------------------------------------------------
def history(session: Session, member_id: int, limit: int = HISTORY_SIZE) -> list[SignInEvent]:
    return list(session.scalars(select(SignInEvent).where(SignInEvent.member_id == member_id)
                                .order_by(SignInEvent.occurred_at.desc(), SignInEvent.id.desc()).limit(limit)))


# --- sessions -------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionView:
    row: AuthSession
    is_current: bool


def active_sessions(session: Session, member_id: int, *, current_id: int | None, idle: timedelta,
                    absolute: timedelta) -> list[SessionView]:
    """Sessions of the member that are still open (not ended, not idle, not too old), newest first.

    Sessions of staff acting for the member are staff sessions and are not listed here.
    """
    now = utcnow()
    rows = session.scalars(select(AuthSession).where(
        AuthSession.member_id == member_id, AuthSession.ended_at.is_(None),
        AuthSession.last_seen_at > now - idle, AuthSession.created_at > now - absolute,
    ).order_by(AuthSession.last_seen_at.desc()))
    views = [SessionView(row, row.id == current_id) for row in rows]
    return sorted(views, key=lambda v: not v.is_current)


def end_session(session: Session, member_id: int, session_id: int, *, current_id: int | None) -> None:
    """'Log out of this one': another session of the same member ends at once."""
    if session_id == current_id:
        raise AccountError("この端末のログインは「ログアウト」から終了してください。")
    ended = session.execute(
        update(AuthSession).where(AuthSession.id == session_id, AuthSession.member_id == member_id,
                                  AuthSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason="ended_by_member")
        .execution_options(synchronize_session=False)).rowcount
    if not ended:
        raise AccountError("このログインはすでに終了しています。")
    audit.record("member.session_end", target_type="auth_session", target_id=session_id, member_id=member_id)


def end_other_sessions(session: Session, member_id: int, *, current_id: int | None) -> int:
    stmt = (update(AuthSession).where(AuthSession.member_id == member_id, AuthSession.ended_at.is_(None))
            .values(ended_at=utcnow(), ended_reason="ended_by_member"))
    if current_id is not None:
        stmt = stmt.where(AuthSession.id != current_id)
    count = session.execute(stmt.execution_options(synchronize_session=False)).rowcount
    audit.record("member.sessions_end_others", target_type="member", target_id=member_id, member_id=member_id,
                 detail={"ended": count})
    return count


# --- remembered devices ---------------------------------------------------------------
@dataclass(frozen=True)
class DeviceView:
    row: KnownDevice
    is_current: bool


def remembered_devices(session: Session, member_id: int, current_token: str | None) -> list[DeviceView]:
    """Browsers remembered for 90 days; `current_token` (the device cookie) marks this one."""
    current_hash = hashlib.sha256(current_token.encode()).hexdigest() if current_token else None
    rows = session.scalars(select(KnownDevice).where(
        KnownDevice.member_id == member_id, KnownDevice.expires_at > utcnow())
        .order_by(KnownDevice.last_used_at.desc()))
    return [DeviceView(row, row.token_hash == current_hash) for row in rows]


def forget_device(session: Session, member_id: int, device_id: int) -> None:
    """The next sign-in from that browser asks for a code again."""
    gone = session.execute(delete(KnownDevice).where(KnownDevice.id == device_id,
                                                     KnownDevice.member_id == member_id)
                           .execution_options(synchronize_session=False)).rowcount
    if not gone:
        raise AccountError("この端末はすでに登録が解除されています。")
    audit.record("member.device_forget", target_type="known_device", target_id=device_id, member_id=member_id)


# --- password ---------------------------------------------------------------------------
def change_password(session: Session, member: Member, current_password: str, new_password: str,
                    confirm: str) -> None:
    """Same strength rules as signup (portal.auth.services); the view then ends other
    sessions and rotates this one. The notice is queued by the auth service."""
    if new_password != confirm:
        raise AccountError("確認のため、同じパスワードをもう一度入力してください。", field="confirm")
    if new_password == current_password:
        raise AccountError("現在と同じパスワードには変更できません。", field="new_password")
    try:
        auth_services.change_password(session, member, current_password, new_password)
    except auth_services.AuthError as error:
        field = "current_password" if error.field == "current_password" else "new_password"
        raise AccountError(error.message, field=field) from None


def when_text(moment: datetime | None) -> str:
    from portal.clock import to_tokyo

    if moment is None:
        return "—"
    local = to_tokyo(moment)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def device_label(user_agent: str | None) -> str:
    """A short Japanese description of the browser and system from the User-Agent."""
    ua = user_agent or ""
    system = next((label for marker, label in (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
                                               ("Windows", "Windows"), ("Macintosh", "Mac"),
                                               ("CrOS", "Chromebook"), ("Linux", "Linux")) if marker in ua), None)
    browser = next((label for marker, label in (("Edg/", "Edge"), ("SamsungBrowser", "Samsung Internet"),
                                                ("Line/", "LINE"), ("Firefox", "Firefox"), ("CriOS", "Chrome"),
                                                ("Chrome", "Chrome"), ("Safari", "Safari")) if marker in ua), None)
    if system and browser:
        return f"{system}・{browser}"
    return system or browser or "不明な端末"
