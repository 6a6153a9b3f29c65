"""Server-side sign-in sessions: the cookie holds only a random id.

Logging out, or a password or phone change, ends the row, so a captured cookie
replayed afterwards opens nothing.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base, UTCDateTime, sql_in


class AuthSession(Base):
    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    # Impersonation: a staff session acting for a member.
    acting_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    acting_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acting_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Step-up: when the member last proved themself with a fresh code or password.
    reauthenticated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(30))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    # Whoever the session signs in, loaded with it in one query (sessions.current).
    # Named by string: the staff console's model is not imported by sign-in.
    member = relationship("Member", foreign_keys=[member_id], lazy="raise", viewonly=True)
    staff = relationship("StaffUser", foreign_keys=[staff_id], lazy="raise", viewonly=True)


CODE_PURPOSES = ("signup", "login", "reset", "phone_change", "reauth")
CODE_CHANNELS = ("sms", "voice")
CODE_STATUSES = ("active", "used", "replaced", "burned")


class CodeChallenge(Base):
    """One one-time code sent (or, for an unknown member, pretended to be sent).

    Only a fresh random seed is kept, never the code: the code is HOTP(HMAC(app key, seed), 0)
    (portal.auth.codes), so the row alone does not give it.
    A decoy challenge is what step 1 of signup and reset stores when the data do
    not match, so both answers do the same work and look the same; it never verifies.
    """

    __tablename__ = "code_challenges"
    __table_args__ = (
        CheckConstraint(f"purpose IN {sql_in(CODE_PURPOSES)}", name="purpose"),
        CheckConstraint(f"channel IN {sql_in(CODE_CHANNELS)}", name="channel"),
        CheckConstraint(f"status IN {sql_in(CODE_STATUSES)}", name="status"),
        Index("ix_code_challenges_phone_created", "phone", "created_at"),
        Index("ix_code_challenges_ip_created", "ip", "created_at"),
        Index("ix_code_challenges_throttle_key_created", "throttle_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(12))
    channel: Mapped[str] = mapped_column(String(5))
    phone: Mapped[str] = mapped_column(String(11))  # national digits
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    # Send limits and lockout count per (number, who asked): SHA-256 of the number and the
    # identifier typed at signup/reset, or of the number and the signed-in member. A stranger
    # who knows only the number fills a bucket of their own, never the member's.
    throttle_key: Mapped[str] = mapped_column(String(64), default="")
    secret: Mapped[str] = mapped_column(String(32))  # a random seed (portal.auth.codes)
    is_decoy: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(8), default="active")
    wrong_attempts: Mapped[int] = mapped_column(Integer, default=0)
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CodeFailure(Base):
    """A wrong code entry; 10 per member (real challenges only) or per throttle key in
    24 h lock code entry for 30 minutes (portal.auth.codes)."""

    __tablename__ = "code_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(11), index=True)
    throttle_key: Mapped[str] = mapped_column(String(64), default="", index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class KnownDevice(Base):
    """A browser where the member has signed in with a code (remembered 90 days).

    The browser keeps a signed random token in a cookie; only its SHA-256 is stored.
    """

    __tablename__ = "known_devices"
    __table_args__ = (UniqueConstraint("member_id", "token_hash", name="uq_known_devices_member_token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SignInThrottle(Base):
    """Failed password (or staff TOTP) sign-ins for one account, for a growing delay.

    `key` is the SHA-256 of the account ('member:<id>', 'login:<typed id>' when no
    member has it, 'staff:<e-mail>', 'staff-totp:<id>'), so typed garbage is not kept.
    """

    __tablename__ = "sign_in_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


SIGN_IN_METHODS = ("password", "passkey", "code")


class SignInEvent(Base):
    """One sign-in or failed attempt, for the member's sign-in history."""

    __tablename__ = "sign_in_events"
    __table_args__ = (
        CheckConstraint(f"method IN {sql_in(SIGN_IN_METHODS)}", name="method"),
        Index("ix_sign_in_events_member_occurred", "member_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(10))
    is_success: Mapped[bool] = mapped_column(default=True)
    is_new_device: Mapped[bool] = mapped_column(default=False)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
