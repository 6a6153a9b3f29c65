"""Member and customer voices (組合員・お客さまの声), staff notes and replies,
and the improvement items (業務改善課題) they lead to."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base, UTCDateTime, sql_in

VOICE_KINDS = ("thanks", "opinion", "complaint")
KIND_LABELS = {"thanks": "感謝・評価", "opinion": "意見・要望", "complaint": "苦情"}

VOICE_TOPICS = ("procedure", "claims", "staff_service", "products", "web", "mail", "call_centre", "other")
TOPIC_LABELS = {
    "procedure": "加入・契約手続き",
    "claims": "共済金の請求・支払",
    "staff_service": "職員・窓口の応対",
    "products": "商品・制度",
    "web": "マイページ・ホームページ",
    "mail": "郵送物・書類",
    "call_centre": "コールセンター",
    "other": "その他",
}

# Where the voice reached the co-op. The form on the website and My Page is "web".
VOICE_CHANNELS = ("web", "shop", "call_centre", "cs_office")
CHANNEL_LABELS = {
    "web": "ホームページ・マイページ",
    "shop": "共済ショップ",
    "call_centre": "コールセンター",
    "cs_office": "お客さま相談室",
}

VOICE_STATUSES = ("received", "in_progress", "answered", "closed")
STATUS_LABELS = {"received": "受付", "in_progress": "対応中", "answered": "回答済", "closed": "完了"}

CONTACT_KINDS = ("email", "phone")
REPLY_CHANNELS = ("sms", "voice", "mail", "record")  # record: answered by phone or in person, kept on file
REPLY_CHANNEL_LABELS = {"sms": "SMS", "voice": "音声電話", "mail": "メール", "record": "記録のみ（電話・対面で回答）"}

ITEM_PROGRESS = ("not_started", "in_progress", "done")
PROGRESS_LABELS = {"not_started": "未着手", "in_progress": "取組中", "done": "完了"}

# A complaint's first response is due within this many business days (Japanese calendar).
COMPLAINT_RESPONSE_BUSINESS_DAYS = 2


class ImprovementItem(Base):
    """業務改善課題: set by the CS improvement committee in answer to voices."""

    __tablename__ = "improvement_items"
    __table_args__ = (CheckConstraint(f"progress IN {sql_in(ITEM_PROGRESS)}", name="progress"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    progress: Mapped[str] = mapped_column(String(12), default="not_started")
    progress_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner = relationship("StaffUser")
    voices: Mapped[list[Voice]] = relationship(back_populates="improvement_item", order_by="Voice.received_at")

    @property
    def progress_label(self) -> str:
        return PROGRESS_LABELS[self.progress]


class Voice(Base):
    __tablename__ = "voices"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_in(VOICE_KINDS)}", name="kind"),
        CheckConstraint(f"topic IN {sql_in(VOICE_TOPICS)}", name="topic"),
        CheckConstraint(f"channel IN {sql_in(VOICE_CHANNELS)}", name="channel"),
        CheckConstraint(f"status IN {sql_in(VOICE_STATUSES)}", name="status"),
        CheckConstraint(f"contact_kind IS NULL OR contact_kind IN {sql_in(CONTACT_KINDS)}", name="contact_kind"),
        CheckConstraint("kind <> 'complaint' OR wants_reply", name="complaint_wants_reply"),
        # The yearly report: one index-only scan over a business year gives every count.
        Index("ix_voices_received_on_dims", "received_on", "kind", "topic", "channel"),
        Index("ix_voices_kind_received_on", "kind", "received_on"),
        Index("ix_voices_topic_received_on", "topic", "received_on"),
        Index("ix_voices_channel_received_on", "channel", "received_on"),
        # The staff inbox: open voices newest first, complaints on top.
        Index("ix_voices_status_received_at", "status", "received_at"),
        Index("ix_voices_member_received_at", "member_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    topic: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(12), default="web")
    status: Mapped[str] = mapped_column(String(12), default="received")
    body: Mapped[str] = mapped_column(Text)
    wants_reply: Mapped[bool] = mapped_column(default=False)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id", ondelete="SET NULL"))
    # Visitors who are not signed in (and voices staff register) leave a name and a contact.
    contact_name: Mapped[str | None] = mapped_column(String(60))
    contact_kind: Mapped[str | None] = mapped_column(String(5))
    contact: Mapped[str | None] = mapped_column(String(254))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The Tokyo calendar date of received_at: business years and months are Tokyo dates.
    received_on: Mapped[date] = mapped_column(Date)
    response_due_on: Mapped[date | None] = mapped_column(Date)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assignee_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    registered_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    improvement_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("improvement_items.id", ondelete="SET NULL"), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    member = relationship("Member")
    contract = relationship("Contract")
    assignee = relationship("StaffUser", foreign_keys=[assignee_staff_id])
    registered_by = relationship("StaffUser", foreign_keys=[registered_by_staff_id])
    improvement_item: Mapped[ImprovementItem | None] = relationship(back_populates="voices")
    notes: Mapped[list[VoiceNote]] = relationship(
        back_populates="voice", order_by="VoiceNote.id", cascade="all, delete-orphan")
    replies: Mapped[list[VoiceReply]] = relationship(
        back_populates="voice", order_by="VoiceReply.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def topic_label(self) -> str:
        return TOPIC_LABELS[self.topic]

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS[self.channel]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    def is_overdue(self, on: date) -> bool:
        """A complaint still without a first response after its due date."""
        return (self.response_due_on is not None and self.first_response_at is None
                and self.status != "closed" and on > self.response_due_on)


class VoiceNote(Base):
    """Internal notes: staff only, never shown to the member."""

    __tablename__ = "voice_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    voice_id: Mapped[int] = mapped_column(ForeignKey("voices.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    voice: Mapped[Voice] = relationship(back_populates="notes")
    staff = relationship("StaffUser")


class VoiceReply(Base):
    """A reply to the member or visitor: sent by their channel and shown on their /voices."""

    __tablename__ = "voice_replies"
    __table_args__ = (CheckConstraint(f"channel IN {sql_in(REPLY_CHANNELS)}", name="channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    voice_id: Mapped[int] = mapped_column(ForeignKey("voices.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    body: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(6))
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    voice: Mapped[Voice] = relationship(back_populates="replies")
    staff = relationship("StaffUser")

    @property
    def channel_label(self) -> str:
        return REPLY_CHANNEL_LABELS[self.channel]
