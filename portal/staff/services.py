"""Staff accounts and the staff console's rules: sign-in with TOTP, member
search, acting as a member (impersonation). The audit log's reports are in
portal.audit.reports.

Services take a Session and plain values, flush, never commit, and raise
StaffError with a Japanese `.message` (and `.field` when it belongs to one).
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from pyotp.utils import strings_equal
from sqlalchemy import func, select, union, update
from sqlalchemy.orm import Session

from portal.audit.reports import AccessEntry, access_history
from portal.auth import throttle
from portal.auth.models import AuthSession
from portal.auth.passwords import hash_password, verify_password
from portal.clock import utcnow
from portal.jp.errors import JpValueError
from portal.jp.phone import mask_phone
from portal.jp.text import digits_only, kana_search_key, normalize
from portal.members.models import Member
from portal.pagination import Pagination
from portal.service_errors import ServiceError
from portal.staff.models import ROLE_LABELS, STAFF_ROLES, StaffRole, StaffUser

TOTP_ISSUER = "みらい共済 マイページ"
TOTP_VALID_WINDOW = 1  # ±1 step of 30 s: clocks of phones drift
# One message for every sign-in failure: it never says which part was wrong.
LOGIN_ERROR = "メールアドレス、パスワードまたは確認コードが正しくありません。"
ACTING_LIMIT = timedelta(minutes=30)
ACT_REASONS = {
    "phone_inquiry": "お電話でのお問い合わせ対応",
    "procedure_guidance": "手続き操作のご案内",
    "display_check": "表示内容の確認（不具合の調査）",
    "shop_visit": "共済ショップ窓口での対応",
    "other": "その他",
}
MEMBER_STATUS_LABELS = {"active": "有効", "suspended": "停止中", "withdrawn": "脱退"}


class TOTP(pyotp.TOTP):
    """pyotp's TOTP without its 112-bit minimum on existing secrets.

    pyotp 2.12 refuses secrets under 112 bits, but the demo staff's secret
    documented in DESIGN.md (JBSWY3DPEHPK3PXP) is 80 bits. New secrets are always
    pyotp.random_base32() (160 bits); the algorithm (RFC 6238, SHA-1, 6 digits,
    30 s) is pyotp's own.
    """

    def byte_secret(self) -> bytes:
        import base64

        secret = self.secret + "=" * (-len(self.secret) % 8)
        return base64.b32decode(secret, casefold=True)


def totp_for(staff_or_secret: StaffUser | str) -> TOTP:
    secret = staff_or_secret if isinstance(staff_or_secret, str) else staff_or_secret.totp_secret
    return TOTP(secret)


class StaffError(ServiceError):
    """A rule said no (a Japanese message, and the field it belongs to)."""


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
        raise StaffError(LOGIN_ERROR)
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
        raise StaffError(LOGIN_ERROR)
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
    raise StaffError(LOGIN_ERROR)


# --- member search -----------------------------------------------------------------
def mask_name(name: str) -> str:
    """山田 太郎 → 山田 ＊＊: enough to confirm a caller, not to read off a list."""
    family, _, given = name.partition(" ")
    if not given:
        return name[:1] + "＊" * (len(name) - 1)
    return f"{family} " + "＊" * len(given)


@dataclass
class MemberHit:
    id: int
    member_no: str
    name_masked: str
    name_kana: str
    birth_year: int
    phone_masked: str
    prefecture: str
    status: str

    @property
    def status_label(self) -> str:
        return MEMBER_STATUS_LABELS.get(self.status, self.status)


TOTAL_CAP = 1000


@dataclass
class SearchResult(Pagination):
    query: str
    kind: str  # "number" or "kana"
    hits: list[MemberHit]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-min(self.total, TOTAL_CAP) // self.per_page))

    @property
    def is_capped(self) -> bool:
        return self.total > TOTAL_CAP


def search_members(session: Session, query: str, *, page: int = 1, per_page: int = 20) -> SearchResult:
    """By 組合員番号, 証書番号 or phone (digits, hyphens and 全角 accepted, exact match),
    or by フリガナ (ｶﾅ, かな, カナ): the start of the family name, the whole name, or
    the start of the given name."""
    from portal.contracts.models import Contract

    text = normalize(query)
    if not text:
        raise StaffError("組合員番号・証書番号・電話番号・フリガナのいずれかを入力してください", "q")
    try:
        digits = digits_only(text)
    except JpValueError:
        digits = ""
    if digits:
        kind = "number"
        # One indexed lookup per kind of number, joined by UNION: an OR across the
        # three would make PostgreSQL read the whole members table.
        branches = [Member.member_no == digits, Member.phone == digits,
                    Member.id.in_(select(Contract.member_id).where(Contract.contract_no == digits))]
    else:
        kind = "kana"
        key = kana_search_key(text)
        if not re.fullmatch(r"[ァ-ヺー]+", key):
            raise StaffError("氏名はフリガナ（カタカナまたはひらがな）で入力してください", "q")
        # The stored keys are indexed with the result order, (key, member_no) and
        # (given key, key, member_no): each branch is a range scan of its index that
        # stops after the rows the page needs; an OR would walk a whole index.
        branches = [Member.name_kana_key.startswith(key, autoescape=True),
                    Member.given_kana_key.startswith(key, autoescape=True)]
    # Counted up to TOTAL_CAP: a common family name at a million members would
    # otherwise be counted row by row on every page of results.
    capped = union(*(select(select(Member.id).where(b).limit(TOTAL_CAP + 1).subquery()) for b in branches)).subquery()
    total = min(session.scalar(select(func.count()).select_from(capped)) or 0, TOTAL_CAP + 1)
    page = max(1, min(page, -(-min(total, TOTAL_CAP) // per_page) or 1))
    needed = page * per_page
    order = (Member.name_kana_key, Member.member_no)
    firsts = union(*(select(select(Member.id, *order).where(b).order_by(*order).limit(needed).subquery())
                     for b in branches)).subquery()
    ids = select(firsts.c.id).order_by(firsts.c.name_kana_key, firsts.c.member_no).offset(needed - per_page)\
        .limit(per_page)
    rows = session.scalars(select(Member).where(Member.id.in_(ids)).order_by(*order))
    hits = [MemberHit(id=m.id, member_no=m.member_no, name_masked=mask_name(m.name), name_kana=m.name_kana,
                      birth_year=m.birth_date.year, phone_masked=mask_phone(m.phone), prefecture=m.prefecture,
                      status=m.status) for m in rows]
    return SearchResult(query=text, kind=kind, hits=hits, total=total, page=page, per_page=per_page)


@dataclass
class MemberOverview:
    member: Member
    contracts: list[Any]
    procedures: list[Any]
    debit_accounts: list[Any]
    history: list[AccessEntry]
    can_act: bool
    refusal: str | None


def member_overview(session: Session, member_id: int) -> MemberOverview | None:
    """Everything the console shows about an opened member, read-only."""
    from portal.contracts.models import Contract
    from portal.members.models import DebitAccount
    from portal.procedures.models import ProcedureRequest

    member = session.get(Member, member_id)
    if member is None:
        return None
    contracts = list(session.scalars(select(Contract).where(Contract.member_id == member.id)
                                     .order_by(Contract.start_date, Contract.contract_no)))
    procedures = list(session.scalars(select(ProcedureRequest).where(ProcedureRequest.member_id == member.id)
                                      .order_by(ProcedureRequest.created_at.desc()).limit(20)))
    accounts = list(session.scalars(select(DebitAccount).where(DebitAccount.member_id == member.id,
                                                               DebitAccount.is_current.is_(True))))
    refusal = acting_refusal(session, member)
    return MemberOverview(member=member, contracts=contracts, procedures=procedures, debit_accounts=accounts,
                          history=access_history(session, member.id, limit=10), can_act=refusal is None,
                          refusal=refusal)


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
    """Mark the staff user's session as acting for the member. The caller rotates
    the session id and writes the audit row."""
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
    return member


def end_acting(session: Session, auth_session: AuthSession) -> int | None:
    """Clear the acting fields; returns the member id that was being acted for."""
    member_id = auth_session.acting_member_id
    auth_session.acting_member_id = None
    auth_session.acting_started_at = None
    auth_session.acting_reason = None
    session.flush()
    return member_id


def acting_time_left(auth_session: AuthSession, now: datetime) -> timedelta:
    if auth_session.acting_started_at is None:
        return timedelta(0)
    return auth_session.acting_started_at + ACTING_LIMIT - now


def role_labels(staff: StaffUser) -> list[str]:
    return [ROLE_LABELS[r] for r in STAFF_ROLES if r in staff.role_names]
