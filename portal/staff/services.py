"""Staff accounts: creation (CLI and admin console), sign-in with TOTP."""
from __future__ import annotations

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.auth.passwords import hash_password
from portal.staff.models import STAFF_ROLES, StaffRole, StaffUser

TOTP_ISSUER = "みらい共済 マイページ"


class StaffError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
    return pyotp.TOTP(staff.totp_secret).provisioning_uri(name=staff.email, issuer_name=TOTP_ISSUER)
