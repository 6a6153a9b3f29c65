"""Member sign-in rules: password sign-in, signup, password reset, password policy.

One-time codes live in portal.auth.codes, remembered devices in portal.auth.devices.
Services flush only; the view commits.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal import audit
from portal.auth import codes, devices, sessions, throttle
from portal.auth.codes import CodeError
from portal.auth.models import CodeChallenge
from portal.auth.passwords import hash_password, verify_password
from portal.clock import utcnow
from portal.contracts.models import Contract
from portal.jp.dates import format_datetime_jp
from portal.jp.phone import parse_phone
from portal.members.models import Member
from portal.service_errors import ServiceError

log = logging.getLogger(__name__)

# After the code is accepted, the member has this long to set the password.
VERIFIED_FOR = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
# The co-op's and the site's own words: the first guesses against this site (NIST SP 800-63B
# 5.1.1.2, "context-specific words, such as the name of the service"). Compared NFKC-folded
# and lower-cased, so 全角 and upper case are caught too.
SITE_WORDS = ("mirai", "みらい", "ミライ", "未来", "kyosai", "kyousai", "共済", "seikyo", "seikyou", "生協",
              "mypage", "マイページ", "kokumin", "こくみん", "コクミン")


class AuthError(ServiceError):
    """A rule said no. `field` names the form field the message belongs to (or None)."""


# --- password sign-in ------------------------------------------------------------
def normalize_login_id(raw: str) -> str:
    """NFKC (全角 → 半角); a member number typed with hyphens loses them."""
    value = unicodedata.normalize("NFKC", raw).strip()
    compact = value.replace("-", "")
    return compact if compact.isdigit() else value


def authenticate(session: Session, login_id: str, password: str, *, device_token: str | None = None) -> Member:
    """The member for these credentials; the same error whatever was wrong.

    Failures are counted per account (portal.auth.throttle): after 5, each try waits
    longer. A browser the member has signed in on before (`device_token`) is not held
    up, so a stranger who knows the login ID cannot keep the member out. Raises
    SignInDelayed while the account waits; the caller commits even on failure.
    """
    login_id = normalize_login_id(login_id)
    member = session.scalar(
        select(Member).where(or_(Member.login_id == login_id, Member.member_no == login_id),
                             Member.password_hash.is_not(None))
    )
    # An unknown ID gets a counter of its own, so both answers behave the same.
    key = throttle.account_key("member", member.id) if member else throttle.account_key("login", login_id)
    if not (member is not None and devices.is_known(session, member.id, device_token)):
        throttle.check(session, key)
    if not verify_password(member.password_hash if member else None, password) or member is None:
        throttle.record_failure(session, key)
        raise AuthError("ログインIDまたはパスワードが正しくありません。")
    throttle.clear(session, key)
    if not member.is_active_member:
        raise AuthError("このアカウントは現在ご利用いただけません。お問い合わせください。")
    return member


def sign_in_channel(member: Member) -> str:
    """SMS to a mobile, else an automated voice call."""
    return "sms" if parse_phone(member.phone).can_receive_sms else "voice"


def start_login_code(session: Session, member: Member, ip: str | None) -> CodeChallenge:
    """A new device: after the password, a code to the phone on file."""
    return codes.send_code(session, purpose="login", phone=member.phone, channel=sign_in_channel(member),
                           member_id=member.id, ip=ip)


def finish_login_code(session: Session, challenge_id: int, code: str) -> Member:
    row = codes.verify_code(session, challenge_id, code, purpose="login")
    member = session.get(Member, row.member_id) if row.member_id else None
    if member is None or not member.is_active_member:
        raise CodeError("このアカウントは現在ご利用いただけません。お問い合わせください。")
    audit.record("member.login_code", target_type="member", target_id=member.id, detail={"channel": row.channel})
    return member


def reauthenticated(member: Member, method: str, **detail: object) -> None:
    """The member proved again who they are: the session may change sensitive
    settings for a while, and the audit log says how it was proved."""
    sessions.mark_reauthenticated()
    audit.record("member.reauthenticated", target_type="member", target_id=member.id,
                 detail={"method": method, **detail})


def new_device_notice(session: Session, member: Member, history_url: str) -> None:
    """SMS (or mail) telling the member that a new browser signed in, linking to the sign-in history."""
    from portal.messaging.services import queue_notice

    body = (f"{member.name}様 {format_datetime_jp(utcnow())}に、新しい端末からマイページに"
            f"ログインがありました。ログイン履歴：{history_url} お心当たりがない場合は、パスワードを再設定のうえ"
            "サービスセンター（0120-00-0000）までご連絡ください。")
    # Security notices are not a member's choice: messaging picks SMS, else mail.
    queue_notice(session, member, "【マイページ】新しい端末からのログイン", body, topic="security")


# --- identity (step 1 of signup and reset) ---------------------------------------
def find_member(session: Session, identifier: str) -> Member | None:
    """By member number (10 digits) or certificate/contract number (12 digits)."""
    if len(identifier) == 12:
        return session.scalar(select(Member).join(Contract, Contract.member_id == Member.id)
                              .where(Contract.contract_no == identifier))
    return session.scalar(select(Member).where(Member.member_no == identifier))


def _eligible(member: Member | None, purpose: str) -> bool:
    if member is None or not member.is_active_member:
        return False
    return (not member.is_registered) if purpose == "signup" else member.is_registered


def start_code_flow(session: Session, *, purpose: str, identifier: str, birth_date: date, phone: str,
                    channel: str, ip: str | None) -> CodeChallenge:
    """Step 1 of signup ('signup') or reset ('reset'): always answers with a challenge.

    When the member is unknown, the data do not match, the member is (for signup)
    already registered or (for reset) not, or SMS was chosen for a phone that cannot
    take it, the challenge is a decoy: same queries, same hashing, same page, no code.
    Raises CodeError for throttles, lockout and gateway failures.
    """
    assert purpose in ("signup", "reset")
    member = find_member(session, identifier)
    matched = (member is not None and member.birth_date == birth_date and member.phone == phone)
    eligible = matched and _eligible(member, purpose)
    parsed = parse_phone(phone)
    reachable = parsed.can_receive_sms if channel == "sms" else parsed.can_receive_voice
    # Counted per (number, identifier typed), matched or not: see portal.auth.codes.
    subject = f"id:{identifier}"
    if eligible and reachable:
        challenge = codes.send_code(session, purpose=purpose, phone=phone, channel=channel,
                                    member_id=member.id, ip=ip, subject=subject)
    else:
        challenge = codes.issue_decoy(session, purpose=purpose, phone=phone, channel=channel,
                                      member_id=member.id if eligible else None, ip=ip, subject=subject)
    return challenge


def resend(session: Session, challenge_id: int, *, purpose: str, channel: str | None,
           ip: str | None) -> CodeChallenge:
    """Resend (or switch channel) for any flow; neutral flows stay neutral."""
    previous = session.get(CodeChallenge, challenge_id)
    if previous is None or previous.purpose != purpose:
        raise CodeError("最初からやり直してください。")
    if purpose in ("signup", "reset"):
        member = session.get(Member, previous.member_id) if previous.member_id else None
        can_send = _eligible(member, purpose)
    else:
        can_send = True
    return codes.resend_code(session, challenge_id, purpose=purpose, channel=channel, ip=ip, can_send=can_send)


def verified_member(session: Session, challenge_id: int | None, purpose: str) -> Member:
    """The member whose code for `purpose` was accepted in the last 15 minutes."""
    row = session.get(CodeChallenge, challenge_id) if challenge_id else None
    if (row is None or row.purpose != purpose or row.status != "used" or row.is_decoy or row.member_id is None
            or row.used_at is None or utcnow() - row.used_at > VERIFIED_FOR):
        raise AuthError("お手続きの有効期限が切れました。お手数ですが、最初からやり直してください。")
    member = session.get(Member, row.member_id)
    if member is None:
        raise AuthError("お手続きの有効期限が切れました。お手数ですが、最初からやり直してください。")
    return member


# --- passwords -------------------------------------------------------------------
@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _own_data(member: Member, login_id: str | None) -> list[str]:
    birth = member.birth_date
    items = [member.member_no, member.phone, member.phone[-8:], f"{birth:%Y%m%d}", f"{birth:%y%m%d}",
             f"{birth:%Y}{birth.month}{birth.day}"]
    if member.login_id and len(member.login_id) >= 4:
        items.append(member.login_id.lower())
    if login_id and len(login_id) >= 4:
        items.append(login_id.lower())
    return items


def password_problem(password: str, member: Member, login_id: str | None = None) -> str | None:
    """Why this password may not be used, or None (NIST SP 800-63B: length and blocklists)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "パスワードは10文字以上で入力してください。"
    if len(password) > 128:
        return "パスワードは128文字以内で入力してください。"
    folded = unicodedata.normalize("NFKC", password).lower()
    digits = re.sub(r"[^0-9]", "", folded)
    compact = re.sub(r"[\s\-_.・]", "", folded)  # "my-page", "みらい 共済"
    if folded in common_passwords() or len(set(folded)) <= 2:
        return "よく使われている、または推測されやすいパスワードは使えません。別のパスワードにしてください。"
    if any(word in folded or word in compact for word in SITE_WORDS):
        return "共済生協の名前やサイト名（みらい・共済・マイページなど）を含むパスワードは使えません。"
    for item in _own_data(member, login_id):
        if item in folded or (item.isdigit() and len(item) >= 6 and item in digits):
            return "組合員番号・生年月日・電話番号・ログインIDを含むパスワードは使えません。"
    return None


def _check_password(password: str, member: Member, login_id: str | None = None) -> None:
    problem = password_problem(password, member, login_id)
    if problem:
        raise AuthError(problem, field="password")


def _check_login_id(session: Session, member: Member, login_id: str | None) -> str | None:
    if not login_id:
        return None
    if login_id.isdigit() and login_id != member.member_no:
        raise AuthError("数字だけのログインIDは組合員番号と紛らわしいため使えません。英字を含めてください。",
                        field="login_id")
    if login_id == member.member_no:
        return None
    taken = session.scalar(select(func.count()).select_from(Member).where(
        Member.id != member.id,
        or_(func.lower(Member.login_id) == login_id.lower(), Member.member_no == login_id)))
    if taken:
        raise AuthError("このログインIDはすでに使われています。別のIDを入力してください。", field="login_id")
    return login_id


def complete_signup(session: Session, challenge_id: int | None, *, login_id: str | None,
                    password: str) -> Member:
    """Step 3: set the login ID (optional) and password of the verified member."""
    member = verified_member(session, challenge_id, "signup")
    if member.is_registered:
        raise AuthError("すでにマイページに登録されています。ログイン画面からログインしてください。")
    login_id = _check_login_id(session, member, login_id)
    _check_password(password, member, login_id)
    member.login_id = login_id
    member.password_hash = hash_password(password)
    member.registered_at = utcnow()
    session.flush()
    audit.record("member.signup", target_type="member", target_id=member.id, member_id=member.id,
                 detail={"login_id_set": bool(login_id)})
    log.info("member %s registered for My Page", member.id)
    return member


def reset_password(session: Session, challenge_id: int | None, password: str) -> Member:
    """Password reset after a code to the phone on file. The view ends the other sessions."""
    member = verified_member(session, challenge_id, "reset")
    _check_password(password, member)
    member.password_hash = hash_password(password)
    session.flush()
    audit.record("member.password_reset", target_type="member", target_id=member.id, member_id=member.id)
    _password_changed_notice(session, member)
    return member


def change_password(session: Session, member: Member, current_password: str, new_password: str) -> None:
    """For a signed-in member (profile). The caller ends other sessions and rotates this one:
    `sessions.end_others_for_member(member.id, "password_change")` and `sessions.rotate()`."""
    if not verify_password(member.password_hash, current_password):
        raise AuthError("現在のパスワードが正しくありません。", field="current_password")
    _check_password(new_password, member)
    member.password_hash = hash_password(new_password)
    session.flush()
    audit.record("member.password_change", target_type="member", target_id=member.id)
    _password_changed_notice(session, member)


def _password_changed_notice(session: Session, member: Member) -> None:
    from portal.messaging.services import queue_notice

    queue_notice(session, member, "【マイページ】パスワード変更のお知らせ",
                 f"{member.name}様 マイページのパスワードが変更されました。お心当たりがない場合は"
                 "サービスセンター（0120-00-0000）までご連絡ください。", topic="security")
