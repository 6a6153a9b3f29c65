"""Queued notices (the outbox) and how each member wants each kind of notice."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.db import Base, UTCDateTime, sql_in

CHANNELS = ("sms", "voice", "mail")


class OutboxMessage(Base):
    """A notice written in the same transaction as its procedure, sent after commit.

    `deliver-outbox` retries the ones a provider outage left behind.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint("channel IN ('sms', 'voice', 'mail')", name="channel"),
        CheckConstraint("status IN ('queued', 'sent', 'failed')", name="status"),
        Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(5))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(6), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# post: on paper only; sms / mail: electronically (and no paper); none: not at all.
PREFERENCE_CHANNELS = ("post", "sms", "mail", "none")
CHANNEL_LABELS = {"post": "郵送", "sms": "SMS", "mail": "メール", "none": "受け取らない"}
# Topics a member may choose for. Legally required notices are not among them.
TOPICS = ("marketing", "procedure", "certificate")
TOPIC_LABELS = {
    "marketing": "ダイレクトメール・組合員向け情報誌",
    "procedure": "お手続きのお知らせ（受付・状況の変化）",
    "certificate": "共済掛金証明書のお知らせ",
}


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"
    __table_args__ = (
        CheckConstraint(f"marketing_channel IN {sql_in(PREFERENCE_CHANNELS)}", name="marketing_channel"),
        CheckConstraint(f"procedure_channel IN {sql_in(PREFERENCE_CHANNELS)}", name="procedure_channel"),
        CheckConstraint(f"certificate_channel IN {sql_in(PREFERENCE_CHANNELS)}", name="certificate_channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), unique=True)
    marketing_channel: Mapped[str] = mapped_column(String(5), default="post")
    procedure_channel: Mapped[str] = mapped_column(String(5), default="sms")
    certificate_channel: Mapped[str] = mapped_column(String(5), default="post")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def channel_for(self, topic: str) -> str:
        return getattr(self, f"{topic}_channel")
