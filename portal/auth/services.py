"""Member sign-in rules. Signup and one-time codes live in their own modules."""
from __future__ import annotations

import unicodedata

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.auth.passwords import verify_password
from portal.members.models import Member


class AuthError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalize_login_id(raw: str) -> str:
    """NFKC (全角 → 半角); a member number typed with hyphens loses them."""
    value = unicodedata.normalize("NFKC", raw).strip()
    compact = value.replace("-", "")
    return compact if compact.isdigit() else value


def authenticate(session: Session, login_id: str, password: str) -> Member:
    """The member for these credentials; the same error whatever was wrong."""
    login_id = normalize_login_id(login_id)
    member = session.scalar(
        select(Member).where(or_(Member.login_id == login_id, Member.member_no == login_id),
                             Member.password_hash.is_not(None))
    )
    if not verify_password(member.password_hash if member else None, password) or member is None:
        raise AuthError("ログインIDまたはパスワードが正しくありません。")
    if not member.is_active_member:
        raise AuthError("このアカウントは現在ご利用いただけません。お問い合わせください。")
    return member
