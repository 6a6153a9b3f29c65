"""Staff accounts and staff sign-in: password, then a TOTP code (RFC 6238).

Services take a Session and plain values, flush, never commit, and raise
StaffError with a Japanese `.message` (and `.field` when it belongs to one).
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import NoReturn

import pyotp
from pyotp.utils import strings_equal
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal import audit
from portal.auth import sessions, throttle
from portal.auth.models import AuthSession
from portal.auth.passwords import hash_password, verify_password
from portal.clock import utcnow
from portal.jp.errors import JpValueError
from portal.jp.text import digits_only, normalize
from portal.service_errors import ServiceError
from portal.staff.models import ROLE_LABELS, STAFF_ROLES, StaffRole, StaffUser

TOTP_ISSUER = "みらい共済 マイページ"
TOTP_VALID_WINDOW = 1  # ±1 step of 30 s: clocks of phones drift
# One message for every sign-in failure: it never says which part was wrong.
LOGIN_ERROR = "メールアドレス、パスワードまたは確認コードが正しくありません。"


class StaffError(ServiceError):
    """A rule of the staff console said no (a Japanese message, and its field)."""


def totp_for(staff_or_secret: StaffUser | str) -> pyotp.TOTP:
    """RFC 6238, SHA-1, 6 digits, 30 s. Secrets are 160 bits (pyotp.random_base32())."""
    secret = staff_or_secret if isinstance(staff_or_secret, str) else staff_or_secret.totp_secret
    return pyotp.TOTP(secret)


# --- accounts ------------------------------------------------------------------
def create_staff(session: Session, email: str, roles: list[str], password: str, *, name: str | None = None,
                 totp_secret: str | None = None) -> StaffUser:
    email = email.strip().lower()
    if "@" not in email:
        raise StaffError(f"not an e-mail address: {email!r}")
    unknown = [r for r in roles if r not in STAFF_ROLES]
    if unknown or not roles:
        raise StaffError(f"unknown role {', '.join(unknown) or '(none)'}; choose from {', '.join(STAFF_ROLES)}")
    if session.scalar(select(func.count()).select_from(StaffUser).where(StaffUser.email == email)):
        raise StaffError(f"staff user {email} already exists")
    if len(password) < 10:
        raise StaffError("password must be at least 10 characters")
    staff = StaffUser(email=email, name=name or email.split("@")[0], password_hash=hash_password(password),
                      totp_secret=totp_secret or pyotp.random_base32())
    staff.roles = [StaffRole(role=r) for r in dict.fromkeys(roles)]
    session.add(staff)
    session.flush()
    return staff


def provisioning_uri(staff: StaffUser) -> str:
    return totp_for(staff).provisioning_uri(name=staff.email, issuer_name=TOTP_ISSUER)


def create_staff_account(session: Session, email: str, name: str, roles: list[str]) -> tuple[StaffUser, str]:
    """Admin console: a new staff user with a generated password (both shown once)."""
    email = normalize(email).lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise StaffError("メールアドレスの形式が正しくありません", "email")
    if not roles:
        raise StaffError("役割を1つ以上選んでください", "roles")
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise StaffError("このメールアドレスのスタッフはすでに登録されています", "email")
    password = secrets.token_urlsafe(12)
    staff = create_staff(session, email, roles, password, name=normalize(name) or None)
    audit.record("staff.user_create", target_type="staff", target_id=staff.id,
                 detail={"email": staff.email, "roles": sorted(staff.role_names)}, session=session)
    return staff, password


def end_staff_sessions(session: Session, staff_id: int, reason: str) -> None:
    session.execute(update(AuthSession)
                    .where(AuthSession.staff_id == staff_id, AuthSession.ended_at.is_(None))
                    .values(ended_at=utcnow(), ended_reason=reason))


def set_staff_enabled(session: Session, staff_id: int, enabled: bool, *, by_staff_id: int) -> StaffUser:
    staff = session.get(StaffUser, staff_id)
    if staff is None:
        raise StaffError("スタッフが見つかりません")
    if not enabled and staff_id == by_staff_id:
        raise StaffError("自分自身を無効にすることはできません")
    staff.is_enabled = enabled
    if not enabled:
        end_staff_sessions(session, staff.id, "disabled")
    session.flush()
    audit.record("staff.user_enable" if enabled else "staff.user_disable", target_type="staff", target_id=staff.id,
                 session=session)
    return staff


def reset_totp(session: Session, staff_id: int) -> StaffUser:
    """A new TOTP secret (a lost phone); every open session of that staff user ends."""
    staff = session.get(StaffUser, staff_id)
    if staff is None:
        raise StaffError("スタッフが見つかりません")
    staff.totp_secret = pyotp.random_base32()
    staff.last_totp_step = 0
    end_staff_sessions(session, staff.id, "totp_reset")
    session.flush()
    audit.record("staff.totp_reset", target_type="staff", target_id=staff.id, session=session)
    return staff


def list_staff(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.email)))


# --- sign-in ---------------------------------------------------------------------
def check_password(session: Session, email: str, password: str) -> StaffUser:
    """First step of staff sign-in. Unknown e-mail, wrong password and a disabled
    account all give LOGIN_ERROR and take the same time (a hash is always checked).

    Failures are counted per e-mail address (portal.auth.throttle): after 5, each try
    waits longer (SignInDelayed). The caller commits even on failure."""
    email = normalize(email).lower()
    key = throttle.account_key("staff", email)
    throttle.check(session, key)
    staff = session.scalar(select(StaffUser).where(StaffUser.email == email)) if email else None
    ok = verify_password(staff.password_hash if staff else None, password or "")
    if staff is None or not ok or not staff.is_enabled:
        throttle.record_failure(session, key)
        sign_in_failed(session, None, "password", email=email[:254])
    throttle.clear(session, key)
    return staff


def totp_key(staff: StaffUser) -> str:
    return throttle.account_key("staff-totp", staff.id)


def verify_totp(session: Session, staff: StaffUser, code: str, *, at: datetime | None = None) -> int:
    """Second step: a 6-digit code of the current 30 s step ±1, never one already used.

    Returns the accepted time step. The step is claimed with a conditional UPDATE,
    so two requests racing with the same code cannot both succeed.
    """
    key = totp_key(staff)
    throttle.check(session, key)
    try:
        code = digits_only(code)
    except JpValueError:
        code = ""
    if len(code) != 6 or not staff.is_enabled:
        throttle.record_failure(session, key)
        sign_in_failed(session, staff.id, "totp")
    totp = totp_for(staff)
    current = totp.timecode(at or utcnow())
    for step in range(current - TOTP_VALID_WINDOW, current + TOTP_VALID_WINDOW + 1):
        if not strings_equal(totp.generate_otp(step), code):
            continue
        claimed = session.execute(
            update(StaffUser)
            .where(StaffUser.id == staff.id, StaffUser.last_totp_step < step)
            .values(last_totp_step=step)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            break  # this code (or a later one) was already used: a replay
        session.refresh(staff, ["last_totp_step"])
        throttle.clear(session, key)
        return step
    # Counted on the server: a client that resends an older cookie gains no tries.
    throttle.record_failure(session, key)
    sign_in_failed(session, staff.id, "totp")


def record_failed_sign_in(session: Session, staff_id: int | None, step: str, **detail: object) -> None:
    audit.record("staff.login_failed", staff_id=staff_id, detail={"step": step, **detail}, session=session)


def sign_in_failed(session: Session, staff_id: int | None, step: str, **detail: object) -> NoReturn:
    """Write the failed step to the audit log and refuse with the one sign-in message."""
    record_failed_sign_in(session, staff_id, step, **detail)
    raise StaffError(LOGIN_ERROR)


def signed_in(staff: StaffUser, **detail: object) -> None:
    """Both steps passed: a new server-side session and the audit row."""
    sessions.begin(staff)
    audit.record("staff.login", target_type="staff", target_id=staff.id, detail=detail or None)


def sign_out(session: Session, staff: StaffUser) -> None:
    """End the staff user's session, and acting for a member if they still were."""
    from portal.staff.acting import end_acting  # acting builds on this module

    row = sessions.current()
    if row is not None and row.acting_member_id is not None:
        end_acting(session, row, "logout")
    audit.record("staff.logout", target_type="staff", target_id=staff.id)
    sessions.end_current("logout")


def role_labels(staff: StaffUser) -> list[str]:
    return [ROLE_LABELS[r] for r in STAFF_ROLES if r in staff.role_names]
